"""``stance export --store PATH -o DIR``: the tables of a store, filtered, as files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info


def export_store(store_path: Path, out: Path, fmt: str = "csv", **filters) -> dict[str, int]:
    """Write the store's tables, filtered; ``fmt="plover"`` writes JSONL tables plus
    ``plover.jsonl`` (the relation records as PLOVER-style events)."""
    from datetime import date

    from pipeline.export import JsonlWriter, OutputSet
    from pipeline.records import plover_events
    from pipeline.schemas import frame
    from pipeline.store import TABLES, Store

    store = Store(store_path)
    if not filters.get("model_id"):
        models = store.models()
        filters["model_id"] = models[0] if models else None
    outputs = OutputSet(out, TABLES, "jsonl" if fmt == "plover" else fmt)
    events = JsonlWriter(out, "plover") if fmt == "plover" else None
    try:
        for name in TABLES:
            for df in store.query(name, **filters):
                outputs.write(name, frame(name, df.to_dict(orient="records")))
        if events is not None:
            meta = {a["article_id"]: a for df in store.query("articles", **filters) for a in df.to_dict(orient="records")}
            for df in store.query("records", **filters):
                events.write(plover_events(df.to_dict(orient="records"), meta, coded_date=date.today().isoformat()))
        outputs.commit()
        if events is not None:
            events.commit()
    except BaseException:
        outputs.abort()
        if events is not None:
            events.abort()
        raise
    finally:
        store.close()
    counts = outputs.counts()
    if events is not None:
        counts["plover"] = events.rows
    return counts


@app.command("export")
def export_cmd(
    store: Path = typer.Option(..., "--store", help="DuckDB store written by `stance run --store`."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl | parquet | plover"),
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
    if fmt not in ("csv", "jsonl", "parquet", "plover"):
        raise fail(f"unknown format {fmt!r}; choose csv, jsonl, parquet or plover")
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
