"""Session fixtures: settings, the nlp objects, the seed article, the default model."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "articles" / "000_bc1859a853fc8108.txt"
MODEL = ROOT / "models" / "default"


@pytest.fixture(scope="session")
def settings():
    from pipeline.config import load_settings

    return load_settings()


@pytest.fixture
def small_settings(settings):
    """A copy of the settings whose values a test may change."""
    from pipeline.config import Settings

    return Settings(settings.root, copy.deepcopy(settings.values))


@pytest.fixture(scope="session")
def segmenter(settings):
    from pipeline.segmentation import build_segmenter

    return build_segmenter(settings)


@pytest.fixture(scope="session")
def nlp(settings):
    from pipeline.recognition import build_recogniser

    return build_recogniser(settings)


@pytest.fixture(scope="session")
def seed_article(settings):
    from pipeline.ingestion import ingest

    (art,) = list(ingest([SEED], settings))
    return art


@pytest.fixture(scope="session")
def model():
    from pipeline.models import load_model

    return load_model(MODEL)


@pytest.fixture(scope="session")
def resources(settings):
    from pipeline.chunk import load_resources

    return load_resources(MODEL, settings)


def run_cli(*args: str, cwd: Path | None = None, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real ``stance`` command line (as ``python -m pipeline``)."""
    e = dict(os.environ)
    e.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd or ROOT, capture_output=True, text=True, env=e, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"stance {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A model folder trained on a small sample of the bundled annotations (both classifiers)."""
    import pandas as pd

    from pipeline.models import save_model
    from pipeline.training import card_markdown, train

    data = tmp_path_factory.mktemp("data")
    df = pd.read_csv(ROOT / "corpus/annotations/news_sentences.csv", dtype=str, keep_default_na=False)
    sample = pd.concat([g.sample(min(len(g), 90), random_state=1) for _, g in df.groupby("stance")])
    sentences = data / "small.csv"
    sample.to_csv(sentences, index=False)
    pairs = pd.read_csv(ROOT / "corpus/annotations/pairs.csv", dtype=str, keep_default_na=False)
    keep = pairs["uid"].drop_duplicates().sample(300, random_state=2)
    pair_file = data / "pairs.csv"
    pairs[pairs["uid"].isin(set(keep))].to_csv(pair_file, index=False)
    folder = tmp_path_factory.mktemp("models") / "tiny"
    result = train([str(sentences)], [str(pair_file)], name="tiny", seed=3, c_grid=(1.0,), pair_c_grid=(0.5,), folds=3)
    model_id = save_model(result.objects, result.card, folder, card_markdown)
    return folder, model_id, sentences, pair_file, result


@pytest.fixture(scope="session")
def report_run_out(tmp_path_factory):
    """The bundled corpus plus one empty and one binary file, run once (folder and store)."""
    base = tmp_path_factory.mktemp("report_run")
    inputs = base / "in"
    inputs.mkdir()
    for p in (ROOT / "corpus" / "articles").iterdir():
        if p.is_file():
            (inputs / p.name).symlink_to(p)
    (inputs / "empty.txt").write_text("", encoding="utf-8")
    (inputs / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 64)
    out = base / "out"
    run_cli("run", str(inputs), "-o", str(out), "--store", str(base / "store.duckdb"), "-q")
    return base, out, base / "store.duckdb"


@pytest.fixture(scope="session")
def report(report_run_out):
    base, out, _ = report_run_out
    rep = base / "report"
    proc = run_cli("report", str(out), "-o", str(rep), "--png")
    assert "report:" in proc.stderr + proc.stdout
    return rep
