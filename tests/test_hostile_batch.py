"""Hostile batches (issue 13): faults that used to lose a batch, hang it or mislead.

Each test names the fault and what it gave before the fix. They run through the real
command line where the fault is one a user meets there.
"""

from __future__ import annotations

import json
import os
import sys

import pandas as pd
import pytest

from conftest import run_cli

ARTICLE = "The United States and Russia agreed to extend the New START treaty. Moscow welcomed the deal.\n"


def _read(out, name):
    return pd.read_csv(out / f"{name}.csv", keep_default_na=False, dtype=str)


# 1. text that is not valid UTF-8 reaching an output ---------------------------------------

def test_lone_surrogates_and_undecodable_file_names_reach_every_output(tmp_path):
    """Before: UnicodeEncodeError in the Arrow writer, rc 1, no outputs at all."""
    d = tmp_path / "in"
    d.mkdir()
    lines = [
        '{"id": "sur\\ud800rogate", "text": "Russia and the US signed a deal.", "source": "src\\udfff", "url": "http://x/\\ud83d"}',
        json.dumps({"id": " x", "text": ARTICLE}),
        json.dumps({"id": "\tx", "text": ARTICLE.replace("Moscow", "The Kremlin")}),
        json.dumps({"id": "x", "text": ARTICLE.replace("welcomed", "praised")}),
    ]
    (d / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad_name = os.fsencode(str(d)) + b"/caf\xe9.txt"  # a Latin-1 file name on a UTF-8 system
    with open(bad_name, "wb") as fh:
        fh.write(ARTICLE.encode())
    out = tmp_path / "out"
    p = run_cli("run", str(d), "-o", str(out), "-q", check=False)
    assert p.returncode == 0, p.stderr
    arts = _read(out, "articles")
    assert len(arts) == 5
    ids = set(arts.article_id)
    # ids are kept exactly as given: " x", "\tx" and "x" are three articles
    # (before: " x" and "\tx" lost their first character and collided with "x")
    assert {"x", "'\tx"} <= ids or {"x", "\tx"} <= ids  # a leading tab is neutralised for spreadsheets
    assert " x" in ids
    assert "sur\\ud800rogate" in ids  # the lone surrogate is written as its escape
    row = arts[arts.article_id == "sur\\ud800rogate"].iloc[0]
    assert row.source == "src\\udfff" and row.url == "http://x/\\ud83d"
    assert any("caf\\udce9.txt" in path for path in arts.path)
    for name in ("sentences", "records"):  # and every table could be written
        assert len(_read(out, name))
    j = json.loads(out.joinpath("run.json").read_text())
    assert j["counts"]["articles_processed"] == 5


# 2. only regular files are read; the size limit holds while reading -------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_fifo_and_devices_are_error_rows_not_hangs(tmp_path):
    """Before: a FIFO hung the batch for ever; a link to /dev/zero named .jsonl exhausted
    memory, named .txt it climbed to 3.4 GB."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "good.txt").write_text(ARTICLE, encoding="utf-8")
    os.mkfifo(d / "pipe.txt")
    os.symlink("/dev/zero", d / "zero.jsonl")
    os.symlink("/dev/zero", d / "zero.txt")
    out = tmp_path / "out"
    p = run_cli("run", str(d), str(d / "pipe.txt"), "-o", str(out), "-q", check=False)  # also named explicitly
    assert p.returncode == 0, p.stderr
    err = _read(out, "errors")
    hard = err[err.severity == "error"]
    reasons = dict(zip(hard.path.map(os.path.basename), hard.reason))
    assert "FIFO" in reasons["pipe.txt"] and "character device" in reasons["zero.jsonl"] and "character device" in reasons["zero.txt"]
    assert len(_read(out, "articles")) == 1


def test_size_limit_applies_while_reading_not_from_stat(tmp_path, small_settings):
    """A file whose stat says small but that reads on (as /proc files do) stops at the limit."""
    from pipeline.ingestion import InputError, _read_file

    settings = small_settings
    settings.values["ingest"]["max_file_bytes"] = 1000
    f = tmp_path / "grows.txt"
    f.write_bytes(b"word " * 1000)  # 5,000 bytes
    with pytest.raises(InputError, match="too large"):
        _read_file(f, settings)


def test_jsonl_line_over_the_limit_is_skipped_without_holding_it(tmp_path, small_settings):
    from pipeline.contracts import ErrorEntry
    from pipeline.ingestion import ingest

    small_settings.values["ingest"]["max_record_bytes"] = 200
    f = tmp_path / "a.jsonl"
    f.write_text(json.dumps({"id": "big", "text": "x " * 5000}) + "\n" + json.dumps({"id": "ok", "text": ARTICLE}) + "\n")
    items = list(ingest([f], small_settings))
    errs = [i for i in items if isinstance(i, ErrorEntry)]
    arts = [i for i in items if not isinstance(i, ErrorEntry)]
    assert [a.id for a in arts] == ["ok"] and arts[0].line == 2
    assert len(errs) == 1 and errs[0].line == 1 and "line too large" in errs[0].reason


# 5. unreadable folders and output folders -------------------------------------------------

def test_unreadable_directory_is_an_error_row(tmp_path, monkeypatch):
    """Before: a folder that cannot be listed vanished (inputs_read 0, rc 0). Tested by the
    error that os.walk reports (running as root, chmod cannot make a folder unreadable)."""
    from pipeline.ingestion.discover import discover

    d = tmp_path / "in"
    (d / "locked").mkdir(parents=True)
    (d / "a.txt").write_text(ARTICLE)
    real_scandir = os.scandir

    def scandir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = list(discover([d]))
    errors = [f for f in found if hasattr(f, "reason")]
    assert [f.name for f in found if not hasattr(f, "reason")] == ["a.txt"]
    assert len(errors) == 1 and "cannot read directory" in errors[0].reason and errors[0].path.endswith("locked")


def test_unreadable_directory_argument_is_an_error_row(tmp_path, monkeypatch):
    import importlib

    disc = importlib.import_module("pipeline.ingestion.discover")
    d = tmp_path / "locked"
    d.mkdir()
    monkeypatch.setattr(disc.os, "access", lambda p, mode: False)
    (err,) = list(disc.discover([d]))
    assert "cannot read directory" in err.reason and err.severity == "error"


def test_output_folder_inside_the_input_is_never_read_back(tmp_path):
    """Before: a second run over the input folder read the first run's outputs (22 articles
    became 1,179)."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text(ARTICLE)
    (d / "b.txt").write_text(ARTICLE.replace("welcomed", "rejected"))
    out = d / "out"
    run_cli("run", str(d), "-o", str(out), "-q", "--format", "jsonl")
    assert (out / ".stance-output").exists()
    out2 = tmp_path / "out2"
    run_cli("run", str(d), "-o", str(out2), "-q")
    assert len(_read(out2, "articles")) == 2
    err = _read(out2, "errors")
    assert (err.reason.str.contains("output folder of a stance run") & (err.severity == "warning")).any()
    p = run_cli("run", str(out), "-o", str(tmp_path / "out3"), "-q", check=False)  # named explicitly: an error row
    assert p.returncode == 1 and "every input failed" in p.stderr


