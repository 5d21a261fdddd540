"""The stance classifier: a scikit-learn ``Pipeline``, its training, and its model folder.

Features: word n-grams, n-grams of five-letter word prefixes, cue counts (negation- and clause-aware) and
n-grams over the cue-abstracted sentence; classifier: class-balanced multinomial
logistic regression. A model folder holds ``model.skops`` (skops format: loading
checks every type against an allow-list, never unpickles arbitrary objects) and a card
(``card.json`` / ``card.md``) with data hashes, settings, versions and metrics.
"""

from __future__ import annotations

import hashlib
import json
import platform
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.config import Settings, load_settings
from pipeline.contracts import Prediction
from pipeline.labels import LABELS
from pipeline.stance.evaluate import majority_label, metrics
from pipeline.stance.features import CueAbstraction, CueFeatures, clean_text, clear_caches, stem_text
from pipeline.stance.lexicon import Lexicon
from pipeline.stance.vectorize import CompiledPipeline

MODEL_FILE = "model.skops"
#: The only non-standard types a model file may contain; anything else is refused.
TRUSTED_TYPES = frozenset({
    "pipeline.stance.features.CueFeatures",
    "pipeline.stance.features.CueAbstraction",
    "pipeline.stance.features.clean_text",
    "pipeline.stance.features.stem_text",
})


class ModelError(RuntimeError):
    """A model folder that is missing, incomplete, tampered with or unsafe."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_lexicon(settings: Settings | None = None) -> Lexicon:
    settings = settings or load_settings()
    return Lexicon.from_files(
        [settings.path("vocab", "cues"), settings.path("vocab", "cues_manual")],
        settings.path("vocab", "negators"),
    )


def build_pipeline(lexicon: Lexicon, *, C: float = 2.0, seed: int = 0) -> Pipeline:
    """The untrained classifier pipeline."""
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
    ])
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


def split_holdout(df: pd.DataFrame, *, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train / held-out split grouped by article (no article on both sides)."""
    gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train, test = next(gss.split(df, df["stance"], groups=df["article_id"]))
    return train, test


def tune_offsets(proba: np.ndarray, y: Sequence[str], classes: np.ndarray, span: float = 0.6, step: float = 0.1) -> np.ndarray:
    """Log-probability offsets per class (the last class fixed at 0) that maximise
    macro-F1 of cross-validated probabilities; a small grid, so little room to overfit."""
    logp = np.log(proba + 1e-12)
    grid = np.round(np.arange(-span, span + 1e-9, step), 3)
    best, best_f1 = np.zeros(len(classes)), metrics(list(y), classes[np.argmax(logp, axis=1)].tolist())["macro_f1"]
    for a in grid:
        for b in grid:
            o = np.array([a, b] + [0.0] * (len(classes) - 2))
            f1 = metrics(list(y), classes[np.argmax(logp + o, axis=1)].tolist())["macro_f1"]
            if f1 > best_f1 + 1e-9:
                best, best_f1 = o, f1
    return best


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
@dataclass
class TrainResult:
    model: Pipeline
    card: dict


def train(
    paths: Sequence[str | Path],
    *,
    name: str = "default",
    seed: int = 13,
    test_size: float = 0.2,
    c_grid: Sequence[float] = (1.0, 2.0, 4.0),
    folds: int = 5,
    cross_source: bool = False,
    settings: Settings | None = None,
) -> TrainResult:
    """Train on the annotations, keeping a grouped held-out split that training never sees.

    C is chosen by grouped, stratified cross-validation on the training part only; the
    card reports that cross-validated macro-F1 and the held-out metrics of the model and
    of the majority-class and lexicon-only baselines.
    """
    settings = settings or load_settings()
    lexicon = load_lexicon(settings)
    df = read_annotations(paths)
    tr, te = split_holdout(df, test_size=test_size, seed=seed)
    train_df, test_df = df.iloc[tr], df.iloc[te]
    X, y, groups = train_df["text"].tolist(), train_df["stance"].to_numpy(), train_df["article_id"].to_numpy()
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    cv_scores, cv_proba = {}, {}
    classes = np.array(sorted(set(y)))
    for C in c_grid:
        proba = cross_val_predict(build_pipeline(lexicon, C=C, seed=seed), X, y, groups=groups, cv=cv, n_jobs=1,
                                  method="predict_proba")
        cv_proba[C] = proba
        cv_scores[C] = metrics(y, classes[np.argmax(proba, axis=1)].tolist())
    best_c = max(c_grid, key=lambda c: (cv_scores[c]["macro_f1"], -c))
    offsets = tune_offsets(cv_proba[best_c], y, classes)
    cv_tuned = metrics(y, classes[np.argmax(np.log(cv_proba[best_c] + 1e-12) + offsets, axis=1)].tolist())
    model = slim(build_pipeline(lexicon, C=best_c, seed=seed).fit(X, y))
    # class-balanced training still leaves the classes' priors off for macro-F1; shifting
    # the intercepts by offsets tuned on the cross-validated probabilities of the training
    # part (never the held-out split) corrects that and keeps probabilities normalised
    clf = model.named_steps["clf"]
    clf.intercept_ = clf.intercept_ + offsets[[list(classes).index(c) for c in clf.classes_]]

    test_y = test_df["stance"].tolist()
    majority = majority_label(y)
    held = {
        "model": metrics(test_y, model.predict(test_df["text"].tolist()).tolist()),
        "majority": metrics(test_y, [majority] * len(test_y)),
        "lexicon": metrics(test_y, [lexicon.vote(t) for t in test_df["text"]]),
    }
    files = []
    for p in paths:
        sub = df[df["_file"] == str(p)]
        files.append({"path": str(p), "sha256": sha256_file(Path(p)), "rows_used": int(len(sub))})
    card = {
        "name": name,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "task": "sentence stance: convergence / divergence / neutral (see CODEBOOK.md)",
        "labels": list(LABELS),
        "data": {
            "files": files,
            "rows": int(len(df)),
            "train_rows": int(len(train_df)),
            "heldout_rows": int(len(test_df)),
            "train_label_counts": train_df["stance"].value_counts().to_dict(),
            "heldout_label_counts": test_df["stance"].value_counts().to_dict(),
            "train_article_ids": sorted(set(train_df["article_id"])),
            "heldout_article_ids": sorted(set(test_df["article_id"])),
        },
        "settings": {"seed": seed, "test_size": test_size, "split": "GroupShuffleSplit by article_id",
                     "cv": f"StratifiedGroupKFold({folds}) on the training part", "C_grid": list(c_grid), "C": best_c,
                     "majority_label": majority, "lexicon_entries": len(lexicon.cues),
                     "class_offsets": {str(c): round(float(o), 3) for c, o in zip(classes, offsets)}},
        "metrics": {
            "cross_validated": {"macro_f1_by_C": {str(c): cv_scores[c]["macro_f1"] for c in c_grid}, "best": cv_scores[best_c],
                                "with_offsets": cv_tuned},
            "heldout": held,
        },
        "versions": versions(),
    }
    if cross_source:
        card["metrics"]["cross_source"] = cross_source_metrics(df, lexicon, C=best_c, seed=seed)
    return TrainResult(model=model, card=card)


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
        out[str(src)] = metrics(test["stance"].tolist(), m.predict(test["text"].tolist()).tolist())["macro_f1"]
    if out:
        out["mean"] = round(float(np.mean(list(out.values()))), 4)
    return out


def versions() -> dict:
    import sklearn, skops, spacy, scipy  # noqa: E401
    import pipeline

    return {"python": platform.python_version(), "stance-pipeline": pipeline.__version__, "scikit-learn": sklearn.__version__,
            "skops": skops.__version__, "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
            "spacy": spacy.__version__}


# -- model folder -------------------------------------------------------------------
def save_model(result: TrainResult, folder: str | Path) -> str:
    """Write ``model.skops`` and the card atomically; returns the model id."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (MODEL_FILE + ".tmp")
    sio.dump(result.model, tmp, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    digest = sha256_file(tmp)
    tmp.replace(folder / MODEL_FILE)
    card = dict(result.card)
    card["model_file"] = {"name": MODEL_FILE, "sha256": digest}
    card["model_id"] = f"{card['name']}-{digest[:10]}"
    for name, text in (("card.json", json.dumps(card, indent=2, sort_keys=False) + "\n"), ("card.md", card_markdown(card))):
        t = folder / (name + ".tmp")
        t.write_text(text, encoding="utf-8")
        t.replace(folder / name)
    return card["model_id"]


def card_markdown(card: dict) -> str:
    from pipeline.stance.evaluate import format_table

    held = card["metrics"]["heldout"]
    cv = card["metrics"]["cross_validated"]["best"]
    lines = [
        f"# Model card: {card.get('model_id', card['name'])}",
        "",
        f"Created {card['created']}. Task: {card['task']}.",
        "",
        "## Data",
        f"{card['data']['rows']} annotated sentences; {card['data']['train_rows']} for training, "
        f"{card['data']['heldout_rows']} held out ({card['settings']['split']}; never seen in training or model selection).",
        "",
        "| file | sha256 | rows |", "|---|---|---|",
        *[f"| {f['path']} | `{f['sha256'][:16]}…` | {f['rows_used']} |" for f in card["data"]["files"]],
        "",
        f"Train labels: {card['data']['train_label_counts']}; held-out labels: {card['data']['heldout_label_counts']}.",
        "",
        "## Metrics",
        f"Cross-validated on the training part ({card['settings']['cv']}), macro-F1 {cv['macro_f1']:.3f} "
        f"(C = {card['settings']['C']}; by C: {card['metrics']['cross_validated']['macro_f1_by_C']}); "
        f"{card['metrics']['cross_validated'].get('with_offsets', cv)['macro_f1']:.3f} with the class offsets "
        f"{card['settings'].get('class_offsets')} tuned on those cross-validated probabilities.",
        "",
        "Held-out split, model next to the baselines:",
        "",
        "```",
        format_table(held),
        "```",
        "",
        *( [f"Leave-one-source-out macro-F1 (trained on the other sources; no class offsets): "
            f"{card['metrics']['cross_source']}.", ""] if card["metrics"].get("cross_source") else []),
        "## Settings and versions",
        "```json",
        json.dumps({"settings": card["settings"], "versions": card["versions"]}, indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)


@dataclass
class LoadedModel:
    pipeline: Pipeline
    card: dict
    folder: Path
    compiled: CompiledPipeline | None = field(default=None, repr=False)

    def __post_init__(self):
        # the same predictions, faster (see pipeline/stance/vectorize.py); None when the
        # pipeline has a shape the compiled path does not know, and scikit-learn runs as is
        if self.compiled is None:
            self.compiled = CompiledPipeline.build(self.pipeline)

    @property
    def model_id(self) -> str:
        return self.card.get("model_id", self.folder.name)

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


def load_model(folder: str | Path) -> LoadedModel:
    """Load a model folder, refusing foreign types and files that do not match the card."""
    folder = Path(folder)
    path = folder / MODEL_FILE
    card_path = folder / "card.json"
    if not path.is_file():
        raise ModelError(f"{folder}: no {MODEL_FILE} (train one with `stance train` or `make train`)")
    if not card_path.is_file():
        raise ModelError(f"{folder}: no card.json next to the model")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{card_path}: unreadable card ({exc})") from None
    expected = card.get("model_file", {}).get("sha256")
    if expected and sha256_file(path) != expected:
        raise ModelError(f"{path}: file does not match the sha256 in card.json (tampered or replaced); refusing to load")
    # sio.load audits every object against the standard types plus ours and refuses
    # anything else; auditing once (rather than get_untrusted_types, then load) halves
    # the load time
    try:
        model = sio.load(path, trusted=sorted(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise ModelError(f"{path}: refusing to load untrusted type(s): {exc}") from None
    except Exception as exc:  # corrupt zip, not a skops file, missing parts
        raise ModelError(f"{path}: not a valid skops file or cannot load ({type(exc).__name__}: {exc})") from None
    if not isinstance(model, Pipeline):
        raise ModelError(f"{path}: expected a scikit-learn Pipeline, found {type(model).__name__}")
    return LoadedModel(model, card, folder)
