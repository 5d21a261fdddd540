"""spaCy, imported without PyTorch.

``import spacy`` imports thinc, whose ``thinc.compat`` imports PyTorch when it is installed
(it is, with the ``encoder`` extra) only to learn whether a GPU is there: about 1.4 s and
190 MB per process, in every worker, for a pipeline (``spacy.blank("en")`` and our rules)
that never uses it. Importing spaCy through this module hides ``torch`` for the length of
that one import, so thinc records "no torch"; ``torch`` is importable again right after
(the sentence encoder's torch runtime imports it itself and does not go through thinc).

A spaCy pipeline whose components run on PyTorch (``en_core_web_trf`` through
``--spacy-model``) needs thinc to see torch: set ``STANCE_SPACY_TORCH=1`` (``stance run
--spacy-model`` sets it) before the first import. If spaCy or torch is already imported,
this module changes nothing.
"""

from __future__ import annotations

import os
import sys

ENV = "STANCE_SPACY_TORCH"


def _import():
    if "spacy" in sys.modules or "torch" in sys.modules or os.environ.get(ENV, "") not in ("", "0"):
        import spacy
        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


spacy = _import()

__all__ = ["spacy", "ENV"]