# mistakes: one clear line, rc 2 (or rc 1 when every input failed) ---------------------------

def test_output_dir_that_is_a_file_or_not_creatable(tmp_path):
    """Before: a 40-line traceback after all the processing."""
    a = tmp_path / "a.txt"
    a.write_text(ARTICLE)
    f = tmp_path / "afile"
    f.write_text("x")
    for out in (f, f / "sub"):
        p = run_cli("run", str(a), "-o", str(out), "-q", check=False)
        assert p.returncode == 2, p.stderr
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert p.stderr.startswith("error: ")


def test_output_dir_not_writable_is_found_before_the_work(tmp_path, monkeypatch):
    from pipeline.cli.run import output_problem

    out = tmp_path / "o"
    out.mkdir()
    monkeypatch.setattr(os, "access", lambda p, mode: False)
    assert "not writable" in output_problem(out)
    assert "not writable" in output_problem(out / "new" / "sub")
    assert not (out / "new").exists()  # nothing is created by the check


def test_every_input_failed_exits_one_with_a_summary(tmp_path):
    (tmp_path / "e.txt").write_bytes(b"")
    (tmp_path / "b.txt").write_bytes(bytes(range(256)))
    out = tmp_path / "out"
    p = run_cli("run", str(tmp_path / "e.txt"), str(tmp_path / "b.txt"), "-o", str(out), "-q", check=False)
    assert p.returncode == 1
    assert "every input failed (2)" in p.stderr and "errors.csv" in p.stderr
    assert len(_read(out, "errors")) == 2  # the outputs are still written


@pytest.mark.parametrize("card", ["[]", '{"model_file": null}', "{not json"])
def test_malformed_model_card_is_one_line(tmp_path, card):
    import shutil

    from conftest import MODEL, SEED

    bad = tmp_path / "m"
    shutil.copytree(MODEL, bad)
    (bad / "card.json").write_text(card)
    p = run_cli("run", str(SEED), "-o", str(tmp_path / "o"), "--model", str(bad), "-q", check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "card.json" in p.stderr
