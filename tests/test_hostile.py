"""Hostile input: a batch of broken, huge, tricky and malicious files, through the real CLI."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from conftest import MODEL, SEED, run_cli
from pipeline.ingestion import build_article
from pipeline.ingestion.layout import _ATX, _BOLD, _BULLET
from pipeline.ingestion.reading import normalise


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile") / "in dir ü"
    d.mkdir()
    (d / "empty.txt").write_bytes(b"")
    (d / "spaces.txt").write_bytes(b"   \n\n\t  \n")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (d / "latin1 é.txt").write_bytes("Le Kremlin a rejet\xe9 la proposition am\xe9ricaine. Moscow rejected it.".encode("latin-1"))
    with open(d / "huge.txt", "wb") as fh:  # 50 MB on one line
        chunk = b"word " * 200_000
        for _ in range(50):
            fh.write(chunk)
    rows = "\n".join(f"| Topic {i} | US view {i} | Russian view {i} |" for i in range(10_000))
    (d / "bigtable.md").write_text("Big table\n\nThe US and Russia discussed arms control.\n\n| Area | US Approach | Russian Aim |\n|---|---|---|\n" + rows + "\n", encoding="utf-8")
    (d / "ragged.md").write_text("Ragged\n\nWashington and Moscow talked.\n\n| a | b | c |\n|---|---|---|\n| 1 |\n| 1 | 2 | 3 | 4 |\n\n| no | separator |\n| just | pipes |\n", encoding="utf-8")
    (d / "page.html").write_text(
        "<html><body><script>alert('x')</script><article><h1>Title</h1><p>The Kremlin condemned Washington.</p>"
        "<table><tr><th>Area</th><th>US Position</th><th>Russian Position</th></tr><tr><td>Cyber<table><tr><td>inner</td></tr></table></td><td>a</td><td>b</td></tr></table>"
        "</article></body></html>", encoding="utf-8")
    lines = [json.dumps({"id": "ok1", "text": "Russia and the US agreed to talk."}), "{not json", json.dumps({"id": "w1", "text": ["a"]}),
             json.dumps({"id": "w2", "text": None}), json.dumps(17), json.dumps({"id": "ok2", "text": "NATO warned Moscow.", "date": 5})]
    (d / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "formula.csv").write_text('id,text\nf1,"=HYPERLINK(""http://evil"",""x"") The US and Russia signed a deal."\nf2,"@SUM(1) +1 -1 Moscow agreed."\n', encoding="utf-8")
    os.symlink(d, d / "loop")
    out = d.parent / "out"
    proc = run_cli("run", str(d), "-o", str(out), check=False)
    return d, out, proc


def test_no_traceback_and_exit_zero(hostile):
    _, _, proc = hostile
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_input_accounted_for(hostile):
    _, out, _ = hostile
    s = json.loads((out / "run.json").read_text())
    c = s["counts"]
    # articles: latin1, bigtable, ragged, page, ok1, ok2, f1, f2 = 8
    # failed: empty, spaces, binary, huge, 4 bad JSONL lines = 8
    assert c["articles_processed"] == 8, c
    assert c["inputs_failed"] == 8, c
    err = pd.read_csv(out / "errors.csv", keep_default_na=False)
    hard = err[err.severity == "error"]
    reasons = " | ".join(hard.reason)
    for expected in ("empty file", "binary file", "too large", "malformed JSON", "field 'text' is list", "field 'text' missing", "JSON int"):
        assert expected in reasons, expected
    warns = " | ".join(err[err.severity == "warning"].reason)
    assert "symlink loop" in warns and "not valid UTF-8" in warns and "cells, header has" in warns


def test_big_table_is_read_whole(hostile):
    _, out, _ = hostile
    t = pd.read_csv(out / "tables.csv", keep_default_na=False)
    big = t[t.header == "Area;US Approach;Russian Aim"]
    assert len(big) == 10_000
    assert set(big.actor_a) == {"RUS"} and set(big.actor_b) == {"USA"}


def test_outputs_are_valid_csv_with_formulas_neutralised(hostile):
    _, out, _ = hostile
    for name in ("articles", "sentences", "records", "relations", "topics", "tables", "check", "errors"):
        df = pd.read_csv(out / f"{name}.csv", keep_default_na=False, dtype=str)
        for col in df.columns:
            if pd.to_numeric(df[col], errors="coerce").notna().all():
                continue  # numbers such as -0.25 are not formulas
            assert not df[col].str.match(r"^[=+\-@\t\r]").any(), (name, col)
    s = pd.read_csv(out / "sentences.csv", keep_default_na=False)
    assert s.text.str.startswith("'=HYPERLINK").any() and s.text.str.startswith("'@SUM").any()
    assert not list(out.glob("*.partial"))


def test_tampered_or_foreign_model_is_refused(tmp_path):
    bad = tmp_path / "model"
    shutil.copytree(MODEL, bad)
    (bad / "sentence.skops").write_bytes(b"PK\x03\x04 not really a model")
    p = run_cli("run", str(SEED), "-o", str(tmp_path / "o"), "--model", str(bad), check=False)
    assert p.returncode == 2 and "tampered" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300) | st.lists(
    st.sampled_from(["# H", "Heading line", "- bullet: x", "1. item", "| a | b |", "|---|---|", "| 1 | 2 |", "", "Prose. More prose.", "  indented", "“Quote,” he said."]),
    max_size=12).map("\n".join)


@hsettings(max_examples=200, deadline=None)
@given(_text)
def test_property_ingestion_blocks_cover_text(text):
    """Blocks point at their text, do not overlap, and lose no non-space character
    (table blocks cover their rows; the separator line is inside the table block)."""
    if not normalise(text).strip():
        with pytest.raises(ValueError):
            build_article(text, path="p")
        return
    a = build_article(text, path="p")
    last = -1
    covered = set()
    for b in a.blocks:
        assert a.text[b.start:b.end] == b.text
        assert b.start > last
        last = b.end - 1
        covered |= set(range(b.start, b.end))
    syntax = set()  # list markers ("- ", "1. ") are layout, not content
    pos = 0
    for line in a.text.split("\n"):
        m = _BULLET.match(line)
        if m:
            syntax |= set(range(pos, pos + m.end()))
        h = _ATX.match(line.strip()) or _BOLD.match(line.strip())
        if h:  # "## " and "**" are markup around the heading text
            lead = len(line) - len(line.lstrip())
            inner = h.group(2).strip()
            k = line.strip().find(inner) if inner else len(line.strip())
            syntax |= set(range(pos, pos + lead + k)) | set(range(pos + lead + k + len(inner), pos + len(line)))
        pos += len(line) + 1
    for i, ch in enumerate(a.text):
        if not ch.isspace() and i not in syntax:
            assert i in covered, (i, ch, a.text)
