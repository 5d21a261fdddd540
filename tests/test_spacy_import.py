"""pipeline/_spacy.py: spaCy is imported without PyTorch unless asked for."""

import importlib.util
import os
import subprocess
import sys

import pytest

from conftest import ROOT

HAS_TORCH = importlib.util.find_spec("torch") is not None

PROBE = """
import sys, json
import pipeline.segmentation, pipeline.recognition
import thinc.compat
out = {"torch_loaded": "torch" in sys.modules, "thinc_has_torch": thinc.compat.has_torch}
try:
    import torch  # noqa: F401
    out["importable_after"] = True
except ImportError:
    out["importable_after"] = False
print(json.dumps(out))
"""


def _probe(env_extra: dict) -> dict:
    import json

    env = {k: v for k, v in os.environ.items() if k != "STANCE_SPACY_TORCH"} | env_extra
    res = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_the_pipeline_imports_spacy_without_torch_and_torch_stays_importable():
    got = _probe({})
    assert got["torch_loaded"] is False
    assert got["thinc_has_torch"] is False
    assert got["importable_after"] is HAS_TORCH


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed (the encoder extra brings it)")
def test_stance_spacy_torch_lets_thinc_see_torch():
    got = _probe({"STANCE_SPACY_TORCH": "1"})
    assert got["torch_loaded"] is True
    assert got["thinc_has_torch"] is True
