"""The row stance of a table row from its two position cells, read as two texts.

A row (topic | side A's position | side B's position) is ``convergence`` when the two
positions are compatible, ``divergence`` when they compete, ``neutral`` when they cannot be
compared (codebook). A sentence classifier reads "Resume New START inspections | Suspends
the treaty talks" as one text and finds little conflict in it; here each cell is a text of
its own, and the features say how the two relate:

* ``words``: word 1–2-grams of both cells (one bag: the model is symmetric in A and B);
* ``ctx``: feature tokens of each cell and of the contrast between them: the direction of
  each cell's cooperation / conflict cues (the project's cue lexicon, negation-aware), a
  refusal or negation in one cell only, a content stem shared by both cells (with the
  negation on one side only: "Share intelligence" | "Refuses to share"), a condition ("if",
  "unless", "only"), an empty or no-position cell, and the pair of the cells' actions
  (``act=``): the side of each cell's first action word (the CAMEO verbs of the cue vocabulary
  by their root code, :data:`CAMEO_SIDES`, with ``corpus/vocab/table_actions.csv`` on top),
  ``open`` (resume, reopen, release, lift, share …), ``close`` (suspend, halt, ban, refuse …),
  flipped after a negation ("not to close": open), or ``want`` (wants, seeks, demands …) when
  the cell asks for something and names no action, else ``none``: "Suspends inspections" |
  "Resume inspections" is close|open (one side stops what the other wants going), "Reopened
  the calls" | "Wants the calls restored" is open|open; tokens of a pair of cells are sorted,
  so that A | B and B | A give the same features; and whether a content word both cells share
  is refused in one of them only ("Rejects ban" | "Proposes ban");
* ``num``: the sentence classifier's probabilities for each cell, as the smaller and the
  larger of the two, and the product of their scores (same sign: compatible directions).

A class-balanced logistic regression on top, saved with skops as ``table.skops`` in the
model folder and trained by ``stance train --tables`` (:func:`fit_table`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipeline.contracts import Prediction
from pipeline.labels import CONVERGENCE, DIVERGENCE, LABELS, NEUTRAL
from pipeline.stance.lexicon import tokenize

NUMERIC_COLUMNS = ("pc_min", "pc_max", "pd_min", "pd_max", "score_prod", "score_gap")
_REFUSAL = re.compile(r"\b(not|no|never|refus\w*|reject\w*|den(y|ies|ied)|declin\w*|oppos\w*|against|halt\w*|suspend\w*|"
                      r"withdr[ae]w\w*|ban\w*|bar(s|red)?|block\w*|cancel\w*|end(s|ed)?|stop\w*|freez\w*|cut\w*|"
                      r"wo\s*n't|won't|cannot|can't|without)\b", re.I)
_CONDITION = re.compile(r"\b(if|unless|until|only|provided|conditional|conditions?|once|in exchange)\b", re.I)
_NO_POSITION = re.compile(r"^\s*(-+|—|n/?a|none|no (official |stated |clear )?(position|comment|view|response)|"
                          r"(not|un)\s*(stated|specified|declared|clear)|undecided|silent|unclear)\s*\.?\s*$", re.I)
_STOP = frozenset("the a an of to and or in on for with by at from its their his her as is are be will would "
                  "on into than that this those these".split())


_NEGATION = frozenset({"not", "no", "never", "n't", "cannot", "without"})
_MODIFIED = frozenset("the a an to of for on in with its their his her our all any".split())


# CAMEO root codes (Schrodt 2012, cues.csv's ``cameo_code``) -> the side of a cell's action:
# appeals and demands ask for something; intent to cooperate, consultation, diplomatic and
# material cooperation, aid and yielding open; disapproval, rejection, threats, protest,
# shows of force, reducing relations, coercion and violence close. 01 (statements) and 09
# (investigate) are not actions of either side.
CAMEO_SIDES = {"02": "want", "10": "want", **dict.fromkeys(("03", "04", "05", "06", "07", "08"), "open"),
               **dict.fromkeys(("11", "12", "13", "14", "15", "16", "17", "18", "19", "20"), "close")}


@lru_cache(maxsize=4)
def action_words(path: str | None = None, cues: str | None = None) -> dict[tuple[str, ...], str]:
    """(word, [next word]) -> open / close / want: the verbs of the CAMEO-derived cue
    vocabulary (``[vocab] cues``, one-word verbs with a CAMEO code, by :data:`CAMEO_SIDES`),
    overridden by the words of ``corpus/vocab/table_actions.csv`` (``[vocab] table_actions``),
    which say what the dictionary does not ("share", "grant", "seek", "call for")."""
    if path is None or cues is None:
        from pipeline.config import load_settings

        settings = load_settings()
        path = path or str(settings.path("vocab", "table_actions"))
        cues = cues or str(settings.path("vocab", "cues"))
    out = {}
    for file, read in ((cues, _cameo_side), (path, lambda row: row["side"].strip())):
        if not Path(file).is_file():
            continue
        with open(file, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(line for line in fh if not line.startswith("#")):
                words = tuple((row.get("word") or row.get("phrase") or "").strip().lower().split())
                side = read(row)
                if words and side in ("open", "close", "want"):
                    out[words] = side
    return out


def _cameo_side(row: dict) -> str:
    phrase = (row.get("phrase") or "").split()
    if row.get("pos") != "verb" or len(phrase) != 1 or not row.get("cameo_code"):
        return ""
    return CAMEO_SIDES.get(row["cameo_code"].strip()[:2], "")


def _bases(token: str) -> list[str]:
    """A word and its possible base forms ("suspended" -> suspend, "banned" -> ban,
    "sharing" -> share, "eases" -> ease)."""
    out = [token]
    for suffix in ("ing", "ed", "es", "s", "d"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            stem = token[: -len(suffix)]
            out += [stem, stem + "e"]
            if len(stem) >= 3 and stem[-1] == stem[-2]:
                out.append(stem[:-1])
    return out


def cell_action(text: str, words: dict | None = None) -> str:
    """The side of a cell's first action word (open / close, flipped after a negation in
    the two words before it), ``want`` when it asks for something and names no action,
    ``none`` otherwise."""
    words = action_words() if words is None else words
    toks = [t for t in tokenize(text) if t.isalpha() or t == "n't"]
    want = False
    for i, t in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        side = None
        for b in _bases(t):
            side = words.get((b, nxt)) or words.get((b,))
            if side:
                break
        if side is None:
            continue
        if t.endswith("ed") and i and toks[i - 1] in _MODIFIED:  # "to detained Britons", "the banned party"
            continue
        if side == "want":
            want = True
            continue
        if any(w in _NEGATION for w in toks[max(0, i - 2):i]):
            side = "close" if side == "open" else "open"
        return side
    return "want" if want else "none"


def _stems(tokens: Sequence[str]) -> set[str]:
    return {t[:5] for t in tokens if t.isalpha() and len(t) > 2 and t not in _STOP}


def _cell_tokens(text: str, lexicon) -> tuple[str, bool, set[str]]:
    """(cue direction of the cell, has refusal/negation, content stems)."""
    toks = tokenize(text)
    direction = "none"
    if lexicon is not None:
        conv = div = 0
        for c in lexicon.match(" ".join(text.split()).replace("’", "'").lower()):
            if c.effective == CONVERGENCE:
                conv += 1
            else:
                div += 1
        direction = "conv" if conv > div else "div" if div > conv else ("mixed" if conv else "none")
    return direction, bool(_REFUSAL.search(text)), _stems(toks)


def row_context(a: str, b: str, lexicon=None) -> str:
    """The ``ctx`` feature tokens of a row's two position cells."""
    out = []
    da, ra, sa = _cell_tokens(a, lexicon)
    db, rb, sb = _cell_tokens(b, lexicon)
    out.append("cues=" + "_".join(sorted((da, db))))
    if ra != rb:
        out.append("refuse_one")
    elif ra:
        out.append("refuse_both")
    shared = sa & sb
    if shared:
        out.append("shared")
        if ra != rb:
            out.append("shared_refuse_one")  # "Share intelligence" | "Refuses to share"
        if _refused(a, shared) != _refused(b, shared):
            out.append("shared_object_refused_one")  # "Rejects ban" | "Proposes ban"
        if {da, db} == {"conv", "div"}:
            out.append("shared_cues_opposite")
    if _CONDITION.search(a) or _CONDITION.search(b):
        out.append("condition")
    na, nb = bool(_NO_POSITION.match(a) or not a.strip()), bool(_NO_POSITION.match(b) or not b.strip())
    if na or nb:
        out.append("no_position")
    out.append("act=" + "_".join(sorted((cell_action(a), cell_action(b)))))
    if {da, db} == {"conv", "div"}:
        out.append("cues_opposite")
    elif da == db and da in ("conv", "div"):
        out.append("cues_same")
    # the leading words (usually the verb: "Resume" | "Suspends"), as a pair and alone
    la, lb = _lead(a), _lead(b)
    if la and lb:
        out.append("lead=" + "|".join(sorted((la, lb))))
    out += [f"leadw={w}" for w in sorted({la, lb} - {""})]
    return " ".join(out)


