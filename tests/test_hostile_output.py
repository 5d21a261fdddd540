"""Unbreakable batches, output side: formula-safe cells everywhere (full-width and
whitespace-led forms too, `stance segment` on stdout included), `stance export` refusing
unknown actor / topic codes with a suggestion, and news / RFC 2822 dates read without
inventing a day, month or year."""

from __future__ import annotations

import csv
import io
import json
import shutil
import unicodedata

import pandas as pd
import pytest

from conftest import SEED, run_cli
from pipeline.export import neutralise, neutralise_frame

# ---------------------------------------------------------------------------
# 1. formula safety

RISKY = [
    "=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx",  # the ASCII forms (tests/test_export.py)
    "\n=HYPERLINK(\"http://x\",\"y\")", " =1+1", "  \t@SUM(A1)", "\r\n+cmd", "\u3000=1+1", "\ufeff=1+1",
    "＝1+1", "＋cmd", "－2+3", "＠SUM(A1)", "﹦1+1", " ＝1+1", "\n＠x",
]
SAFE = ["Moscow said", "a=b", " Moscow", "\nMoscow", "", "＄1", "1+1"]


def _formula_like(cell: str) -> bool:
    """What a spreadsheet might run: after blanks, a (possibly full-width) = + - @."""
    head = cell.lstrip().lstrip("\ufeff")
    return cell.startswith(("\t", "\r")) or unicodedata.normalize("NFKC", head[:1]) in ("=", "+", "-", "@")


@pytest.mark.parametrize("cell", RISKY)
def test_neutralise_folds_full_width_and_skips_blanks(cell):
    assert neutralise(cell) == "'" + cell  # the existing style: one apostrophe in front, the text kept


@pytest.mark.parametrize("cell", SAFE)
def test_neutralise_leaves_plain_text(cell):
    assert neutralise(cell) == cell


def test_neutralise_frame_agrees_with_neutralise():
    df = pd.DataFrame({"t": RISKY + SAFE, "n": range(len(RISKY) + len(SAFE))})
    out = neutralise_frame(df)
    assert list(out.t) == [neutralise(c) for c in RISKY + SAFE]
    assert list(out.n) == list(df.n)  # numbers are not text cells
    assert list(df.t) == RISKY + SAFE  # the input frame is not changed


