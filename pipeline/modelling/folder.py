"""The model folder: skops files, a card, and an id derived from the files' hashes.

A folder holds one or more ``NAME.skops`` files (skops format: loading audits every type
against scikit-learn's and an explicit allow-list and never unpickles anything else),
``card.json`` (data hashes, settings, metrics, versions, and the SHA-256 of every model
file) and ``card.md`` (the same for people). The model id is ``<folder name>-<first 10
hex digits of a hash over the files' hashes>``: it is computed from the files when the
folder is loaded, so a swapped file can never carry the genuine id, and a card without
hashes is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Callable, Iterable



def _import_skops():
    """``skops.io``, imported without importing PyTorch (or Dask's array module).

    At import, skops lists scikit-learn's estimators (``sklearn.utils.all_estimators``),
    which walks every subpackage, ``sklearn.externals.array_api_compat.torch`` included:
    where PyTorch is installed (the encoder extra) that import alone costs seconds and
    hundreds of MB in every process that loads a model. Those array-API shims hold no
    estimator, so they are made unimportable while skops is imported (the walk skips a
    package whose import fails; the failure is not cached, so they import normally later).
    """
    import importlib.abc
    import sys

    shims = ("sklearn.externals.array_api_compat.torch", "sklearn.externals.array_api_compat.dask",
             "sklearn.externals.array_api_compat.cupy")

    class _Skip(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.startswith(shims):
                raise ImportError(f"{name} is not needed to list estimators")
            return None

    if "skops.io" not in sys.modules:
        finder = _Skip()
        sys.meta_path.insert(0, finder)
        try:
            import skops.io  # noqa: F401
        finally:
            sys.meta_path.remove(finder)
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    return sio, UntrustedTypesFoundException


sio, UntrustedTypesFoundException = _import_skops()


class ModelError(RuntimeError):
    """A model folder that is missing, incomplete, tampered with or unsafe."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_id_of(name: str, hashes: dict[str, str]) -> str:
    """The id of a model: its name and a hash over its files' hashes."""
    h = hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(hashes.items())).encode()).hexdigest()
    return f"{name}-{h[:10]}"


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_folder(folder: str | Path, objects: dict[str, object], card: dict,
                markdown: Callable[[dict], str] | None = None) -> str:
    """Write every object as ``NAME.skops`` and the card; returns the model id.

    Each file is written to a temporary name and renamed, then the card (which names the
    hashes) last, so a reader never sees a card that points at files not yet written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for name, obj in objects.items():
        final = folder / f"{name}.skops"
        tmp = folder / f"{name}.skops.tmp"
        sio.dump(obj, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        hashes[final.name] = sha256_file(tmp)
        os.replace(tmp, final)
    card = dict(card)
    card["files"] = hashes
    card["model_id"] = model_id_of(card.get("name") or folder.name, hashes)
    _atomic_text(folder / "card.json", json.dumps(card, indent=2) + "\n")
    if markdown is not None:
        _atomic_text(folder / "card.md", markdown(card))
    return card["model_id"]


def read_card(folder: str | Path) -> dict:
    """The card of a model folder, checked for the fields loading relies on."""
    folder = Path(folder)
    path = folder / "card.json"
    if not path.is_file():
        raise ModelError(f"{folder}: no card.json (train a model with `stance train` or `make train`)")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable card ({exc})") from None
    if not isinstance(card, dict):
        raise ModelError(f"{path}: the card must be a JSON object, found {type(card).__name__}")
    files = card.get("files")
    if not isinstance(files, dict) or not files or not all(isinstance(k, str) and isinstance(v, str) and len(v) == 64
                                                           for k, v in files.items()):
        raise ModelError(f"{path}: the card lists no SHA-256 for its model files; refusing an unverifiable model "
                         "(retrain it with `stance train`)")
    return card


def load_folder(folder: str | Path, names: Iterable[str], trusted: Iterable[str]) -> tuple[dict[str, object], dict, str]:
    """Load ``NAME.skops`` for every name, after checking each file against the card.

    Returns the objects, the card and the model id (computed from the files' hashes).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such model folder")
    card = read_card(folder)
    trusted = sorted(set(trusted))
    out, hashes = {}, {}
    for name in names:
        path = folder / f"{name}.skops"
        if not path.is_file():
            raise ModelError(f"{folder}: no {path.name} (train one with `stance train` or `make train`)")
        expected = card["files"].get(path.name)
        if expected is None:
            raise ModelError(f"{folder / 'card.json'}: no SHA-256 for {path.name}; refusing to load it")
        digest = sha256_file(path)
        if digest != expected:
            raise ModelError(f"{path}: file does not match the sha256 in card.json (tampered or replaced); refusing to load")
        hashes[path.name] = digest
        try:
            out[name] = sio.load(path, trusted=trusted)
        except UntrustedTypesFoundException as exc:
            raise ModelError(f"{path}: refusing to load untrusted type(s): {exc}") from None
        except Exception as exc:  # corrupt zip, not a skops file, missing parts
            raise ModelError(f"{path}: not a valid skops file or cannot load ({type(exc).__name__}: {exc})") from None
    if set(hashes) != set(card["files"]):
        raise ModelError(f"{folder / 'card.json'}: lists files this model does not use ({sorted(set(card['files']) - set(hashes))})")
    return out, card, model_id_of(card.get("name") or folder.name, hashes)