def _refused(text: str, stems: set[str]) -> bool:
    """Whether a refusal or negation word ("rejects", "not", "refuses to") governs one of
    the shared content words: it is among the three words before it."""
    toks = [t for t in tokenize(text) if t.isalpha() or t == "n't"]
    for i, t in enumerate(toks):
        if t[:5] in stems and any(_REFUSAL.fullmatch(w) for w in toks[max(0, i - 3):i] if w not in _STOP):
            return True
    return False


def _lead(text: str) -> str:
    for t in tokenize(text):
        if t.isalpha() and t not in _STOP:
            return t[:5]
    return ""


def feature_frame(cells: Sequence[tuple[str, str]], predict: Callable[[list[str]], list[Prediction]] | None,
                  lexicon=None) -> pd.DataFrame:
    """The feature frame of rows given as (position_a, position_b)."""
    a = [x for x, _ in cells]
    b = [y for _, y in cells]
    preds = predict(a + b) if predict is not None and cells else []
    pa, pb = preds[: len(a)], preds[len(a):]
    rows = []
    for i, (x, y) in enumerate(cells):
        if preds:
            p, q = pa[i], pb[i]
            num = {"pc_min": min(p.p_convergence, q.p_convergence), "pc_max": max(p.p_convergence, q.p_convergence),
                   "pd_min": min(p.p_divergence, q.p_divergence), "pd_max": max(p.p_divergence, q.p_divergence),
                   "score_prod": p.score * q.score, "score_gap": abs(p.score - q.score)}
        else:
            num = dict.fromkeys(NUMERIC_COLUMNS, 0.0)
        rows.append({"words": f"{x} ||| {y}", "ctx": row_context(x, y, lexicon), **num})
    return pd.DataFrame(rows, columns=["words", "ctx", *NUMERIC_COLUMNS])


