"""Training and scoring the table-row classifier (:mod:`pipeline.tables.model`).

The annotated rows (``corpus/annotations/table_rows.csv``) are split by table
(``table_id``: the rows of one table stay on one side), C is chosen by grouped
cross-validation on the training part, and the held-out rows are scored next to two
baselines: today's reading of a row as one sentence by the sentence classifier, and the
majority class. ``cross_source``: each writer's rows are left out in turn (the model
retrained on the others), the honest figure for rows written by someone else.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from pipeline.labels import LABELS
from pipeline.modelling.training import majority_label, metrics, select, split_holdout
from pipeline.tables.model import TableModel, build_table_pipeline, feature_frame


def row_text(df: pd.DataFrame) -> list[str]:
    """The row as the segmenter gives it to the sentence classifier ("| topic | a | b |")."""
    return [f"| {t} | {a} | {b} |" for t, a, b in zip(df["topic_cell"], df["position_a"], df["position_b"])]


def _cells(df: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(df["position_a"].astype(str), df["position_b"].astype(str)))


def score_rows(model: TableModel, df: pd.DataFrame, predict_sentences: Callable, majority: str) -> dict:
    """Model next to the two baselines on some annotated rows."""
    y = df["stance"].tolist()
    pred = [p.stance for p in model.predict(_cells(df))]
    as_sentence = [p.stance for p in predict_sentences(row_text(df))]
    return {"n": len(y), "model": metrics(y, pred, LABELS),
            "baseline_row_as_one_sentence": metrics(y, as_sentence, LABELS),
            "baseline_majority": metrics(y, [majority] * len(y), LABELS)}


def _fit(df: pd.DataFrame, predict_sentences, lexicon, *, seed: int, c_grid, folds: int):
    X = feature_frame(_cells(df), predict_sentences, lexicon)
    y = df["stance"].to_numpy()
    sel = select(lambda C: build_table_pipeline(C=C, seed=seed), X, y, df["table_id"].to_numpy(), labels=LABELS,
                 c_grid=c_grid, folds=folds, seed=seed, offsets=False)
    pipe = build_table_pipeline(C=sel.C, seed=seed).fit(X, y)
    return pipe, sel


def fit_table(df: pd.DataFrame, predict_sentences: Callable, lexicon, *, seed: int = 13, test_size: float = 0.25,
              c_grid=(0.5, 1.0, 2.0, 4.0, 8.0), folds: int = 5, cross_source: bool = False,
              say: Callable[[str], None] = lambda m: None, min_rows: int = 30):
    """Fit on the training tables, score the held-out ones; returns (pipeline, card section)."""
    tr, te = split_holdout(df["table_id"].tolist(), test_size=test_size, seed=seed)
    train_df, test_df = df.iloc[tr], df.iloc[te]
    pipe, sel = _fit(train_df, predict_sentences, lexicon, seed=seed, c_grid=c_grid, folds=folds)
    model = TableModel(pipe, predict_sentences, lexicon)
    majority = majority_label(train_df["stance"].tolist())
    held = score_rows(model, test_df, predict_sentences, majority)
    # the shipped model: refitted on every row with the chosen C (350 rows are few; the
    # held-out figures above are those of the model fitted on the training part)
    pipe = build_table_pipeline(C=sel.C, seed=seed).fit(feature_frame(_cells(df), predict_sentences, lexicon),
                                                        df["stance"].to_numpy())
    say(f"table-row classifier: {len(train_df)} rows for training, {len(test_df)} held out; macro-F1 "
        f"{held['model']['macro_f1']:.3f} (row as one sentence {held['baseline_row_as_one_sentence']['macro_f1']:.3f}, "
        f"majority {held['baseline_majority']['macro_f1']:.3f})")
    section = {
        "task": "row stance of a table row from its two position cells: compatible (convergence), competing "
                "(divergence), not comparable (neutral)",
        "labels": list(LABELS),
        "data": {"rows": len(df), "train_rows": len(train_df), "heldout_rows": len(test_df),
                 "tables": int(df["table_id"].nunique()), "sources": sorted(df["source"].unique().tolist()),
                 "label_counts": df["stance"].value_counts().to_dict()},
        "settings": {"C": sel.C, "split": "GroupShuffleSplit by table_id", "seed": seed,
                     "shipped": "refitted on all rows with the chosen C; held-out figures: the model fitted on the training part"},
        "metrics": {"cross_validated": {str(c): v["macro_f1"] for c, v in sel.scores.items()}, "heldout": held},
    }
    if cross_source:
        out = {}
        for src in sorted(df["source"].unique()):
            if (df["source"] == src).sum() < min_rows:
                continue
            rest, left = df[df["source"] != src], df[df["source"] == src]
            p, _ = _fit(rest, predict_sentences, lexicon, seed=seed, c_grid=(sel.C,), folds=folds)
            out[src] = score_rows(TableModel(p, predict_sentences, lexicon), left, predict_sentences,
                                  majority_label(rest["stance"].tolist()))
            say(f"table rows, left out {src}: macro-F1 {out[src]['model']['macro_f1']:.3f} "
                f"(row as one sentence {out[src]['baseline_row_as_one_sentence']['macro_f1']:.3f})")
        out["mean"] = {k: round(float(np.mean([v[k]["macro_f1"] for v in out.values()])), 4)
                       for k in ("model", "baseline_row_as_one_sentence", "baseline_majority")}
        section["metrics"]["cross_source"] = out
    return pipe, section


def table_markdown(t: dict) -> list[str]:
    """The table classifier's part of the model card."""
    from pipeline.stance.evaluate import format_table

    held = t["metrics"]["heldout"]
    lines = ["## Table-row classifier (tables.csv: the row stance)", "",
             f"Task: {t['task']}. {t['data']['rows']} annotated rows in {t['data']['tables']} tables "
             f"({', '.join(t['data']['sources'])}); {t['data']['train_rows']} for training, {t['data']['heldout_rows']} "
             f"held out ({t['settings']['split']}). C = {t['settings']['C']}. The shipped classifier is refitted on "
             "all rows with that C.", "",
             "Held-out rows, macro-F1: model **{:.3f}**, the row read as one sentence by the sentence classifier {:.3f}, "
             "majority {:.3f}.".format(held["model"]["macro_f1"], held["baseline_row_as_one_sentence"]["macro_f1"],
                                      held["baseline_majority"]["macro_f1"]), "",
             "```", format_table({"model": held["model"], "as sentence": held["baseline_row_as_one_sentence"],
                                  "majority": held["baseline_majority"]}), "```", ""]
    cs = t["metrics"].get("cross_source")
    if cs:
        lines += ["Leave one writer out (retrained on the others), macro-F1:", "",
                  "| left out | rows | model | row as one sentence | majority |", "|---|---:|---:|---:|---:|"]
        for src, v in cs.items():
            if src != "mean":
                lines.append(f"| {src} | {v['n']} | {v['model']['macro_f1']:.3f} | "
                             f"{v['baseline_row_as_one_sentence']['macro_f1']:.3f} | {v['baseline_majority']['macro_f1']:.3f} |")
        m = cs["mean"]
        lines += [f"| **mean** | | **{m['model']:.3f}** | {m['baseline_row_as_one_sentence']:.3f} | "
                  f"{m['baseline_majority']:.3f} |", ""]
    return lines
