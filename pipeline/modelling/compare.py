"""Comparing two models on one fixed yardstick, with bootstrap intervals.

Items are resampled by article (a cluster bootstrap: sentences of one article are not
independent), the same resample for both models, so the interval of the *difference*
is that of a paired comparison. Percentile intervals, 95% by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from pipeline.labels import LABELS


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return {"estimate": round(self.estimate, 4), "low": round(self.low, 4), "high": round(self.high, 4)}

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


def cluster_resamples(groups: Sequence[str], n: int, seed: int) -> list[np.ndarray]:
    """``n`` resamples of item indices: articles drawn with replacement, each bringing
    all its items."""
    groups = np.asarray(groups)
    uniq, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(len(uniq))]
    rng = np.random.default_rng(seed)
    return [np.concatenate([members[g] for g in rng.integers(0, len(uniq), len(uniq))]) for _ in range(n)]


def paired_bootstrap(stat: Callable[[np.ndarray, str], float], groups: Sequence[str], *, n: int = 1000, seed: int = 13,
                     level: float = 0.95) -> dict[str, Interval]:
    """``stat(indices, which)`` for which in ("new", "previous") on the full set and on
    each resample: intervals for both and for new − previous."""
    full = np.arange(len(groups))
    est = {w: stat(full, w) for w in ("new", "previous")}
    draws = {"new": [], "previous": []}
    for idx in cluster_resamples(groups, n, seed):
        for w in draws:
            draws[w].append(stat(idx, w))
    a = (1 - level) / 2
    out = {}
    for w in ("new", "previous"):
        lo, hi = np.quantile(draws[w], [a, 1 - a])
        out[w] = Interval(est[w], float(lo), float(hi))
    diff = np.asarray(draws["new"]) - np.asarray(draws["previous"])
    lo, hi = np.quantile(diff, [a, 1 - a])
    out["difference"] = Interval(est["new"] - est["previous"], float(lo), float(hi))
    return out


def macro_f1_stat(y: Sequence[str], predictions: dict[str, Sequence[str]], labels: Sequence[str] = LABELS):
    """A ``stat`` for :func:`paired_bootstrap`: macro-F1 over ``labels`` (numpy, fast)."""
    index = {lab: i for i, lab in enumerate(labels)}
    k = len(labels)
    yi = np.array([index.get(v, k) for v in y])
    pi = {w: np.array([index.get(v, k) for v in p]) for w, p in predictions.items()}

    def stat(idx: np.ndarray, which: str) -> float:
        t, p = yi[idx], pi[which][idx]
        f1s = []
        for c in range(k):
            tp = np.sum((t == c) & (p == c))
            n_pred, n_true = np.sum(p == c), np.sum(t == c)
            f1s.append(2 * tp / (n_pred + n_true) if n_pred + n_true else 0.0)
        return float(np.mean(f1s))

    return stat


def f1_from_counts_stat(counts: dict[str, np.ndarray]):
    """A ``stat`` for :func:`paired_bootstrap` from per-item ``(correct, predicted, gold)``
    counts (an ``(n, 3)`` array per model): F1 = 2·correct / (predicted + gold)."""

    def stat(idx: np.ndarray, which: str) -> float:
        c = counts[which][idx].sum(axis=0)
        return float(2 * c[0] / (c[1] + c[2])) if c[1] + c[2] else 0.0

    return stat


def format_intervals(title: str, res: dict[str, Interval], n: int, unit: str) -> str:
    return (f"{title} ({n} {unit}; 95% bootstrap interval by article):\n"
            f"  new        {res['new']}\n  previous   {res['previous']}\n  difference {res['difference'].estimate:+.3f} "
            f"[{res['difference'].low:+.3f}, {res['difference'].high:+.3f}]")
