"""Inter-annotator agreement: Cohen's κ (scikit-learn), Krippendorff's α (the
``krippendorff`` package, nominal), raw agreement, the confusion between annotators and
the items they disagree on, for relevance and for stance.

Two layouts are read:

* **two files**, one per annotator, in the annotation formats of ``corpus/annotations/``:
  sentences (``uid`` or ``text``, ``stance``) or pair items (``uid``, ``pair``, ``label``,
  where ``label`` is ``none`` or a stance); items are matched on their key (``uid`` and
  ``pair`` for pair items, else ``uid``, else ``text``);
* **one file** with both annotations side by side (``X_first`` / ``X_second`` columns, as
  ``corpus/annotations/agreement.csv`` and ``pairs_agreement.csv``).

Relevance (pair items only): related (any stance) against ``none``, on every item both
annotated. Stance: on the items both annotators found related (pair items) or on every
sentence both labelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.labels import LABELS, NONE


class AgreementError(ValueError):
    """The files cannot be compared (one line for the user)."""


@dataclass
class Task:
    name: str
    labels: list[str]
    n: int
    observed: float
    kappa: float
    alpha: float
    confusion: pd.DataFrame
    disagreements: pd.DataFrame = field(repr=False)

    def as_dict(self) -> dict:
        return {"task": self.name, "n": self.n, "raw_agreement": round(self.observed, 4), "cohen_kappa": round(self.kappa, 4),
                "krippendorff_alpha": round(self.alpha, 4), "labels": self.labels,
                "confusion": {"rows_first": self.labels, "matrix": self.confusion.values.tolist()},
                "disagreements": int(len(self.disagreements))}


def cohen_kappa(a: list[str], b: list[str]) -> float:
    from sklearn.metrics import cohen_kappa_score

    if len(set(a) | set(b)) < 2:  # one label only: agreement is complete, κ is undefined (0/0)
        return float("nan")
    return float(cohen_kappa_score(a, b))


def krippendorff_alpha(a: list[str], b: list[str]) -> float:
    """Nominal α of two coders with no missing values (``krippendorff.alpha``)."""
    import krippendorff

    codes = {lab: i for i, lab in enumerate(sorted(set(a) | set(b)))}
    if len(codes) < 2:
        return float("nan")
    data = np.array([[codes[x] for x in a], [codes[x] for x in b]], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def task(name: str, items: pd.DataFrame, first: str, second: str, labels: list[str]) -> Task:
    a, b = items[first].tolist(), items[second].tolist()
    seen = [lab for lab in labels if lab in set(a) | set(b)] + sorted((set(a) | set(b)) - set(labels))
    confusion = pd.crosstab(pd.Categorical(a, categories=seen), pd.Categorical(b, categories=seen), dropna=False)
    confusion.index.name, confusion.columns.name = "first", "second"
    agree = sum(x == y for x, y in zip(a, b))
    return Task(name, seen, len(a), agree / len(a) if a else float("nan"), cohen_kappa(a, b), krippendorff_alpha(a, b),
                confusion, items[[x != y for x, y in zip(a, b)]])


def _read(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise AgreementError(f"{path}: cannot read CSV ({str(exc).splitlines()[0]})") from None
    df.columns = [c.strip() for c in df.columns]
    return df


def _norm(col: pd.Series) -> pd.Series:
    return col.fillna("").astype(str).str.strip().str.lower()


def pair_files(first: pd.DataFrame, second: pd.DataFrame, names: tuple[str, str]) -> pd.DataFrame:
    """Align two annotators' files into one frame with ``label_first`` / ``label_second``."""
    is_pairs = "pair" in first.columns and "pair" in second.columns
    col = "label" if is_pairs else "stance"
    for df, name in zip((first, second), names):
        if col not in df.columns:
            raise AgreementError(f"{name}: no {col!r} column (columns: {', '.join(df.columns)})")
    if is_pairs:
        key = ["uid", "pair"] if "uid" in first.columns and "uid" in second.columns else ["text", "pair"]
    else:
        key = ["uid"] if "uid" in first.columns and "uid" in second.columns else ["text"]
    for df, name in zip((first, second), names):
        missing = [k for k in key if k not in df.columns]
        if missing:
            raise AgreementError(f"{name}: no {missing[0]!r} column to match items on")
        dup = df.duplicated(key)
        if dup.any():
            raise AgreementError(f"{name}: {int(dup.sum())} items appear twice (same {' + '.join(key)})")
    keep = key + [c for c in ("text", "source") if c in first.columns and c not in key]
    a = first[keep + [col]].rename(columns={col: "label_first"})
    b = second[key + [col]].rename(columns={col: "label_second"})
    merged = a.merge(b, on=key, how="inner")
    if merged.empty:
        raise AgreementError(f"{names[0]} and {names[1]} have no item in common (matched on {' + '.join(key)})")
    merged.attrs.update(kind="pairs" if is_pairs else "sentences", key=key, only_first=len(a) - len(merged),
                        only_second=len(b) - len(merged))
    return merged


