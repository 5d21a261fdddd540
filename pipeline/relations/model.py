"""The relation classifier: for each candidate pair, ``none`` or the pair's stance, and
who acts on whom.

Two scikit-learn pipelines over the feature frame of :mod:`pipeline.relations.features`,
each a ``ColumnTransformer`` (word 1–3-grams of the marked sentence, the structural
tokens, the sentence classifier's probabilities and the actors' shares of the article)
into a class-balanced logistic regression:

* ``relation``: ``none`` / ``convergence`` / ``divergence`` / ``neutral`` (only ``none``
  drops a pair; a record's stance comes from here, not from the sentence classifier);
* ``direction``: whether the earlier-mentioned actor acts on the later one (``first``),
  the reverse (``second``) or neither (``symmetric``: "the two sides agreed"): a logistic
  regression on the relation pipeline's features, trained on the related pairs only.

Both are plain scikit-learn objects, saved with skops in the model folder
(:mod:`pipeline.models`: the relation pipeline and the direction classifier).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipeline.contracts import Candidate, RelationDecision
from pipeline.labels import RELATION_LABELS
from pipeline.relations.features import NUMERIC_COLUMNS
from pipeline.stance.vectorize import CompiledColumnPipeline

DIRECTIONS = ("first", "second", "symmetric")


def build_relation_pipeline(*, C: float = 1.0, seed: int = 0) -> Pipeline:
    """The untrained pair classifier (relation or direction: same features; with the
    sentence encoder's embedding of the sentence inside :func:`pipeline.encoder.use_encoder`)."""
    from pipeline.encoder import EncoderFeatures, active_encoder

    enc = [("enc", EncoderFeatures(active_encoder()), "text")] if active_encoder() else []
    features = ColumnTransformer([
        ("marked", TfidfVectorizer(ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=40000,
                                   token_pattern=r"(?u)\b\w[\w'-]*\b"), "marked"),
        ("ctx", CountVectorizer(token_pattern=r"\S+", lowercase=False, binary=True, min_df=2), "ctx"),
        ("num", "passthrough", list(NUMERIC_COLUMNS)),
    ] + enc, sparse_threshold=1.0)
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


def slim_pair(model: Pipeline) -> Pipeline:
    """Vocabularies as plain ints and no ``stop_words_`` (smaller skops files)."""
    for _, est, _ in model.named_steps["features"].transformers_:
        if hasattr(est, "stop_words_"):
            delattr(est, "stop_words_")
        if hasattr(est, "vocabulary_"):
            est.vocabulary_ = {t: int(i) for t, i in est.vocabulary_.items()}
    return model


def roles(cand: Candidate) -> tuple[str, str]:
    """(earlier actor, later actor) of a candidate: the mention order when both are named,
    the named actor first when one is, the pair's order otherwise."""
    if cand.first is not None and cand.second is not None:
        return cand.first[0], cand.second[0]
    if cand.first is not None:
        other = cand.actor_b if cand.first[0] == cand.actor_a else cand.actor_a
        return cand.first[0], other
    return cand.actor_a, cand.actor_b


@dataclass
class RelationModel:
    """The fitted relation and direction pipelines."""

    relation: Pipeline
    direction: Pipeline | None = None
    min_direction: float = 0.5  # a source / target is given only when this sure
    compiled: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.direction is not None and not isinstance(self.direction, Pipeline):
            # a bare classifier over the relation pipeline's features
            self.direction = Pipeline([("features", self.relation.named_steps["features"]), ("clf", self.direction)])
        # the same predictions, faster (pipeline/stance/vectorize.py); scikit-learn otherwise
        fast = CompiledColumnPipeline.build(self.relation)
        if fast is not None:
            self.compiled["relation"] = fast
        if self.direction is not None:
            shared = self.direction.named_steps.get("features") is self.relation.named_steps["features"]
            fast_dir = fast.with_clf(self.direction.steps[-1][1]) if (shared and fast is not None) \
                else CompiledColumnPipeline.build(self.direction)
            if fast_dir is not None:
                self.compiled["direction"] = fast_dir

    def to_save(self) -> dict:
        """What the model folder stores: the relation pipeline and the direction classifier
        (its features are the relation pipeline's)."""
        d = self.direction
        if d is not None and d.named_steps.get("features") is self.relation.named_steps["features"]:
            d = d.steps[-1][1]
        return {"relation": self.relation, "direction": d}

    def _predict_proba(self, name: str, frame: pd.DataFrame) -> np.ndarray:
        return (self.compiled.get(name) or getattr(self, name)).predict_proba(frame)

    def proba(self, frame: pd.DataFrame) -> np.ndarray:
        """P(label) per row, columns in :data:`RELATION_LABELS` order."""
        if not len(frame):
            return np.zeros((0, len(RELATION_LABELS)))
        p = self._predict_proba("relation", frame)
        order = [list(self.relation.classes_).index(l) for l in RELATION_LABELS]
        return p[:, order]

    def predict(self, frame: pd.DataFrame, candidates: Sequence[Candidate]) -> list[RelationDecision]:
        """One decision per row of ``frame`` (the features of ``candidates``)."""
        if not len(frame):
            return []
        fast, fast_dir = self.compiled.get("relation"), self.compiled.get("direction")
        shared = fast is not None and fast_dir is not None and fast_dir.parts is fast.parts
        X = fast.transform(frame) if shared else None  # one feature transform for both classifiers
        if X is not None:
            proba = fast.clf.predict_proba(X)[:, [list(self.relation.classes_).index(l) for l in RELATION_LABELS]]
        else:
            proba = self.proba(frame)
        best = np.argmax(proba, axis=1)
        related = np.flatnonzero(best != 0)
        dirs: dict[int, tuple[str, float]] = {}
        if self.direction is not None and len(related):
            dp = (fast_dir.clf.predict_proba(X[related]) if X is not None
                  else self._predict_proba("direction", frame.iloc[related].reset_index(drop=True)))
            classes = list(self.direction.classes_)
            for i, row in zip(related.tolist(), dp):
                k = int(np.argmax(row))
                dirs[i] = (classes[k], float(row[k]))
        out = []
        for i, (cand, p) in enumerate(zip(candidates, proba.tolist())):
            label = RELATION_LABELS[int(best[i])]
            src = tgt = ""
            d = dirs.get(i)
            if d is not None and d[0] != "symmetric" and d[1] >= self.min_direction:
                x, y = roles(cand)
                src, tgt = (x, y) if d[0] == "first" else (y, x)
            out.append(RelationDecision(label, p[0], p[1], p[2], p[3], src, tgt))
        return out