def build_table_pipeline(*, C: float = 1.0, seed: int = 0) -> Pipeline:
    features = ColumnTransformer([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w[\w'-]*\b"), "words"),
        ("ctx", CountVectorizer(token_pattern=r"\S+", lowercase=False, binary=True), "ctx"),
        ("num", "passthrough", list(NUMERIC_COLUMNS)),
    ], sparse_threshold=1.0)
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


@dataclass
class TableModel:
    """A fitted row classifier, with what it needs to build its features."""

    pipeline: Pipeline
    predict_sentences: Callable[[list[str]], list[Prediction]] | None = None
    lexicon: object = None

    def predict(self, cells: Sequence[tuple[str, str]]) -> list[Prediction]:
        if not len(cells):
            return []
        frame = feature_frame(cells, self.predict_sentences, self.lexicon)
        proba = self.pipeline.predict_proba(frame)
        order = [list(self.pipeline.classes_).index(label) for label in LABELS]
        proba = proba[:, order]
        return [Prediction(LABELS[int(np.argmax(p))], float(p[0]), float(p[1]), float(p[2])) for p in proba]


# --- annotated rows ---------------------------------------------------------------------
TABLE_COLUMNS = ("row_id", "table_id", "source", "actor_a", "actor_b", "header", "topic_cell", "position_a",
                 "position_b", "stance", "annotator")


def read_table_rows(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Annotated table rows (``corpus/annotations/table_rows.csv``): one row per table row,
    its two position cells and the row stance."""
    frames = []
    for p in paths:
        with open(p, encoding="utf-8", newline="") as fh:
            df = pd.DataFrame(list(csv.DictReader(line for line in fh if not line.startswith("#"))))
        missing = [c for c in ("table_id", "position_a", "position_b", "stance") if c not in df.columns]
        if missing:
            raise ValueError(f"{p}: missing column(s) {', '.join(missing)} for table-row annotations")
        bad = sorted(set(df["stance"]) - set(LABELS))
        if bad:
            raise ValueError(f"{p}: unknown stance label(s) {bad}; expected one of {list(LABELS)}")
        df["_file"] = str(p)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True).fillna("")
    return out


__all__ = ["TableModel", "build_table_pipeline", "feature_frame", "read_table_rows", "row_context",
           "NUMERIC_COLUMNS", "CONVERGENCE", "DIVERGENCE", "NEUTRAL"]
