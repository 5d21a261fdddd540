"""Metrics for stance predictions, and the baselines every model is shown next to."""

from __future__ import annotations

from typing import Sequence

from pipeline.labels import LABELS
from pipeline.modelling.training import majority_label  # noqa: F401  (re-exported)
from pipeline.modelling.training import metrics as _metrics


def metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] = LABELS) -> dict:
    """Per-class precision / recall / F1 / support, macro-F1, accuracy and the confusion
    matrix (rows: true label, columns: predicted, both in ``labels`` order)."""
    return _metrics(y_true, y_pred, labels)


def format_table(results: dict[str, dict], labels: Sequence[str] = LABELS) -> str:
    """A plain-text side-by-side table of several systems' metrics."""
    names = list(results)
    head = f"{'':24}" + "".join(f"{n:>14}" for n in names)
    lines = [head]
    lines.append(f"{'macro-F1':24}" + "".join(f"{results[n]['macro_f1']:>14.3f}" for n in names))
    lines.append(f"{'accuracy':24}" + "".join(f"{results[n]['accuracy']:>14.3f}" for n in names))
    for lab in labels:
        for m in ("precision", "recall", "f1"):
            lines.append(f"{lab + ' ' + m:24}" + "".join(f"{results[n]['per_class'][lab][m]:>14.3f}" for n in names))
    first = results[names[0]]
    lines.append("")
    lines.append(f"confusion ({names[0]}; rows = true, cols = predicted: {', '.join(labels)})")
    for lab, row in zip(labels, first["confusion"]["matrix"]):
        lines.append(f"  {lab:12} " + " ".join(f"{v:6d}" for v in row))
    return "\n".join(lines)
