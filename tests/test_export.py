"""Export: formula neutralisation, RFC 4180 quoting, atomic commit, schema validation."""

from __future__ import annotations

import pandas as pd
import pandera.errors
import pytest

from pipeline.export import OutputSet, TableWriter, neutralise


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")'])
def test_formula_cells_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


def test_plain_cells_untouched():
    assert neutralise("Moscow said") == "Moscow said" and neutralise(3) == 3


def _err(reason, line=1):
    return {"path": "p, with \"quotes\"", "line": line, "stage": "ingest", "severity": "error", "article_id": "", "reason": reason}


def test_csv_round_trip_and_atomic_commit(tmp_path):
    w = TableWriter(tmp_path, "errors", "csv", buffer_rows=2)
    w.write([_err("line one\nline two")])
    assert not (tmp_path / "errors.csv.partial").exists()  # buffered
    w.write([_err("=cmd()", None)])  # the buffer is full: validated and written
    assert not (tmp_path / "errors.csv").exists() and (tmp_path / "errors.csv.partial").exists()
    w.write([_err("third", 3)])
    w.commit()
    assert not (tmp_path / "errors.csv.partial").exists()
    df = pd.read_csv(tmp_path / "errors.csv", keep_default_na=False)
    assert len(df) == 3 and df.reason[0] == "line one\nline two" and df.reason[1] == "'=cmd()"
    assert df.path[0] == 'p, with "quotes"'
    raw = (tmp_path / "errors.csv").read_bytes()
    assert raw.count(b"\r\n") >= 4 and raw.startswith(b"path,line,stage,severity,article_id,reason\r\n")
    assert b'"p, with ""quotes"""' in raw  # RFC 4180: quoted, inner quotes doubled


def test_abort_leaves_no_file(tmp_path):
    out = OutputSet(tmp_path, ("errors",), "csv")
    out.write("errors", [_err("x")])
    out.abort()
    assert list(tmp_path.iterdir()) == []


def test_schema_rejects_bad_rows(tmp_path):
    w = TableWriter(tmp_path, "errors", "csv")
    w.write([{**_err("x"), "severity": "fatal"}])
    with pytest.raises(pandera.errors.SchemaErrors):
        w.commit()  # validated when the buffer is written, before anything reaches the file
    assert not (tmp_path / "errors.csv").exists()


def test_schema_error_in_one_table_leaves_no_final_file_of_any(tmp_path):
    from pipeline.runner import OUTPUT_TABLES

    out = OutputSet(tmp_path, OUTPUT_TABLES, "csv")
    out.write("errors", [_err("fine")])
    out.write("records", [{"article_id": "a", "sentence_id": 0, "actor_a": "RUS", "actor_b": "USA", "pair_source": "explicit",
                           "source_actor": "", "target_actor": "",
                           "topic": "general", "stance": "bogus", "score": 0.0, "p_convergence": 0.3, "p_divergence": 0.3,
                           "p_neutral": 0.3, "p_none": 0.1, "cues": "", "evidence": "x", "section": "", "block_kind": "paragraph",
                           "start": 0, "end": 1, "model_id": "m"}])
    with pytest.raises(pandera.errors.SchemaErrors):
        out.commit()
    out.abort()
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".partial")] == []
