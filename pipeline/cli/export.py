"""``stance export --store PATH -o DIR``: the tables of a store, filtered, as files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info


def export_store(store_path: Path, out: Path, fmt: str = "csv", **filters) -> dict[str, int]:
    from pipeline.export import OutputSet
    from pipeline.schemas import frame
    from pipeline.store import TABLES, Store

    store = Store(store_path)
    if not filters.get("model_id"):
        models = store.models()
        filters["model_id"] = models[0] if models else None
    outputs = OutputSet(out, TABLES, fmt)
    try:
        for name in TABLES:
            for df in store.query(name, **filters):
                outputs.write(name, frame(name, df.to_dict(orient="records")))
        outputs.commit()
    except BaseException:
        outputs.abort()
        raise
    finally:
        store.close()
    return outputs.counts()


@app.command("export")
def export_cmd(
    store: Path = typer.Option(..., "--store", help="DuckDB store written by `stance run --store`."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl | parquet"),
    since: Optional[str] = typer.Option(None, "--since", help="Only articles dated on or after (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only articles dated on or before (YYYY-MM-DD)."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Only rows involving this actor code (e.g. RUS)."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Only rows on this topic id (e.g. arms_control)."),
    model_id: Optional[str] = typer.Option(None, "--model-id", help="Rows of this model (default: the model used last)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Write the same tables as `stance run` from the store, filtered."""
    from datetime import date

    if not store.is_file():
        raise fail(f"{store}: no such store")
    for flag, value in (("--since", since), ("--until", until)):
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise fail(f"{flag} {value!r} is not an ISO date (YYYY-MM-DD)")
    import duckdb

    try:
        counts = export_store(store, out, fmt, since=since, until=until, actor=actor, topic=topic, model_id=model_id)
    except duckdb.Error as exc:
        raise fail(f"{store}: not a readable stance store ({str(exc).splitlines()[0]})")
    info(", ".join(f"{k}: {v}" for k, v in counts.items()) + f" -> {out}", quiet)
