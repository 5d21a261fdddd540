"""Engines: process pool and Dask give the same records as the local engine."""

from __future__ import annotations

import glob

import pandas as pd
import pytest

from conftest import ROOT, SEED, run_cli

KEY = ["article_id", "sentence_id", "actor_a", "actor_b", "topic"]


def _inputs(tmp_path):
    # the seed, the HTML and CSV samples, and 30 Kremlin articles, in small chunks
    src = ROOT / "corpus/articles/kremlin_us_relations.jsonl"
    sub = tmp_path / "k.jsonl"
    sub.write_text("".join(src.read_text(encoding="utf-8").splitlines(keepends=True)[:30]), encoding="utf-8")
    return [str(SEED), str(ROOT / "corpus/articles/sample_page.html"), str(ROOT / "corpus/articles/sample_articles.csv"), str(sub)]


def _records(path):
    df = pd.read_csv(path, keep_default_na=False)
    return df.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("local")
    run_cli("run", *_inputs(tmp), "-o", str(tmp / "out"), "--chunk-size", "7", "-q")
    return tmp


def test_pool_equals_local(local_run, tmp_path):
    run_cli("run", *_inputs(local_run), "-o", str(tmp_path / "pool"), "--chunk-size", "7", "--workers", "2", "-q")
    a = _records(local_run / "out" / "records.csv")
    b = _records(tmp_path / "pool" / "records.csv")
    assert len(a) > 100
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_dask_local_cluster_equals_local(local_run, tmp_path):
    run_cli("run", *_inputs(local_run), "-o", str(tmp_path / "dask"), "--chunk-size", "7", "--engine", "dask", "--workers", "2", "-q")
    parts = sorted(glob.glob(str(tmp_path / "dask" / "records" / "part-*.csv")))
    assert len(parts) > 1  # partitioned output
    b = pd.concat([pd.read_csv(p, keep_default_na=False) for p in parts]).sort_values(KEY).reset_index(drop=True)
    a = _records(local_run / "out" / "records.csv")
    pd.testing.assert_frame_equal(a, b)


def test_run_local_restores_the_garbage_collector(resources, seed_article):
    """The GC tuning of a local run (freeze, thresholds) is undone when the run ends, and
    GC stays off only while loading."""
    import gc

    from pipeline.executors import paused_gc, run_local

    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    results = run_local(iter([[seed_article]]), resources)
    tables = next(results)
    assert len(tables.articles) == 1
    assert gc.get_freeze_count() > 0 and gc.get_threshold() != before  # tuned while running
    results.close()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_failed_run_restores_the_garbage_collector(tmp_path):
    """A run that fails half-way (here: its progress callback raises) still ends the engine
    and undoes the GC tuning, even while the exception is kept."""
    import gc

    from pipeline.runner import RunOptions, run

    before = gc.get_threshold()

    def boom(*_):
        raise RuntimeError("consumer failed")

    with pytest.raises(RuntimeError) as err:
        run(RunOptions(paths=[str(SEED)], out=tmp_path / "o", model=ROOT / "models/default", progress=boom))
    assert err.value is not None
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    assert not list((tmp_path / "o").glob("*.csv"))
