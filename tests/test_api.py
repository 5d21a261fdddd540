"""The Python API (pipeline.api): docstring examples, same records as `stance run`, errors."""

from __future__ import annotations

import doctest
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import MODEL, ROOT, SEED, run_cli

TEXT = ("The United States and Russia agreed to extend the New START treaty. "
        "China criticised Japan over the disputed islands.")


def test_docstring_examples_run():
    import pipeline.api

    result = doctest.testmod(pipeline.api, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_package_exposes_the_api_lazily():
    import pipeline
    import pipeline.api

    assert {"extract", "run", "__version__"} <= set(pipeline.__all__)
    assert pipeline.extract is pipeline.api.extract and pipeline.run is pipeline.api.run
    from pipeline import extract, run

    assert extract is pipeline.api.extract and run is pipeline.api.run
    assert "extract" in dir(pipeline)
    with pytest.raises(AttributeError):
        pipeline.no_such_name  # noqa: B018


def test_import_pipeline_does_not_import_spacy():
    code = ("import pipeline, sys; print('spacy' in sys.modules, 'sklearn' in sys.modules, "
            "'pipeline.api' in sys.modules, pipeline.__version__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    spacy, sklearn, api, version = out.stdout.split()
    assert (spacy, sklearn, api) == ("False", "False", "False")
    assert version


def _cli_records(tmp_path, name: str, text: str) -> pd.DataFrame:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    out = tmp_path / "cli_out"
    run_cli("run", str(f), "-o", str(out), "-q")
    return pd.read_csv(out / "records.csv", keep_default_na=False)


def _same_records(api: pd.DataFrame, cli: pd.DataFrame) -> None:
    from pipeline.export import neutralise_frame
    from pipeline.schemas import SCHEMAS

    assert list(api.columns) == list(cli.columns) == list(SCHEMAS["records"].columns)
    assert len(api) == len(cli) > 0
    api = neutralise_frame(api)  # what the CSV writer does to text cells (formula prefixes)
    text_cols = ["actor_a", "actor_b", "pair_source", "source_actor", "target_actor", "topic", "stance", "cues",
                 "evidence", "section", "block_kind", "model_id"]
    for col in text_cols:
        assert api[col].astype(str).tolist() == cli[col].astype(str).tolist(), col
    for col in ("sentence_id", "start", "end"):
        assert api[col].astype(int).tolist() == cli[col].astype(int).tolist(), col
    for col in ("score", "p_convergence", "p_divergence", "p_neutral", "p_none"):
        assert api[col].astype(float).tolist() == pytest.approx(cli[col].astype(float).tolist(), abs=1e-6), col


def test_extract_frame_equals_stance_run_records_for_a_text(tmp_path):
    from pipeline import extract

    cli = _cli_records(tmp_path, "two.txt", TEXT)
    api = extract(TEXT, as_frame=True)
    _same_records(api, cli)
    # both ids are the hash of the text
    assert api["article_id"].tolist() == cli["article_id"].astype(str).tolist()


def test_extract_frame_equals_stance_run_records_for_the_seed_article(tmp_path):
    from pipeline import extract

    text = SEED.read_text(encoding="utf-8")
    cli = _cli_records(tmp_path, SEED.name, text)
    _same_records(extract(text, as_frame=True), cli)


def test_extract_returns_relation_records():
    from pipeline import extract
    from pipeline.contracts import RelationRecord
    from pipeline.schemas import SCHEMAS

    recs = extract(TEXT)
    assert recs and all(isinstance(r, RelationRecord) for r in recs)
    assert list(RelationRecord.__dataclass_fields__) == list(SCHEMAS["records"].columns)
    assert [(r.actor_a, r.actor_b) for r in recs] == [("RUS", "USA"), ("CHN", "JPN")]
    for r in recs:
        assert r.actor_a < r.actor_b and r.stance in ("convergence", "divergence", "neutral")
        assert TEXT[r.start:r.end] == r.evidence
    frame = extract(TEXT, as_frame=True)
    assert frame.to_dict("records") == [dict(r.__dict__) for r in recs]


def test_extract_on_an_article(seed_article):
    from pipeline import extract
    from pipeline.ingestion import build_article

    recs = extract(seed_article)
    assert recs and {r.article_id for r in recs} == {seed_article.id}
    assert recs == extract(SEED.read_text(encoding="utf-8"))  # the same article as text
    art = build_article(TEXT, path="mine.txt", meta={"id": "a1", "title": "Arms talks"})
    recs = extract(art)
    assert {r.article_id for r in recs} == {"a1"}
    assert {(r.actor_a, r.actor_b) for r in recs} == {("RUS", "USA"), ("CHN", "JPN")}
    # metadata given with a text goes into the article like a JSONL record's fields
    assert {r.article_id for r in extract(TEXT, article_id="x9", title="Arms talks")} == {"x9"}
    # the title becomes the first sentence, so the sentence ids move by one
    assert [r.sentence_id for r in extract(TEXT, title="Arms talks")] == [r.sentence_id + 1 for r in extract(TEXT)]


def test_extract_without_records_and_the_cache():
    from pipeline import api, extract

    assert extract("It rained in Paris on Monday.") == []
    df = extract("It rained in Paris on Monday.", as_frame=True)
    assert df.empty and list(df.columns)[:3] == ["article_id", "sentence_id", "actor_a"]
    assert api.load() is api.load(MODEL) is api.load(str(MODEL))  # one load per model folder
    t = time.perf_counter()
    for _ in range(3):
        extract(TEXT)
    assert time.perf_counter() - t < 5  # no reloading (a load takes several seconds)


def test_run_writes_the_outputs_and_returns_counts(tmp_path):
    import pipeline

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_text("It rained in Paris on Monday.", encoding="utf-8")
    out = tmp_path / "out"
    summary = pipeline.run([tmp_path / "in"], out)
    c = summary["counts"]
    assert c["inputs_read"] == 2 and c["articles_processed"] == 2 and c["inputs_failed"] == 0
    assert c["records"] == 2
    for name in ("articles", "sentences", "records", "relations", "topics", "tables", "check", "errors"):
        assert (out / f"{name}.csv").exists(), name
    assert (out / "run.json").exists()
    records = pd.read_csv(out / "records.csv", keep_default_na=False)
    assert len(records) == 2
    _same_records(pipeline.extract(TEXT, as_frame=True), records)
    # a single path, another format, a chunk size
    summary = pipeline.run(str(tmp_path / "in" / "a.txt"), tmp_path / "out2", fmt="jsonl", chunk_size=1)
    assert summary["counts"]["records"] == 2 and summary["chunk_size"] == 1
    assert (tmp_path / "out2" / "records.jsonl").exists()


def test_run_counts_unreadable_inputs(tmp_path):
    import pipeline

    summary = pipeline.run([tmp_path / "missing.txt"], tmp_path / "out")
    assert summary["counts"]["inputs_failed"] == 1 and summary["counts"]["articles_processed"] == 0
    errors = pd.read_csv(tmp_path / "out" / "errors.csv", keep_default_na=False)
    assert len(errors) == 1


def test_bad_arguments_raise_clear_exceptions(tmp_path):
    from pipeline import extract, run
    from pipeline.modelling.folder import ModelError

    with pytest.raises(ValueError, match="empty"):
        extract("")
    with pytest.raises(ValueError, match="empty"):
        extract("   \n\n ")
    with pytest.raises(TypeError):
        extract(b"bytes are not text")
    with pytest.raises(TypeError):
        extract(None)
    with pytest.raises(ModelError):
        extract(TEXT, model=tmp_path / "no_such_model")

    src = tmp_path / "a.txt"
    src.write_text(TEXT, encoding="utf-8")
    with pytest.raises(ValueError, match="unknown format"):
        run([src], tmp_path / "o1", fmt="xlsx")
    with pytest.raises(ValueError, match="unknown engine"):
        run([src], tmp_path / "o2", engine="spark")
    with pytest.raises(ValueError, match="workers"):
        run([src], tmp_path / "o3", workers=0)
    with pytest.raises(ValueError, match="chunk_size"):
        run([src], tmp_path / "o4", chunk_size=0)
    with pytest.raises(ValueError, match="no input"):
        run([], tmp_path / "o5")
    with pytest.raises(ValueError, match="not a directory"):
        run([src], src)  # the output is an existing file
    with pytest.raises(ModelError):
        run([src], tmp_path / "o6", model=tmp_path / "no_such_model")
    assert not any((tmp_path / f"o{i}").exists() for i in range(1, 7))  # nothing written


def test_extract_article_with_metadata_is_refused(seed_article):
    from pipeline import extract

    with pytest.raises(TypeError, match="title"):
        extract(seed_article, title="another title")
