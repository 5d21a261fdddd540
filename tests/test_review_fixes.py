"""Regression tests for problems found in review: each reproduces a reported failure."""

from __future__ import annotations

import json

import pandas as pd

from conftest import SEED, run_cli
from pipeline.checking import check_rows
from pipeline.contracts import Article, ErrorEntry
from pipeline.ingestion import ingest, unique_articles
from pipeline.ingestion.html import html_to_text


def _split(items):
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, ErrorEntry)]


def test_deep_html_is_an_error_and_the_rest_goes_on(tmp_path, settings):
    (tmp_path / "deep.html").write_text("<div>" * 3000 + "x" + "</div>" * 3000, encoding="utf-8")
    (tmp_path / "ok.html").write_text("<p>Moscow and Washington agreed.</p>", encoding="utf-8")
    arts, errs = _split(list(ingest([tmp_path], settings)))
    assert [a.path.endswith("ok.html") for a in arts] == [True]
    assert len(errs) == 1 and "nested" in errs[0].reason


def test_html_text_outside_paragraphs_is_kept():
    _, text = html_to_text("<div>Moscow rejected the proposal.<br>Washington <b>said</b> it would respond.<p>Later.</p></div>")
    assert text.split("\n\n") == ["Moscow rejected the proposal.", "Washington said it would respond.", "Later."]


def test_jsonl_odd_records_never_stop_the_file(tmp_path, settings):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join([
        '{"id": "s", "text": "Russia and the US met. \\ud83d"}',
        '{"id": "big", "text": "x", "n": ' + "9" * 5000 + "}",
        json.dumps({"id": "long", "text": "word " * 60_000}),
        json.dumps({"id": "ok", "text": "The Kremlin welcomed the talks."}),
    ]) + "\n", encoding="utf-8")
    arts, errs = _split(list(ingest([p], settings)))
    assert [a.id for a in arts] == ["s", "ok"] and "\ufffd" in arts[0].text
    assert {e.line for e in errs} == {2, 3} and "paragraph of" in [e for e in errs if e.line == 3][0].reason


def test_csv_bad_record_does_not_drop_later_rows(tmp_path, small_settings):
    small_settings.values["ingest"]["max_record_bytes"] = 1000
    p = tmp_path / "a.csv"
    p.write_text('id,text\n1,"Russia met the US."\n2,"' + "y" * 200_000 + '"\n3,"Moscow agreed."\n4,"Washington agreed."\n', encoding="utf-8")
    arts, errs = _split(list(ingest([p], small_settings)))
    assert [a.id for a in arts] == ["1", "3", "4"] and len(errs) == 1


def test_csv_encoding_is_judged_on_the_whole_file(tmp_path, settings):
    p = tmp_path / "late.csv"
    p.write_bytes(("id,text\n" + "".join(f'{i},"Plain text {i}."\n' for i in range(800)) + '900,"Caf\xe9 talks in Moscow."\n').encode("cp1252"))
    arts, _ = _split(list(ingest([p], settings)))
    assert "Café" in arts[-1].text and any("not valid UTF-8" in w for w in arts[-1].warnings)


def test_same_file_twice_and_duplicate_ids(tmp_path, settings):
    f = tmp_path / "a.jsonl"
    f.write_text('{"id": "a1", "text": "One."}\n{"id": "a2", "text": "Two."}\n{"id": "a1", "text": "Other."}\n{"id": "a2", "text": "Two."}\n', encoding="utf-8")
    items = list(unique_articles(ingest([f, str(tmp_path / "*.jsonl")], settings)))
    arts, errs = _split(items)
    assert [a.id for a in arts] == ["a1", "a2"]
    assert sorted(e.severity for e in errs) == ["error", "warning"]


def test_check_uses_only_the_tables_own_pair():
    table = [{"article_id": "a", "table_index": 0, "row_index": 0, "topic_cell": "Trade", "topic": "trade",
              "actor_a": "RUS", "actor_b": "USA", "stance": "divergence"}]
    other_pair = [{"article_id": "a", "sentence_id": 1, "actor_a": "CHN", "actor_b": "RUS", "topic": "trade", "score": 0.9,
                   "stance": "convergence", "p_none": 0.1, "block_kind": "paragraph"}]
    (row,) = check_rows(table, other_pair)
    assert row["status"] == "missing"


def test_jsonl_output_is_strict_json(tmp_path):
    out = tmp_path / "o"
    run_cli("run", str(SEED), "-o", str(out), "--format", "jsonl", "-q")
    for name in ("check", "records", "topics"):
        for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_export_until_includes_datetimes_and_rejects_foreign_files(tmp_path):
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"id": "t1", "text": "Russia and the US met.", "date": "2024-03-01T10:00:00"}) + "\n"
                   + json.dumps({"id": "t2", "text": "Moscow and Washington met.", "date": "2024-03-02"}) + "\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    run_cli("run", str(src), "-o", str(tmp_path / "r"), "--store", str(store), "-q")
    run_cli("export", "--store", str(store), "-o", str(tmp_path / "e"), "--until", "2024-03-01", "-q")
    assert list(pd.read_csv(tmp_path / "e" / "articles.csv").article_id) == ["t1"]
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    p = run_cli("export", "--store", str(junk), "-o", str(tmp_path / "x"), check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr
