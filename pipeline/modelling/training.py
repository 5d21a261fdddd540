"""Training steps both classifiers share: the grouped split, model selection by grouped
cross-validation, class offsets, metrics and versions.

Everything is grouped by article: no article has sentences on both sides of a split, so
held-out and cross-validated figures measure text the model has not read.
"""

from __future__ import annotations

import platform
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, cross_val_predict


def metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Per-class precision / recall / F1 / support, macro-F1 (over ``labels``), accuracy
    and the confusion matrix (rows: true label, columns: predicted, in ``labels`` order)."""
    labels = list(labels)
    if not len(y_true):
        zero = {lab: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0} for lab in labels}
        return {"n": 0, "macro_f1": 0.0, "accuracy": 0.0, "per_class": zero,
                "confusion": {"labels": labels, "matrix": [[0] * len(labels) for _ in labels]}}
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per = {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
                 "support": int(s[i])} for i, lab in enumerate(labels)}
    n = len(y_true)
    acc = sum(a == b for a, b in zip(y_true, y_pred)) / n if n else 0.0
    return {
        "n": n,
        "macro_f1": round(float(sum(f) / len(labels)), 4) if labels else 0.0,
        "accuracy": round(acc, 4),
        "per_class": per,
        "confusion": {"labels": labels, "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist() if n else []},
    }


def majority_label(y: Sequence[str]) -> str:
    return Counter(y).most_common(1)[0][0]


def split_holdout(groups: Sequence[str], *, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train / held-out split grouped by article (no article on both sides)."""
    groups = np.asarray(groups)
    gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train, test = next(gss.split(np.zeros(len(groups)), groups=groups))
    return train, test


def _macro_f1(y_idx: np.ndarray, pred_idx: np.ndarray, k: int, label_idx: np.ndarray) -> float:
    cm = np.bincount(y_idx * k + pred_idx, minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(float)
    denom = cm.sum(0) + cm.sum(1)
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return float(f1[label_idx].mean()) if len(label_idx) else 0.0


def joint_holdout(*group_lists: Sequence[str], test_size: float, seed: int) -> set[str]:
    """The held-out article ids of one grouped split over several data sets (sentence and
    pair annotations share articles): an article is held out in all of them or in none."""
    ids = np.asarray(sorted({g for groups in group_lists for g in groups}))
    _, test = split_holdout(ids, test_size=test_size, seed=seed)
    return set(ids[test].tolist())


def _related_f1(y_idx: np.ndarray, pred_idx: np.ndarray, k: int, label_idx: np.ndarray, abstain: int) -> float:
    """Micro-F1 over every label but ``abstain`` (for the relation classifier: the
    (pair, stance) F1 of its candidates, where ``none`` is no record)."""
    cm = np.bincount(y_idx * k + pred_idx, minlength=k * k).reshape(k, k)
    keep = np.array([i for i in range(k) if i != abstain])
    tp = float(np.diag(cm)[keep].sum())
    n_pred, n_gold = float(cm[:, keep].sum()), float(cm[keep, :].sum())
    return 2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0


def tune_offsets(proba: np.ndarray, y: Sequence[str], classes: np.ndarray, labels: Sequence[str],
                 span: float = 0.6, step: float = 0.1, abstain: str | None = None) -> np.ndarray:
    """Log-probability offsets per class (the last class fixed at 0) that maximise
    macro-F1 of cross-validated probabilities, or with ``abstain`` (a label that yields
    no output, e.g. ``none``) the micro-F1 of the other labels: an exhaustive search over
    a small grid, so there is little room to overfit."""
    from functools import partial
    from itertools import product

    logp = np.log(proba + 1e-12)
    grid = np.round(np.arange(-span, span + 1e-9, step), 3)
    index = {c: i for i, c in enumerate(classes)}
    y_idx = np.array([index[v] for v in y])
    k = len(classes)
    label_idx = np.array([index[l] for l in labels if l in index])
    score = partial(_related_f1, abstain=index[abstain]) if abstain in index else _macro_f1
    best, best_f1 = np.zeros(k), score(y_idx, np.argmax(logp, axis=1), k, label_idx)
    for combo in product(grid, repeat=k - 1):
        o = np.array(list(combo) + [0.0])
        f1 = score(y_idx, np.argmax(logp + o, axis=1), k, label_idx)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = o, f1
    return best


def shift_intercepts(clf, offsets: np.ndarray, classes: np.ndarray) -> None:
    """Add tuned offsets to a fitted linear classifier's intercepts (its own class order)."""
    clf.intercept_ = clf.intercept_ + offsets[[list(classes).index(c) for c in clf.classes_]]


@dataclass
class Selection:
    C: float
    scores: dict  # C -> metrics of the cross-validated predictions
    proba: np.ndarray  # cross-validated probabilities of the chosen C (columns: classes)
    classes: np.ndarray
    offsets: np.ndarray
    tuned: dict  # metrics of the cross-validated predictions with the offsets


def select(build: Callable[[float], object], X, y: np.ndarray, groups: np.ndarray, *, labels: Sequence[str],
           c_grid: Sequence[float], folds: int, seed: int, offsets: bool = True,
           abstain: str | None = None) -> Selection:
    """Choose C by grouped, stratified cross-validation on the training part, and tune
    class offsets on that C's cross-validated probabilities (for the F1 of the labels
    other than ``abstain`` when given, see :func:`tune_offsets`)."""
    n_groups = len(set(groups.tolist()))
    cv = StratifiedGroupKFold(n_splits=max(2, min(folds, n_groups)), shuffle=True, random_state=seed)
    classes = np.array(sorted(set(y.tolist())))
    scores, probas = {}, {}
    for C in c_grid:
        proba = cross_val_predict(build(C), X, y, groups=groups, cv=cv, n_jobs=1, method="predict_proba")
        probas[C] = proba
        scores[C] = metrics(y, classes[np.argmax(proba, axis=1)].tolist(), labels)
    best = max(c_grid, key=lambda c: (scores[c]["macro_f1"], -c))
    off = tune_offsets(probas[best], y, classes, labels, abstain=abstain) if offsets else np.zeros(len(classes))
    tuned = metrics(y, classes[np.argmax(np.log(probas[best] + 1e-12) + off, axis=1)].tolist(), labels)
    return Selection(best, scores, probas[best], classes, off, tuned)


def versions() -> dict:
    import pandas as pd
    import scipy
    import sklearn
    import skops

    from pipeline._spacy import spacy

    import pipeline

    return {"python": platform.python_version(), "stance-pipeline": pipeline.__version__, "scikit-learn": sklearn.__version__,
            "skops": skops.__version__, "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
            "spacy": spacy.__version__}
