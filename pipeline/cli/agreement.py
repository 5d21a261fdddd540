"""``stance agreement A.csv [B.csv]``: agreement between two annotators, for relevance and stance."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail


@app.command("agreement")
def agreement_cmd(
    first: Path = typer.Argument(..., help="First annotator's CSV (or one CSV with *_first / *_second columns)."),
    second: Optional[Path] = typer.Argument(None, help="Second annotator's CSV, same format as the first."),
    disagreements: Optional[Path] = typer.Option(None, "--disagreements", help="Write the items the annotators disagree on to this CSV."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the figures as JSON."),
) -> None:
    """Cohen's kappa, Krippendorff's alpha, raw agreement, confusion and disagreements."""
    import json

    import pandas as pd

    from pipeline.agreement import AgreementError, _read, compare, format_report, pair_files, side_by_side
    from pipeline.export import atomic_write_text, csv_text

    for p in (first, second):
        if p is not None and not p.is_file():
            raise fail(f"{p}: no such file")
    try:
        a = _read(first)
        items = side_by_side(a, str(first)) if second is None else pair_files(a, _read(second), (str(first), str(second)))
        tasks = compare(items)
    except AgreementError as exc:
        raise fail(str(exc))
    if not tasks:
        raise fail("no item both annotators labelled")
    typer.echo(format_report(tasks, items.attrs))
    rows = []
    for t in tasks.values():
        d = t.disagreements.copy()
        d.insert(0, "task", t.name)
        rows.append(d)
    dis = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if len(dis):
        cols = [c for c in ("task", *items.attrs.get("key", []), "label_first", "label_second", "text") if c in dis.columns]
        typer.echo(f"\n{len(dis)} disagreements" + ("" if disagreements else "; --disagreements FILE writes them all") + ":")
        for r in dis[cols].head(10).itertuples(index=False):
            typer.echo("  " + " | ".join(str(v)[:90] for v in r))
    if disagreements:
        atomic_write_text(disagreements, csv_text(dis))
    if json_out:
        atomic_write_text(json_out, json.dumps({"files": [str(first)] + ([str(second)] if second else []),
                                                "tasks": [t.as_dict() for t in tasks.values()]}, indent=2) + "\n")
