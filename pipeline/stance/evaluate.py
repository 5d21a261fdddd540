"""Metrics for stance predictions, and the baselines every model is shown next to."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from pipeline.labels import LABELS


def metrics(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """Per-class precision / recall / F1 / support, macro-F1, accuracy and the confusion
    matrix (rows: true label, columns: predicted, both in ``LABELS`` order)."""
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS), zero_division=0)
    per = {
        lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4), "support": int(s[i])}
        for i, lab in enumerate(LABELS)
    }
    n = len(y_true)
    acc = sum(a == b for a, b in zip(y_true, y_pred)) / n if n else 0.0
    return {
        "n": n,
        "macro_f1": round(float(sum(f) / len(LABELS)), 4),
        "accuracy": round(acc, 4),
        "per_class": per,
        "confusion": {"labels": list(LABELS), "matrix": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist()},
    }


def majority_label(y: Sequence[str]) -> str:
    return Counter(y).most_common(1)[0][0]


def format_table(results: dict[str, dict]) -> str:
    """A plain-text side-by-side table of several systems' metrics."""
    names = list(results)
    head = f"{'':24}" + "".join(f"{n:>14}" for n in names)
    lines = [head]
    lines.append(f"{'macro-F1':24}" + "".join(f"{results[n]['macro_f1']:>14.3f}" for n in names))
    lines.append(f"{'accuracy':24}" + "".join(f"{results[n]['accuracy']:>14.3f}" for n in names))
    for lab in LABELS:
        for m in ("precision", "recall", "f1"):
            lines.append(f"{lab + ' ' + m:24}" + "".join(f"{results[n]['per_class'][lab][m]:>14.3f}" for n in names))
    first = results[names[0]]
    lines.append("")
    lines.append(f"confusion ({names[0]}; rows = true, cols = predicted: {', '.join(LABELS)})")
    for lab, row in zip(LABELS, first["confusion"]["matrix"]):
        lines.append(f"  {lab:12} " + " ".join(f"{v:6d}" for v in row))
    return "\n".join(lines)