def side_by_side(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """A file holding both annotations (``label_first`` / ``label_second`` or
    ``stance_first`` / ``stance_second``) as the aligned frame."""
    for col in ("label", "stance"):
        if f"{col}_first" in df.columns and f"{col}_second" in df.columns:
            out = df.rename(columns={f"{col}_first": "label_first", f"{col}_second": "label_second"})
            kind = "pairs" if "pair" in df.columns and col == "label" else "sentences"
            out.attrs.update(kind=kind, key=[k for k in ("uid", "pair") if k in df.columns] or ["text"], only_first=0, only_second=0)
            return out
    raise AgreementError(f"{name}: one file must hold both annotations (label_first / label_second or "
                         "stance_first / stance_second); or give two files")


def compare(items: pd.DataFrame) -> dict[str, Task]:
    """Relevance (pair items) and stance agreement of aligned items."""
    items = items.copy()
    items["label_first"], items["label_second"] = _norm(items["label_first"]), _norm(items["label_second"])
    known = set(LABELS) | ({NONE} if items.attrs.get("kind") == "pairs" else set())
    bad = items[~items["label_first"].isin(known) | ~items["label_second"].isin(known)]
    if len(bad):
        row = bad.iloc[0]
        raise AgreementError(f"{len(bad)} items carry a label outside {', '.join(sorted(known))} "
                             f"(first: {row['label_first']!r} / {row['label_second']!r})")
    out = {}
    if items.attrs.get("kind") == "pairs":
        rel = items.assign(relevance_first=np.where(items["label_first"] == NONE, "none", "related"),
                           relevance_second=np.where(items["label_second"] == NONE, "none", "related"))
        out["relevance"] = task("relevance", rel, "relevance_first", "relevance_second", ["related", "none"])
        both = items[(items["label_first"] != NONE) & (items["label_second"] != NONE)]
    else:
        both = items
    if len(both):
        out["stance"] = task("stance", both, "label_first", "label_second", list(LABELS))
    return out


def format_report(tasks: dict[str, Task], attrs: dict) -> str:
    lines = []
    if attrs.get("only_first") or attrs.get("only_second"):
        lines.append(f"items only in the first file: {attrs['only_first']}, only in the second: {attrs['only_second']} (left out)")
    lines.append(f"{'task':<10} {'items':>6} {'agree':>7} {'kappa':>7} {'alpha':>7}")
    for t in tasks.values():
        lines.append(f"{t.name:<10} {t.n:>6} {t.observed:>7.3f} {t.kappa:>7.3f} {t.alpha:>7.3f}")
    for t in tasks.values():
        lines.append(f"\n{t.name}: confusion (rows: first annotator, columns: second)")
        width = max(len(x) for x in t.labels) + 2
        lines.append(" " * width + "".join(f"{x:>{width}}" for x in t.labels))
        for lab, row in zip(t.labels, t.confusion.values):
            lines.append(f"{lab:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)
