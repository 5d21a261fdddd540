"""The sentence stance classifier: a scikit-learn ``Pipeline`` and its training.

Features: word n-grams, n-grams of five-letter word prefixes, cue counts (negation- and
clause-aware) and n-grams over the cue-abstracted sentence; classifier: class-balanced
multinomial logistic regression with per-class offsets tuned on cross-validated
probabilities. It gives ``sentences.csv`` its stance and the relation classifier
(:mod:`pipeline.relations.model`) three of its features. The model folder both live in
is :mod:`pipeline.models`; the steps both train with are :mod:`pipeline.modelling.training`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.config import Settings, load_settings
from pipeline.contracts import Prediction
from pipeline.labels import LABELS
from pipeline.modelling.training import metrics, select, shift_intercepts
from pipeline.stance.features import CueAbstraction, CueFeatures, clean_text, clear_caches, stem_text
from pipeline.stance.lexicon import Lexicon
from pipeline.stance.vectorize import CompiledPipeline
#: The only non-standard types a model file may contain; anything else is refused.
TRUSTED_TYPES = frozenset({
    "pipeline.stance.features.CueFeatures",
    "pipeline.stance.features.CueAbstraction",
    "pipeline.stance.features.clean_text",
    "pipeline.stance.features.stem_text",
    "pipeline.encoder.EncoderFeatures",  # parameters only: the weights are verified by their SHA-256
})


def load_lexicon(settings: Settings | None = None) -> Lexicon:
    settings = settings or load_settings()
    return Lexicon.from_files(
        [settings.path("vocab", "cues"), settings.path("vocab", "cues_manual")],
        settings.path("vocab", "negators"),
    )


def build_pipeline(lexicon: Lexicon, *, C: float = 2.0, seed: int = 0) -> Pipeline:
    """The untrained classifier pipeline (with the sentence encoder's embeddings as one
    more feature block inside :func:`pipeline.encoder.use_encoder`)."""
    from pipeline.encoder import EncoderFeatures, active_encoder

    cues = dict(lexicon.cues)
    negators = [" ".join(n) for n in lexicon.negators]
    features = FeatureUnion([
        ("words", TfidfVectorizer(preprocessor=clean_text, lowercase=True, ngram_range=(1, 2), min_df=2,
                                  sublinear_tf=True, max_features=40000, token_pattern=r"(?u)\b\w[\w'-]*\b")),
        ("stems", TfidfVectorizer(preprocessor=stem_text, lowercase=False, ngram_range=(1, 2), min_df=2,
                                  sublinear_tf=True, max_features=40000, token_pattern=r"\S+")),
        ("cues", CueFeatures(cues=cues, negators=negators)),
        ("abstract", Pipeline([
            ("rewrite", CueAbstraction(cues=cues, negators=negators)),
            ("ngrams", TfidfVectorizer(lowercase=False, ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                       token_pattern=r"\S+", max_features=40000)),
        ])),
    ] + ([("encoder", EncoderFeatures(active_encoder()))] if active_encoder() else []))
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


# -- data ---------------------------------------------------------------------------
REQUIRED = ("text", "stance")


def read_annotations(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Read annotation CSVs (``text, stance[, topic, source, article_id]``) and check them."""
    frames = []
    for p in paths:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        missing = [c for c in REQUIRED if c not in df.columns]
        if missing:
            raise ValueError(f"{p}: missing column(s) {', '.join(missing)}")
        bad = sorted(set(df["stance"]) - set(LABELS))
        if bad:
            raise ValueError(f"{p}: unknown stance label(s) {bad}; allowed: {', '.join(LABELS)}")
        for col in ("topic", "source", "article_id"):
            if col not in df.columns:
                df[col] = ""
        df["article_id"] = df["article_id"].where(df["article_id"] != "", df["text"].map(lambda t: hashlib.sha1(t.encode()).hexdigest()[:12]))
        df["_file"] = str(p)
        frames.append(df[["text", "stance", "topic", "source", "article_id", "_file"]])
    df = pd.concat(frames, ignore_index=True)
    df = df[df["text"].str.strip() != ""]
    return df.drop_duplicates(subset=["text"], keep="last").reset_index(drop=True)


