"""``stance classify CSV -o CSV``: add stance columns to any CSV with a text column."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info, resolve_model

ADDED = ("stance", "score", "p_convergence", "p_divergence", "p_neutral")


def classify_frame(df, model, text_column: str = "text", batch: int = 5000):
    """Return ``df`` with the stance columns added (batched ``predict_proba``)."""
    import pandas as pd

    texts = df[text_column].fillna("").astype(str).tolist()
    preds = []
    for i in range(0, len(texts), batch):
        preds.extend(model.predict(texts[i : i + batch]))
    out = df.copy()
    out["stance"] = [p.stance for p in preds]
    out["score"] = [round(p.score, 6) for p in preds]
    out["p_convergence"] = [round(p.p_convergence, 6) for p in preds]
    out["p_divergence"] = [round(p.p_divergence, 6) for p in preds]
    out["p_neutral"] = [round(p.p_neutral, 6) for p in preds]
    return pd.DataFrame(out)


@app.command("classify")
def classify_cmd(
    csv_in: Path = typer.Argument(..., help="CSV with a text column."),
    out: Path = typer.Option(..., "-o", "--out", help="Output CSV."),
    text_column: str = typer.Option("text", "--text-column"),
    model: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: models/default)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Classify the text column: adds stance, score, p_convergence, p_divergence, p_neutral."""
    import csv

    import pandas as pd

    from pipeline.export import atomic_write_text, neutralise_frame
    from pipeline.models import ModelError, load_model

    if not csv_in.is_file():
        raise fail(f"{csv_in}: no such file")
    try:
        m = load_model(resolve_model(model))
    except ModelError as exc:
        raise fail(str(exc))
    try:
        df = pd.read_csv(csv_in, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise fail(f"{csv_in}: cannot read CSV ({exc})")
    if text_column not in df.columns:
        raise fail(f"{csv_in}: no column {text_column!r} (columns: {', '.join(df.columns)})")
    res = classify_frame(df, m, text_column)
    atomic_write_text(out, neutralise_frame(res).to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"))
    counts = res["stance"].value_counts().to_dict()
    info(f"{len(res)} rows classified with {m.model_id}: {counts} -> {out}", quiet)