@pytest.fixture(scope="module")
def hostile_input(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile_out")
    p = d / "in.jsonl"
    rows = [
        {"id": "cmd", "text": "The US and Russia agreed on Monday.\n\n=cmd|' /C calc'!A0 was written in the file."},
        {"id": "wide", "text": "＝1+1 is a full-width formula.\n\n＠SUM(A1) is another one."},
        {"id": "\n=HYPERLINK(\"http://x\",\"y\")", "text": "An article whose id starts with a newline and a formula."},
        {"id": " +1", "text": "Plain text."},
    ]
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return p


def test_segment_stdout_has_a_header_and_neutralised_cells(hostile_input):
    proc = run_cli("segment", str(hostile_input), "-q")
    table = list(csv.reader(io.StringIO(proc.stdout), delimiter="\t"))
    assert table[0] == ["article_id", "sentence_id", "block_kind", "section", "start", "end", "text"]
    body = table[1:]
    assert len(body) >= 6 and all(len(r) == 7 for r in body)
    for row in body:
        for cell in row:
            assert not _formula_like(cell), row
    texts = [r[6] for r in body]
    assert any(t.startswith("'=cmd|' /C calc'!A0") for t in texts)
    assert any(t.startswith("'＝1+1") for t in texts) and any(t.startswith("'＠SUM(A1)") for t in texts)
    ids = {r[0] for r in body}
    assert "'\n=HYPERLINK(\"http://x\",\"y\")" in ids and "' +1" in ids  # kept exactly, with one apostrophe


def test_segment_file_neutralises_the_same_cells(hostile_input, tmp_path):
    out = tmp_path / "seg.csv"
    run_cli("segment", str(hostile_input), "-o", str(out), "-q")
    df = pd.read_csv(out, keep_default_na=False, dtype=str)
    for col in ("article_id", "block_kind", "section", "text"):
        assert not df[col].map(_formula_like).any(), col
    assert df.text.str.startswith("'＝1+1").any() and df.text.str.startswith("'=cmd|").any()
    assert "'\n=HYPERLINK(\"http://x\",\"y\")" in set(df.article_id)
    # the stdout table is the file's table
    std = pd.read_csv(io.StringIO(run_cli("segment", str(hostile_input), "-q").stdout), sep="\t", keep_default_na=False, dtype=str)
    pd.testing.assert_frame_equal(std, df)


# ---------------------------------------------------------------------------
# 2. `stance export` refuses unknown actor / topic codes


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("export_codes")
    s = d / "s.duckdb"
    run_cli("run", str(SEED), "-o", str(d / "run"), "--store", str(s), "-q")
    return s


@pytest.mark.parametrize("flag,value,message", [
    ("--actor", "rus", "error: no such actor 'rus'; did you mean RUS?"),
    ("--topic", "sanction", "error: no such topic 'sanction'; did you mean sanctions?"),
    ("--topic", "ARMS_CONTROL", "error: no such topic 'ARMS_CONTROL'; did you mean arms_control?"),
])
def test_export_unknown_code_is_refused_with_a_suggestion(store, tmp_path, flag, value, message):
    out = tmp_path / "o"
    p = run_cli("export", "--store", str(store), "-o", str(out), flag, value, check=False)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.strip().splitlines() == [message]
    assert not out.exists()  # nothing written


def test_export_unknown_code_without_a_close_match(store, tmp_path):
    p = run_cli("export", "--store", str(store), "-o", str(tmp_path / "o"), "--actor", "QQQQQQQ", check=False)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert p.stderr.startswith("error: no such actor 'QQQQQQQ'") and "did you mean" not in p.stderr


def test_export_known_codes_still_work(store, tmp_path):
    out = tmp_path / "o"
    run_cli("export", "--store", str(store), "-o", str(out), "--actor", "RUS", "-q")
    recs = pd.read_csv(out / "records.csv", keep_default_na=False)
    assert len(recs) > 0 and ((recs.actor_a == "RUS") | (recs.actor_b == "RUS")).all()
    # a vocabulary code with no rows in the store is known: 0 rows, rc 0
    run_cli("export", "--store", str(store), "-o", str(tmp_path / "o2"), "--actor", "NZL", "--topic", "human_rights", "-q")
    assert len(pd.read_csv(tmp_path / "o2" / "records.csv")) == 0
    # the fallback topic of sentences without one ([records] no_topic) is a topic id too
    run_cli("export", "--store", str(store), "-o", str(tmp_path / "o3"), "--topic", "general", "-q")


def test_export_accepts_codes_found_only_in_the_data(store, tmp_path):
    import duckdb

    copy = tmp_path / "c.duckdb"
    shutil.copy(store, copy)
    con = duckdb.connect(str(copy))
    con.execute("update records set source_actor = case when source_actor = actor_b then 'ZZX1' else source_actor end, "
                "target_actor = case when target_actor = actor_b then 'ZZX1' else target_actor end, "
                "actor_b = 'ZZX1', topic = 'local_topic' where rowid = (select min(rowid) from records)")
    con.close()
    out = tmp_path / "o"
    run_cli("export", "--store", str(copy), "-o", str(out), "--actor", "ZZX1", "--topic", "local_topic", "-q")
    assert len(pd.read_csv(out / "records.csv")) == 1


# ---------------------------------------------------------------------------
# 3. dates


@pytest.mark.parametrize("value,expected", [
    ("2022-12-05", "2022-12-05"),
    ("2022-12-05T10:00:00Z", "2022-12-05T10:00:00+00:00"),
    ("Mon, 05 Dec 2022 10:00:00 GMT", "2022-12-05T10:00:00+00:00"),
    ("Mon, 05 Dec 2022 10:00:00 +0300", "2022-12-05T10:00:00+03:00"),
    ("December 5, 2022", "2022-12-05"),
    ("5 December 2022", "2022-12-05"),
    ("Dec. 5, 2022", "2022-12-05"),
    ("Sept. 5, 2022", "2022-09-05"),
    ("Monday, December 5, 2022", "2022-12-05"),
    ("5 Dec 2022 10:30", "2022-12-05T10:30:00"),
    ("25/12/2022", "2022-12-25"),  # unambiguous: 25 is no month
    ("2022/12/05", "2022-12-05"),
])
def test_iso_date_reads_news_and_rfc2822_dates(value, expected):
    from pipeline.ingestion import _iso_date

    assert _iso_date(value) == (expected, None)


@pytest.mark.parametrize("value", [
    "December", "2022", "December 2022", "Dec 2022", "December 5", "5", "10:00", "2022-12",  # partial: no day / month / year
    "yesterday", "garbage", "Moscow, Monday", "5 June 2021 Moscow", "1 2 3", "13 2 3",  # no date in it
    "05/12/2022", "12.05.2022",  # day and month could be swapped
    "December 45, 2022", "Feb 30, 2022",  # no such day
])
def test_iso_date_invents_nothing(value):
    from pipeline.ingestion import _iso_date

    date, warning = _iso_date(value)
    assert date is None and warning and "date" in warning and "left empty" in warning


def test_jsonl_dates_through_ingestion(tmp_path, settings):
    from pipeline.contracts import ErrorEntry
    from pipeline.ingestion import ingest

    p = tmp_path / "d.jsonl"
    dates = ["Mon, 05 Dec 2022 10:00:00 GMT", "December 5, 2022", "December 2022"]
    p.write_text("".join(json.dumps({"id": f"d{i}", "text": "Russia and the US agreed.", "date": d}) + "\n"
                         for i, d in enumerate(dates)), encoding="utf-8")
    arts = [a for a in ingest([p], settings) if not isinstance(a, ErrorEntry)]
    assert [a.date for a in arts] == ["2022-12-05T10:00:00+00:00", "2022-12-05", None]
    assert not arts[0].warnings and not arts[1].warnings
    assert any("December 2022" in w and "left empty" in w for w in arts[2].warnings)