def slim(model: Pipeline) -> Pipeline:
    """Keep the model file small: drop what prediction does not need (the vectorizers'
    ``stop_words_``, kept only for introspection) and store vocabularies as plain ints."""
    for step in model.named_steps["features"].transformer_list:
        est = step[1]
        vecs = [est] if isinstance(est, TfidfVectorizer) else [s for _, s in getattr(est, "steps", []) if isinstance(s, TfidfVectorizer)]
        for v in vecs:
            if hasattr(v, "stop_words_"):
                delattr(v, "stop_words_")
            if hasattr(v, "vocabulary_"):
                # numpy integers would each become a file in the skops archive
                v.vocabulary_ = {term: int(i) for term, i in v.vocabulary_.items()}
    return model


# -- training -----------------------------------------------------------------------
def fit_sentence(train_df: pd.DataFrame, lexicon: Lexicon, *, seed: int, c_grid: Sequence[float], folds: int) -> tuple[Pipeline, dict]:
    """Choose C by grouped cross-validation on ``train_df``, tune class offsets on its
    cross-validated probabilities, fit on all of it; returns the model and what was chosen."""
    X, y, groups = train_df["text"].tolist(), train_df["stance"].to_numpy(), train_df["article_id"].to_numpy()
    sel = select(lambda C: build_pipeline(lexicon, C=C, seed=seed), X, y, groups, labels=LABELS, c_grid=c_grid,
                 folds=folds, seed=seed)
    model = slim(build_pipeline(lexicon, C=sel.C, seed=seed).fit(X, y))
    # class-balanced training still leaves the classes' priors off for macro-F1; shifting
    # the intercepts by offsets tuned on the cross-validated probabilities of the training
    # part (never the held-out split) corrects that and keeps probabilities normalised
    shift_intercepts(model.named_steps["clf"], sel.offsets, sel.classes)
    info = {"C": sel.C, "class_offsets": {str(c): round(float(o), 3) for c, o in zip(sel.classes, sel.offsets)},
            "cross_validated": {"macro_f1_by_C": {str(c): sel.scores[c]["macro_f1"] for c in c_grid},
                                "best": sel.scores[sel.C], "with_offsets": sel.tuned}}
    return model, info


def heldout_sentence_metrics(model: Pipeline, test_df: pd.DataFrame, lexicon: Lexicon, majority: str) -> dict:
    test_y = test_df["stance"].tolist()
    return {
        "model": metrics(test_y, model.predict(test_df["text"].tolist()).tolist(), LABELS),
        "majority": metrics(test_y, [majority] * len(test_y), LABELS),
        "lexicon": metrics(test_y, [lexicon.vote(t) for t in test_df["text"]], LABELS),
    }


def cross_source_metrics(df: pd.DataFrame, lexicon: Lexicon, *, C: float, seed: int, min_rows: int = 50) -> dict:
    """Leave one source out: train on every other source, score on the one left out.

    A proxy for what happens on text from a publication, period or genre the model has
    never seen (the held-out split shares sources with training).
    """
    out = {}
    for src, test in df.groupby("source"):
        if len(test) < min_rows or not src:
            continue
        train_part = df[df["source"] != src]
        m = build_pipeline(lexicon, C=C, seed=seed).fit(train_part["text"].tolist(), train_part["stance"].to_numpy())
        out[str(src)] = metrics(test["stance"].tolist(), m.predict(test["text"].tolist()).tolist(), LABELS)["macro_f1"]
    if out:
        out["mean"] = round(float(np.mean(list(out.values()))), 4)
    return out


@dataclass
class SentenceModel:
    """A fitted sentence classifier, ready to predict batches."""

    pipeline: Pipeline
    compiled: CompiledPipeline | None = field(default=None, repr=False)

    def __post_init__(self):
        # the same predictions, faster (see pipeline/stance/vectorize.py); None when the
        # pipeline has a shape the compiled path does not know, and scikit-learn runs as is
        if self.compiled is None:
            self.compiled = CompiledPipeline.build(self.pipeline)

    @property
    def lexicon(self) -> Lexicon:
        cues = dict(self.pipeline.named_steps["features"].transformer_list)["cues"]
        return cues._lexicon()

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Batch prediction: one ``predict_proba`` call for all texts."""
        if not len(texts):
            return []
        proba = (self.compiled or self.pipeline).predict_proba(list(texts))
        order = [list(self.pipeline.classes_).index(l) for l in LABELS]
        proba = proba[:, order]
        best = np.argmax(proba, axis=1).tolist()
        lex = self.lexicon
        out = []
        for text, k, (pc, pd_, pn) in zip(texts, best, proba.tolist()):
            cues = tuple(c.describe() for c in lex.match(clean_text(text)))
            out.append(Prediction(LABELS[k], pc, pd_, pn, cues))
        clear_caches()  # the caches serve one batch; memory stays flat across batches
        return out
