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
    from pipeline.stance.model import load_model

    m = load_model(model_dir)
    df = pd.read_csv(csv_in, dtype=str, keep_default_na=False)
    for col in (text_column, label_column):
        if col not in df.columns:
            raise ValueError(f"{csv_in}: no column {col!r}")
    bad = sorted(set(df[label_column]) - set(LABELS))
    if bad:
        raise ValueError(f"{csv_in}: unknown labels {bad}")
    texts, y = df[text_column].tolist(), df[label_column].tolist()
    majority = m.card.get("settings", {}).get("majority_label", "neutral")
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


@app.command("evaluate")
def evaluate_cmd(
    csv_in: Path = typer.Argument(..., help="CSV with text and stance columns."),
    model: Optional[Path] = typer.Option(None, "--model"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the metrics as JSON."),
    text_column: str = typer.Option("text", "--text-column"),
    label_column: str = typer.Option("stance", "--label-column"),
) -> None:
    """Per-class precision/recall/F1, macro-F1 and confusion matrix; majority and lexicon baselines."""
    from pipeline.export import atomic_write_text
    from pipeline.stance.evaluate import format_table
    from pipeline.stance.model import ModelError

    if not csv_in.is_file():
        raise fail(f"{csv_in}: no such file")
    try:
        res = evaluate_file(csv_in, resolve_model(model), text_column, label_column)
    except (ModelError, ValueError) as exc:
        raise fail(str(exc))
    typer.echo(f"{res['model_id']} on {csv_in} ({res['results']['model']['n']} sentences)")
    typer.echo(format_table(res["results"]))
    if json_out:
        atomic_write_text(json_out, json.dumps(res, indent=2) + "\n")
