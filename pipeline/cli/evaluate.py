"""``stance evaluate CSV``: metrics of a model on labelled sentences, next to baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, resolve_model


def evaluate_file(csv_in: Path, model_dir: Path, text_column: str = "text", label_column: str = "stance") -> dict:
    import pandas as pd

    from pipeline.labels import LABELS
    from pipeline.stance.evaluate import metrics
    from pipeline.models import load_model

    m = load_model(model_dir)
    df = pd.read_csv(csv_in, dtype=str, keep_default_na=False)
    for col in (text_column, label_column):
        if col not in df.columns:
            raise ValueError(f"{csv_in}: no column {col!r}")
    bad = sorted(set(df[label_column]) - set(LABELS))
    if bad:
        raise ValueError(f"{csv_in}: unknown labels {bad}")
    texts, y = df[text_column].tolist(), df[label_column].tolist()
    majority = m.card.get("sentence", {}).get("settings", {}).get("majority_label", "neutral")
    lex = m.lexicon
    return {
        "model_id": m.model_id,
        "file": str(csv_in),
        "results": {
            "model": metrics(y, [p.stance for p in m.predict(texts)]),
            "majority": metrics(y, [majority] * len(y)),
            "lexicon": metrics(y, [lex.vote(t) for t in texts]),
        },
    }


def is_pair_file(csv_in: Path) -> bool:
    """A pair annotation file (``uid, text, pair, label …``) rather than sentences."""
    import csv

    with open(csv_in, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    return {"uid", "pair", "label"} <= set(header)


def evaluate_pairs(csv_in: Path, model_dir: Path) -> dict:
    """The relation classifier as a system (pairs found, their stance) on pair annotations,
    next to the two baselines."""
    from pipeline.config import load_settings
    from pipeline.models import load_model
    from pipeline.relations.candidates import load_rules
    from pipeline.relations.training import evaluate, featurize, read_pairs
    from pipeline.recognition import build_recogniser

    m = load_model(model_dir)
    settings = load_settings()
    pairs = read_pairs([csv_in])
    F = featurize(pairs, build_recogniser(settings), load_rules(settings), m.sentence.predict, m.lexicon)
    return {"model_id": m.model_id, "file": str(csv_in), "results": evaluate(F, m.relation, range(len(pairs)))}


@app.command("evaluate")
def evaluate_cmd(
    csv_in: Path = typer.Argument(..., help="CSV with text and stance columns."),
    model: Optional[Path] = typer.Option(None, "--model"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the metrics as JSON."),
    text_column: str = typer.Option("text", "--text-column"),
    label_column: str = typer.Option("stance", "--label-column"),
) -> None:
    """Sentences (text, stance): per-class precision/recall/F1, macro-F1 and confusion
    matrix next to the majority and lexicon baselines. Pair annotations (uid, text, pair,
    label …, e.g. corpus/eval/relations_articles.csv): pair precision/recall/F1, (pair,
    stance) F1 and stance macro-F1 on the pairs found, next to two baselines."""
    from pipeline.export import atomic_write_text
    from pipeline.models import ModelError
    from pipeline.relations.training import format_scores
    from pipeline.stance.evaluate import format_table

    if not csv_in.is_file():
        raise fail(f"{csv_in}: no such file")
    try:
        if is_pair_file(csv_in):
            res = evaluate_pairs(csv_in, resolve_model(model))
            typer.echo(f"{res['model_id']} on {csv_in} ({res['results']['model']['sentences']} sentences, "
                       f"{res['results']['model']['gold_pairs']} annotated pairs)")
            typer.echo(format_scores(res["results"]))
        else:
            res = evaluate_file(csv_in, resolve_model(model), text_column, label_column)
            typer.echo(f"{res['model_id']} on {csv_in} ({res['results']['model']['n']} sentences)")
            typer.echo(format_table(res["results"]))
    except (ModelError, ValueError) as exc:
        raise fail(str(exc))
    if json_out:
        atomic_write_text(json_out, json.dumps(res, indent=2) + "\n")
