"""End to end through the real command line: `stance run`, `segment`, `classify`, `evaluate`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import ROOT, SEED, run_cli


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("seedrun")
    run_cli("run", str(SEED), "-o", str(out), "--quiet")
    return out


def _read(out, name):
    return pd.read_csv(out / f"{name}.csv", keep_default_na=False)


def test_seed_tables_have_actors_from_headers(seed_run):
    t = _read(seed_run, "tables")
    assert len(t) == 10
    assert list(t.groupby("table_index").size()) == [3, 3, 4]
    first = t[t.table_index == 0].iloc[0]
    assert {first.actor_a, first.actor_b} == {"RUS", "USA"}
    assert {first.column_a, first.column_b} == {"US Approach", "Russian Aim"}
    second = t[t.table_index == 1].iloc[0]
    assert {second.column_a, second.column_b} == {"US Focus", "Russian Response"}
    third = t[t.table_index == 2]
    assert (third.column_a == "").all() and (third.column_b == "").all()  # "Potential Outcome" is no actor
    assert third.other_cells.str.startswith("Potential Outcome:").all()
    assert (t.topic != "").all()


def test_seed_check_has_no_missing_topic(seed_run):
    c = _read(seed_run, "check")
    assert len(c) == 10
    assert (c.status != "missing").all(), c[["topic_cell", "topic", "status"]]


def test_seed_prose_on_cyber_and_arms_control_is_convergent(seed_run):
    t = _read(seed_run, "topics")
    pair = t[(t.actor_a == "RUS") & (t.actor_b == "USA")]
    for topic in ("cybersecurity", "arms_control"):
        row = pair[pair.topic == topic]
        assert len(row) == 1, topic
        assert row.iloc[0].net_stance == "convergence" and row.iloc[0].mean_score > 0


def test_seed_records_are_well_formed(seed_run):
    r = _read(seed_run, "records")
    assert len(r) > 20
    assert (r.actor_a < r.actor_b).all()
    assert set(r.pair_source) <= {"explicit", "implied", "intro"}
    assert (r.stance != "none").all()
    assert ((r.p_convergence + r.p_divergence + r.p_neutral + r.p_none - 1).abs() < 1e-5).all()
    rel = 1 - r.p_none  # the score is P(convergence) - P(divergence) among the three stances
    assert ((r.score - (r.p_convergence - r.p_divergence) / rel).abs() < 1e-5).all()
    directed = r[r.source_actor != ""]
    assert ((directed.source_actor == directed.actor_a) | (directed.source_actor == directed.actor_b)).all()
    assert (directed.source_actor != directed.target_actor).all()
    text = SEED.read_text(encoding="utf-8")
    s = _read(seed_run, "sentences")
    assert len(s[s.block_kind != "table"]) == 34
    for row in s.itertuples():
        assert text[row.start:row.end] == row.text


def test_run_json_accounts_for_every_input(tmp_path):
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "empty.txt").write_text("")
    (bad / "bin.txt").write_bytes(b"\x00\x01" * 50)
    (bad / "arts.jsonl").write_text('{"id": "j1", "text": "Washington and Moscow agreed to talk."}\n{oops\n', encoding="utf-8")
    (bad / "ok.txt").write_text("The Kremlin rejected the US proposal.", encoding="utf-8")
    out = tmp_path / "out"
    run_cli("run", str(bad), "-o", str(out), "--quiet")
    summary = json.loads((out / "run.json").read_text())
    c = summary["counts"]
    assert c["articles_processed"] == 2 and c["inputs_failed"] == 3 and c["inputs_read"] == 5
    e = _read(out, "errors")
    assert set(e[e.severity == "error"].reason.str[:12]) == {"empty file", "binary file ", "malformed JS"}
    assert not list(out.glob("*.partial"))


def test_formula_cells_are_neutralised(tmp_path):
    src = tmp_path / "f.csv"
    src.write_text('id,text\nf1,"=HYPERLINK(""http://x"",""click"") The US and Russia agreed."\n', encoding="utf-8")
    out = tmp_path / "o"
    run_cli("run", str(src), "-o", str(out), "--quiet")
    s = _read(out, "sentences")
    assert s.text.str.startswith("'=").any()
    assert not s.text.str.startswith("=").any()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_other_formats(tmp_path, fmt):
    out = tmp_path / fmt
    run_cli("run", str(SEED), "-o", str(out), "--format", fmt, "--quiet")
    df = pd.read_json(out / "records.jsonl", lines=True) if fmt == "jsonl" else pd.read_parquet(out / "records.parquet")
    assert len(df) > 20 and "actor_a" in df.columns


def test_segment_command(tmp_path):
    out = tmp_path / "s.csv"
    run_cli("segment", str(SEED), str(ROOT / "corpus/articles/sample_page.html"), str(ROOT / "corpus/articles/sample_articles.csv"), "-o", str(out), "-q")
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == ["article_id", "sentence_id", "block_kind", "section", "start", "end", "text"]
    assert df.article_id.nunique() == 5
    assert len(df[(df.block_kind != "table") & (df.article_id == df.article_id.iloc[0])]) == 34


def test_classify_and_evaluate_commands(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"text": ["Washington imposed sanctions on Moscow.", "The two sides agreed to extend the treaty.", "The meeting was held in Geneva."],
                  "stance": ["divergence", "convergence", "neutral"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    proc = run_cli("classify", str(src), "-o", str(out))
    df = pd.read_csv(out)
    # the gold column is kept as it was; the predictions go beside it
    assert list(df.columns) == ["text", "stance", "pred_stance", "pred_score", "pred_p_convergence", "pred_p_divergence", "pred_p_neutral"]
    assert df["stance"].tolist() == ["divergence", "convergence", "neutral"]
    same = (df["stance"] == df["pred_stance"]).sum()
    assert f"agreement with 'stance': {same / 3:.1%} ({same} of 3 labelled rows)" in proc.stderr
    # a second pass would take the same names: refused, nothing written
    again = run_cli("classify", str(out), "-o", str(tmp_path / "again.csv"), check=False)
    assert again.returncode == 2 and "already has column(s) pred_stance" in again.stderr
    assert not (tmp_path / "again.csv").exists()
    run_cli("classify", str(out), "-o", str(tmp_path / "again.csv"), "--prefix", "m2_", "-q")
    assert list(pd.read_csv(tmp_path / "again.csv").columns[-5:]) == ["m2_stance", "m2_score", "m2_p_convergence", "m2_p_divergence", "m2_p_neutral"]
    res = tmp_path / "m.json"
    p = run_cli("evaluate", str(src), "--json", str(res))
    assert "macro-F1" in p.stdout
    data = json.loads(res.read_text())
    assert set(data["results"]) == {"model", "majority", "lexicon"}


def test_clear_error_for_bad_model(tmp_path):
    p = run_cli("run", str(SEED), "-o", str(tmp_path / "o"), "--model", str(tmp_path), check=False)
    assert p.returncode == 2 and "no card.json" in p.stderr and "Traceback" not in p.stderr
