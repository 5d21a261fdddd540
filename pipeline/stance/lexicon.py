"""Cooperation / conflict cue lexicon with negation and subordinate-clause scope.

The lexicon maps lower-case phrases (inflected forms, so no lemmatizer is needed) to a
direction and a weight (the CAMEO Goldstein score where known). Matching is greedy
longest-match over a simple word tokenisation of the sentence, which makes it usable
on any text column without spaCy. A cue preceded within ``window`` tokens by a negator
("not", "no longer", "failed to" ...) with no punctuation in between is flipped; a cue
inside a concessive clause ("despite ...", "although ...") is marked subordinate,
following the codebook rule that mixed sentences follow the main clause.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.labels import CONVERGENCE, DIVERGENCE, NEUTRAL

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'’][a-z0-9]+)*|n't|[.,;:!?()\"“”]")
_CLAUSE_BREAK = {".", ",", ";", ":", "!", "?", "(", ")", "\"", "“", "”", "but"}
_SCOPE_KEEPERS = {"(", ")", "\"", "“", "”"}  # clause breaks that do not end a concessive clause
_SUBORDINATORS = {"despite", "although", "though", "whereas", "notwithstanding"}
_FLIP = {CONVERGENCE: DIVERGENCE, DIVERGENCE: CONVERGENCE}


def tokenize(text: str) -> list[str]:
    """Lower-case word and punctuation tokens (``don't`` -> ``do``, ``n't``)."""
    text = text.lower().replace("’", "'").replace("n't", " n't")
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Cue:
    phrase: str
    direction: str
    weight: float
    negated: bool
    subordinate: bool
    start: int  # token index
    length: int = 1  # tokens

    @property
    def effective(self) -> str:
        return _FLIP[self.direction] if self.negated else self.direction

    def describe(self) -> str:
        tag = "not " if self.negated else ""
        return f"{tag}{self.phrase}({'+' if self.effective == CONVERGENCE else '-'})"


class Lexicon:
    """A phrase -> (direction, weight) table with a negation-aware matcher."""

    def __init__(self, cues: dict[str, tuple[str, float]], negators: list[str], window: int = 3):
        self.cues = dict(cues)
        self.window = window
        self.negators = [tuple(tokenize(n)) for n in negators if tokenize(n)]
        self._index: dict[str, list[tuple[str, ...]]] = {}
        self._by_tokens: dict[tuple[str, ...], tuple[str, str, float]] = {}
        for phrase, (direction, weight) in self.cues.items():
            toks = tuple(tokenize(phrase))
            if toks and toks not in self._by_tokens:
                self._by_tokens[toks] = (phrase, direction, weight)
                self._index.setdefault(toks[0], []).append(toks)
        for first in self._index:
            self._index[first].sort(key=len, reverse=True)
        self._neg_index: dict[str, list[tuple[str, ...]]] = {}
        for toks in self.negators:
            self._neg_index.setdefault(toks[0], []).append(toks)

    # -- loading -----------------------------------------------------------------------
    @classmethod
    def from_files(cls, cue_files: list[Path], negator_file: Path | None, window: int = 3) -> "Lexicon":
        cues: dict[str, tuple[str, float]] = {}
        for path in cue_files:
            if not Path(path).exists():
                continue
            with open(path, encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    phrase = (row.get("phrase") or "").strip().lower()
                    direction = (row.get("direction") or "").strip()
                    if not phrase or direction not in (CONVERGENCE, DIVERGENCE):
                        continue
                    try:
                        weight = abs(float(row.get("goldstein") or "")) / 10.0
                    except ValueError:
                        weight = 0.5
                    cues[phrase] = (direction, max(weight, 0.1))
        negators: list[str] = []
        if negator_file and Path(negator_file).exists():
            with open(negator_file, encoding="utf-8", newline="") as fh:
                negators = [r["phrase"].strip() for r in csv.DictReader(fh) if r.get("phrase", "").strip()]
        return cls(cues, negators, window)

    # -- matching ----------------------------------------------------------------------
    def _match_at(self, toks: list[str], i: int, index) -> tuple[str, ...] | None:
        for cand in index.get(toks[i], ()):
            if tuple(toks[i : i + len(cand)]) == cand:
                return cand
        return None

    def match(self, text: str) -> list[Cue]:
        """All cues in ``text``, left to right, with negation and clause scope applied.

        Results are cached (bounded): the feature transformers and the explanation of a
        prediction ask for the same sentence several times.
        """
        return self.analyse(text)[1]

    def analyse(self, text: str) -> tuple[list[str], list[Cue]]:
        """The tokens of ``text`` and its cues (cached, like :meth:`match`)."""
        cache = self.__dict__.setdefault("_cache", {})
        hit = cache.get(text)
        if hit is not None:
            return hit
        if len(cache) > 20_000:  # a chunk's sentences, asked for 3 times each; bounded memory
            cache.clear()
        toks = tokenize(text)
        cache[text] = out = (toks, self._match(toks))
        return out

    def clear_cache(self) -> None:
        self.__dict__.pop("_cache", None)

    def _match(self, toks: list[str]) -> list[Cue]:
        out: list[Cue] = []
        cue_index, neg_index, by_tokens = self._index, self._neg_index, self._by_tokens
        last_neg = -10**9
        in_sub = False
        i, n = 0, len(toks)
        while i < n:
            t = toks[i]
            if t in _CLAUSE_BREAK:
                last_neg = -10**9
                if t not in _SCOPE_KEEPERS:
                    in_sub = False
                i += 1
                continue
            if t in _SUBORDINATORS or (t == "even" and i + 1 < n and toks[i + 1] in ("though", "if")):
                in_sub = True
            # most tokens start neither a negator nor a cue: test membership before
            # trying the (longest-first) candidate phrases
            neg = self._match_at(toks, i, neg_index) if t in neg_index else None
            cue = self._match_at(toks, i, cue_index) if t in cue_index else None
            if cue and (not neg or len(cue) >= len(neg)):
                phrase, direction, weight = by_tokens[cue]
                negated = 0 < i - last_neg <= self.window
                out.append(Cue(phrase, direction, weight, negated, in_sub, i, len(cue)))
                i += len(cue)
                continue
            if neg:
                last_neg = i + len(neg) - 1
                i += len(neg)
                continue
            i += 1
        return out

    def vote(self, text: str) -> str:
        """The lexicon-only baseline: the direction with more main-clause cue weight."""
        cues = self.match(text)
        main = [c for c in cues if not c.subordinate] or cues
        conv = sum(c.weight for c in main if c.effective == CONVERGENCE)
        div = sum(c.weight for c in main if c.effective == DIVERGENCE)
        if conv > div:
            return CONVERGENCE
        if div > conv:
            return DIVERGENCE
        return NEUTRAL
