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


_DATA_COLUMNS = {"actor": ("actor_a", "actor_b", "source_actor", "target_actor"), "topic": ("topic",)}
_LIST_COLUMNS = {"actor": ("actors",), "topic": ("topics",)}


def vocabulary_codes(kind: str, settings=None) -> dict[str, set[str]]:
    """The actor codes (``[vocab] actors``) or topic ids (``[vocab] topics`` and the
    ``[records] no_topic`` fallback) of the project's vocabulary, each with its aliases
    (lower case: "russia" for RUS, "sanction" for sanctions)."""
    from pipeline.config import load_settings
    from pipeline.recognition import EXCLUDE, actor_patterns, read_topics

    settings = settings or load_settings()
    out: dict[str, set[str]] = {}
    if kind == "actor":
        for p in actor_patterns(settings):
            if p["label"] != EXCLUDE:
                out.setdefault(p["label"], set()).add(p["pattern"].lower())
    else:
        for t in read_topics(settings):
            out.setdefault(t.id, set()).update(a.lower() for a in t.aliases)
        out.setdefault(str(settings.get("records", "no_topic", "general")), set())
    return out


def store_codes(con, kind: str) -> set[str]:
    """The actor codes or topic ids found in a store's tables."""
    cols = con.execute("select table_name, column_name from information_schema.columns").fetchall()
    out: set[str] = set()
    for table, col in cols:
        if col in _DATA_COLUMNS[kind]:
            out |= {r[0] for r in con.execute(f'select distinct "{col}" from "{table}"').fetchall()}
        elif col in _LIST_COLUMNS[kind]:
            out |= {r[0] for r in con.execute(
                f'select distinct unnest(string_split("{col}", \';\')) from "{table}"').fetchall()}
    return {c for c in out if c}


def close_matches(value: str, known: dict[str, set[str]], n: int = 3) -> list[str]:
    """Up to ``n`` known codes like ``value``, case-insensitively: a code equal but for
    case, else the codes that have ``value`` as an alias, else the most similar codes
    (rapidfuzz ratio >= 60; ties: the longer common start first)."""
    from os.path import commonprefix

    from rapidfuzz import fuzz

    low = value.lower()
    same = sorted(k for k in known if k.lower() == low)
    if same:
        return same[:n]
    named = sorted(k for k, aliases in known.items() if low in aliases)
    if named:
        return named[:n]
    scored = [(fuzz.ratio(low, k.lower()), len(commonprefix([low, k.lower()])), k) for k in known]
    scored = [t for t in scored if t[0] >= 60]
    return [k for _, _, k in sorted(scored, key=lambda t: (-t[0], -t[1], t[2]))[:n]]


def unknown_code(store_path: Path | None, kind: str, value: str) -> str | None:
    """The error message for a ``--actor`` / ``--topic`` value that is neither in the
    vocabulary nor in the store, if one is given (exact, case-sensitive match); None when
    it is known."""
    import duckdb

    known = vocabulary_codes(kind)
    if value in known:
        return None
    if store_path is not None:
        con = duckdb.connect(str(store_path), read_only=True)
        try:
            for code in store_codes(con, kind):
                known.setdefault(code, set())
        finally:
            con.close()
    if value in known:
        return None
    hints = close_matches(value, known)
    if not hints:
        where = "the vocabulary (corpus/vocab/actors.csv)" if kind == "actor" else "the topic taxonomy (corpus/vocab/topics.csv)"
        return f"no such {kind} {value!r} in {where}" + (" or the store" if store_path is not None else "")
    said = hints[0] if len(hints) == 1 else ", ".join(hints[:-1]) + " or " + hints[-1]
    return f"no such {kind} {value!r}; did you mean {said}?"


def check_filters(store: Path | None, *, since: str | None, until: str | None, actor: str | None, topic: str | None) -> None:
    """The filters shared by `stance export` and `stance report`: ISO dates, and actor and
    topic codes known to the vocabulary (or the store); raises the one-line error."""
    from datetime import date

    import duckdb

    for flag, value in (("--since", since), ("--until", until)):
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise fail(f"{flag} {value!r} is not an ISO date (YYYY-MM-DD)")
    try:
        for kind, value in (("actor", actor), ("topic", topic)):
            problem = unknown_code(store, kind, value) if value else None
            if problem:
                raise fail(problem)
    except duckdb.Error as exc:
        raise fail(f"{store}: not a readable stance store ({str(exc).splitlines()[0]})")


@app.command("export")
def export_cmd(
    store: Path = typer.Option(..., "--store", help="DuckDB store written by `stance run --store`."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl | parquet | plover"),
    since: Optional[str] = typer.Option(None, "--since", help="Only articles dated on or after (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only articles dated on or before (YYYY-MM-DD)."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Only rows involving this actor code (e.g. RUS; exact, as in the vocabulary or the store)."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Only rows on this topic id (e.g. arms_control; exact, as in the taxonomy or the store)."),
    model_id: Optional[str] = typer.Option(None, "--model-id", help="Rows of this model (default: the model used last)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Write the same tables as `stance run` from the store, filtered."""
    if not store.is_file():
        raise fail(f"{store}: no such store")
    if fmt not in ("csv", "jsonl", "parquet", "plover"):
        raise fail(f"unknown format {fmt!r}; choose csv, jsonl, parquet or plover")
    import duckdb

    from pipeline.store import StoreError

    check_filters(store, since=since, until=until, actor=actor, topic=topic)
    try:
        counts = export_store(store, out, fmt, since=since, until=until, actor=actor, topic=topic, model_id=model_id)
    except duckdb.Error as exc:
        raise fail(f"{store}: not a readable stance store ({str(exc).splitlines()[0]})")
    except StoreError as exc:  # in use by a run, not a DuckDB file
        raise fail(str(exc))
    info(", ".join(f"{k}: {v}" for k, v in counts.items()) + f" -> {out}", quiet)
