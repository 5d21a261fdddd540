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
    from pipeline.recognition import add_recognisers
    from pipeline.segmentation import build_segmenter

    return add_recognisers(build_segmenter(settings), settings)


@pytest.fixture(scope="session")
def seed_article(settings):
    from pipeline.ingestion import ingest

    (art,) = list(ingest([SEED], settings))
    return art


@pytest.fixture(scope="session")
def model():
    from pipeline.stance.model import load_model

    return load_model(MODEL)


@pytest.fixture(scope="session")
def resources(settings):
    from pipeline.engine import load_resources

    return load_resources(MODEL, settings)


def run_cli(*args: str, cwd: Path | None = None, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real ``stance`` command line (as ``python -m pipeline``)."""
    e = dict(os.environ)
    e.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd or ROOT, capture_output=True, text=True, env=e, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"stance {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
