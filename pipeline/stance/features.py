"""scikit-learn transformers built on the cue lexicon.

Both follow scikit-learn's conventions: ``__init__`` only stores parameters (the cue
table and negators travel inside the model, so a saved model is self-contained),
``fit`` returns ``self``, ``transform`` works on any iterable of strings.
"""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.labels import CONVERGENCE
from pipeline.stance.lexicon import Lexicon


CUE_FEATURE_NAMES = (
    "conv_main", "div_main", "conv_sub", "div_sub", "conv_negated", "div_negated",
    "conv_weight", "div_weight", "net_weight", "has_cue", "no_cue",
)


_COUNT_COLUMNS = [i for i, n in enumerate(CUE_FEATURE_NAMES) if not n.endswith("weight")]


_CLEAN: dict[str, str] = {}


def clear_caches() -> None:
    """Forget memoised sentences (the model does this after every batch it predicts)."""
    _CLEAN.clear()
    for lex in _SHARED.values():
        lex.clear_cache()


def clean_text(text: str) -> str:
    """Collapse whitespace and unify quotes (the classifier's view of a sentence).

    ``str.split()`` splits on exactly the characters ``re``'s ``\\s`` matches (checked over
    all of Unicode in the tests), and is several times faster than ``re.sub``. Results are
    memoised (bounded): the feature transformers each clean the same sentence."""
    hit = _CLEAN.get(text)
    if hit is None:
        if len(_CLEAN) > 20_000:
            _CLEAN.clear()
        hit = _CLEAN[text] = " ".join(str(text).split()).replace("’", "'").replace("‘", "'")
    return hit


_SHARED: dict[tuple, Lexicon] = {}


_WORD = re.compile(r"[a-z0-9]+")


def stem_text(text: str) -> str:
    """Words cut to their first five letters: a cheap, language-agnostic stemmer that lets
    "sanctioned" / "sanctions" or "cooperation" / "cooperate" share features.
    (Whitespace and quotes do not touch ``[a-z0-9]+`` words, so no ``clean_text`` first.)"""
    return " ".join([w[:5] for w in _WORD.findall(str(text).lower())])


class _LexiconMixin:
    def _lexicon(self) -> Lexicon:
        lex = getattr(self, "_lexicon_cache", None)
        if lex is None:
            # transformers of one model carry equal cue tables: share one Lexicon (and
            # so its match cache) between them instead of matching every sentence twice
            key = (hash(frozenset((self.cues or {}).items())), tuple(self.negators or ()), self.window)
            lex = _SHARED.get(key)
            if lex is None:
                lex = _SHARED[key] = Lexicon(dict(self.cues or {}), list(self.negators or []), self.window)
            self._lexicon_cache = lex
        return lex

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_lexicon_cache", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)


class CueFeatures(_LexiconMixin, TransformerMixin, BaseEstimator):
    """Counts and weights of cooperation / conflict cues, negation- and clause-aware.

    Parameters
    ----------
    cues : dict
        phrase -> (direction, weight).
    negators : list of str
    window : int
        How many tokens after a negator a cue is negated.
    """

    def __init__(self, cues=None, negators=None, window: int = 3):
        self.cues = cues
        self.negators = negators
        self.window = window

    def fit(self, X, y=None):
        self.n_features_out_ = len(CUE_FEATURE_NAMES)
        return self

    def transform(self, X):
        lex = self._lexicon()
        rows = []
        for text in X:
            cues = lex.match(clean_text(text))
            # conv_main, div_main, conv_sub, div_sub, conv_negated, div_negated,
            # conv_weight, div_weight, net_weight, has_cue, no_cue
            f = [0.0] * len(CUE_FEATURE_NAMES)
            for c in cues:
                d = 0 if c.effective == CONVERGENCE else 1
                if c.subordinate:
                    f[2 + d] += 1
                else:
                    f[d] += 1
                    f[6 + d] += c.weight
                if c.negated:
                    f[4 + d] += 1
            f[8] = f[6] - f[7]
            f[9] = float(bool(cues))
            f[10] = float(not cues)
            rows.append(f)
        arr = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(CUE_FEATURE_NAMES))
        arr[:, _COUNT_COLUMNS] = np.log1p(arr[:, _COUNT_COLUMNS])
        return sparse.csr_matrix(arr)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"cue__{n}" for n in CUE_FEATURE_NAMES], dtype=object)


class CueAbstraction(_LexiconMixin, TransformerMixin, BaseEstimator):
    """Rewrite a sentence with its cues replaced by their direction.

    "The Kremlin did not reject the plan" -> "the kremlin did not NEG_CONV the plan".
    n-grams over this text generalise across verbs the training data never showed.
    """

    def __init__(self, cues=None, negators=None, window: int = 3):
        self.cues = cues
        self.negators = negators
        self.window = window

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        lex = self._lexicon()
        out = []
        for text in X:
            toks, cues = lex.analyse(clean_text(text))
            if not cues:
                out.append(" ".join(toks))
                continue
            words, i = [], 0
            for c in cues:
                words.extend(toks[i : c.start])
                tag = ("NEG_" if c.negated else "") + ("SUB_" if c.subordinate else "")
                words.append(tag + ("CONV" if c.direction == CONVERGENCE else "DIV"))
                i = c.start + c.length
            words.extend(toks[i:])
            out.append(" ".join(words))
        return out
