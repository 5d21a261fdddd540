"""Incremental store: skip what is done, survive kill -9 without duplicates, export filters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import ROOT, SEED, run_cli

KREMLIN = ROOT / "corpus/articles/kremlin_us_relations.jsonl"


def _counts(out):
    return json.loads((out / "run.json").read_text())["counts"]


def test_rerun_skips_done_articles(tmp_path):
    store = tmp_path / "s.duckdb"
    run_cli("run", str(SEED), str(ROOT / "corpus/articles/sample_articles.csv"), "-o", str(tmp_path / "a"), "--store", str(store), "-q")
    assert _counts(tmp_path / "a")["articles_processed"] == 4
    run_cli("run", str(SEED), str(ROOT / "corpus/articles/sample_articles.csv"), "-o", str(tmp_path / "b"), "--store", str(store), "-q")
    c = _counts(tmp_path / "b")
    assert c["articles_processed"] == 0 and c["articles_skipped_in_store"] == 4 and c["inputs_read"] == 4
    run_cli("export", "--store", str(store), "-o", str(tmp_path / "x"), "-q")
    arts = pd.read_csv(tmp_path / "x" / "articles.csv", keep_default_na=False)
    assert sorted(arts.article_id) == sorted(set(arts.article_id)) and len(arts) == 4


@pytest.mark.slow
def test_kill_9_then_rerun_completes_each_article_once(tmp_path):
    # the Kremlin file three times over (distinct ids): long enough a run to kill mid-way
    # after the writers' first flush (every 20 chunks)
    src = tmp_path / "kremlin_x3.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for k in range(3):
            for line in KREMLIN.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    obj = json.loads(line)
                    obj["id"] = f"{obj['id']}-{k}"
                    fh.write(json.dumps(obj) + "\n")
    n = sum(1 for line in src.read_text(encoding="utf-8").splitlines() if line.strip())
    store, out = tmp_path / "s.duckdb", tmp_path / "o1"
    cmd = [sys.executable, "-m", "pipeline", "run", str(src), "-o", str(out), "--store", str(store), "--chunk-size", "3", "-q"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = out / "articles.csv.partial"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if partial.exists() and partial.read_bytes().count(b"\r\n") >= 10:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "articles.csv").exists()  # nothing half-written under a final name

    run_cli("run", str(src), "-o", str(tmp_path / "o2"), "--store", str(store), "--chunk-size", "3", "-q")
    c = _counts(tmp_path / "o2")
    assert c["articles_skipped_in_store"] >= 3  # at least one chunk was committed before the kill
    assert c["articles_processed"] + c["articles_skipped_in_store"] == n

    run_cli("export", "--store", str(store), "-o", str(tmp_path / "x"), "-q")
    arts = pd.read_csv(tmp_path / "x" / "articles.csv", keep_default_na=False)
    assert len(arts) == n and arts.article_id.is_unique
    rec = pd.read_csv(tmp_path / "x" / "records.csv", keep_default_na=False)
    assert not rec.duplicated(["article_id", "sentence_id", "actor_a", "actor_b", "topic"]).any()
    sent = pd.read_csv(tmp_path / "x" / "sentences.csv", keep_default_na=False)
    assert not sent.duplicated(["article_id", "sentence_id"]).any()
    assert set(sent.article_id) == set(arts.article_id)


def test_export_filters(tmp_path):
    store = tmp_path / "s.duckdb"
    run_cli("run", str(SEED), str(ROOT / "corpus/articles/sample_articles.csv"), "-o", str(tmp_path / "a"), "--store", str(store), "-q")
    run_cli("export", "--store", str(store), "-o", str(tmp_path / "t"), "--topic", "arms_control", "--actor", "RUS", "-q")
    rec = pd.read_csv(tmp_path / "t" / "records.csv", keep_default_na=False)
    assert len(rec) > 0 and (rec.topic == "arms_control").all()
    assert ((rec.actor_a == "RUS") | (rec.actor_b == "RUS")).all()
    run_cli("export", "--store", str(store), "-o", str(tmp_path / "d"), "--since", "2022-01-01", "--until", "2022-12-31", "-q")
    arts = pd.read_csv(tmp_path / "d" / "articles.csv", keep_default_na=False)
    assert list(arts.article_id) == ["sample-csv-2"]
    p = run_cli("export", "--store", str(store), "-o", str(tmp_path / "e"), "--since", "last week", check=False)
    assert p.returncode == 2 and "ISO date" in p.stderr


def test_export_relations_and_plover(tmp_path):
    import json

    store = tmp_path / "s.duckdb"
    run_cli("run", str(SEED), "-o", str(tmp_path / "a"), "--store", str(store), "-q")
    run_cli("export", "--store", str(store), "-o", str(tmp_path / "p"), "--format", "plover", "-q")
    rec = pd.read_json(tmp_path / "p" / "records.jsonl", lines=True)
    rel = pd.read_json(tmp_path / "p" / "relations.jsonl", lines=True)
    events = [json.loads(line) for line in (tmp_path / "p" / "plover.jsonl").read_text().splitlines()]
    assert len(rel) == 1 and rel.n_sentences.iloc[0] == rec.sentence_id.nunique()
    assert len(events) == len(rec.drop_duplicates(["sentence_id", "actor_a", "actor_b"]))
    direct = pd.read_csv(tmp_path / "a" / "relations.csv", keep_default_na=False)
    assert int(direct.n_sentences.iloc[0]) == int(rel.n_sentences.iloc[0])


def test_store_of_another_version_gets_a_clear_error(tmp_path):
    import duckdb

    store = tmp_path / "old.duckdb"
    con = duckdb.connect(str(store))
    con.execute("create table records (article_id varchar, sentence_id integer)")
    con.close()
    p = run_cli("run", str(SEED), "-o", str(tmp_path / "o"), "--store", str(store), check=False)
    assert p.returncode == 2 and "another version" in p.stderr and "Traceback" not in p.stderr


def test_ctrl_c_during_a_chunks_insert_waits_for_its_commit(tmp_path, resources, seed_article, monkeypatch):
    """Before: SIGINT while DuckDB ran an insert became "RuntimeError: Query interrupted"
    and then "transaction is aborted": a traceback instead of the one-line Ctrl-C message.
    Now the interrupt is held until the chunk's transaction has committed."""
    from pipeline.chunk import process_chunk
    from pipeline.store import Store

    tables = process_chunk([seed_article], resources)
    mid = tables.articles[0]["model_id"]
    store = Store(tmp_path / "s.duckdb")
    real, calls = Store._insert, []

    def insert_then_ctrl_c(self, name, df):
        calls.append(name)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # what a terminal sends; arrives mid-transaction
            time.sleep(0.2)
        real(self, name, df)

    monkeypatch.setattr(Store, "_insert", insert_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        store.add(tables, mid)
    assert calls[-1] == "articles"  # every table was inserted before the interrupt took effect
    assert store.n_articles(mid) == 1  # and committed
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored
    monkeypatch.undo()
    store.add(tables, mid)  # no interrupt pending: replaces the article's rows as before
    assert store.n_articles(mid) == 1
    store.close()
