"""The main job: paths in; sentences, records, topics, tables, check, errors and run.json out.

Streams: ingestion yields items, they are grouped into chunks, an engine turns each chunk
into table rows, and the rows are appended to the output files chunk by chunk. Files are
renamed into place only when the run ends (see :mod:`pipeline.export`).
"""

from __future__ import annotations

import gc
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from pipeline.checking import summary as check_summary
from pipeline.config import load_settings
from pipeline.contracts import Tables
from datetime import date

from pipeline.export import JsonlWriter, OutputSet, PartitionedOutputSet, atomic_write_text
from pipeline.records import plover_events
from pipeline.ingestion import ingest, unique_articles
from pipeline.segmentation import iter_chunks

OUTPUT_TABLES = Tables.NAMES


@dataclass
class RunOptions:
    paths: list[str]
    out: Path
    model: Path
    fmt: str = "csv"
    engine: str = "local"  # local | dask
    workers: int = 1
    scheduler: str | None = None
    chunk_size: int | None = None
    store: Path | None = None
    base_model: str | None = None
    progress: Callable[[int, int], None] | None = None  # called with (articles done, words done)
    extra: dict = field(default_factory=dict)


def _count_items(tables: Tables) -> tuple[int, int, int]:
    """(articles processed, input units failed, warnings) of one chunk's tables."""
    failed = sum(1 for e in tables.errors if e["severity"] == "error")
    warns = sum(1 for e in tables.errors if e["severity"] == "warning")
    return len(tables.articles), failed, warns


def run(opts: RunOptions) -> dict:
    """Run the pipeline and write every output table plus ``run.json``; returns the summary."""
    t0 = time.perf_counter()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # while importing and loading: see pipeline.executors.paused_gc
    try:
        from pipeline.chunk import load_resources
        from pipeline.executors import paused_gc, run_dask, run_local, run_pool
        from pipeline.models import load_model, model_fingerprint
        from pipeline.modelling.training import versions

        settings = load_settings()
        chunk_size = opts.chunk_size or int(settings.get("run", "chunk_size", 100))
        loaded = load_model(opts.model)  # fail early, before any output, on a bad model
    finally:
        if gc_was_enabled:
            gc.enable()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock_output(out)
    try:
        return _run(opts, settings, chunk_size, loaded, t0)
    finally:
        lock.release()


LOCK_FILE = ".stance-run.lock"


def _lock_output(out: Path):
    """The output folder's lock (an OS file lock, released even if the process is killed):
    two runs writing into one folder would interleave their rows."""
    from filelock import FileLock, Timeout

    from pipeline.errors import OutputInUse

    lock = FileLock(str(out / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise OutputInUse(f"{out}: another stance run is writing into this folder; wait for it to finish "
                          "or choose another -o") from None
    return lock


def _abort(*outputs) -> None:
    for o in outputs:
        if o is not None:
            try:
                o.abort()
            except OSError:
                pass


def _run(opts: RunOptions, settings, chunk_size: int, loaded, t0: float) -> dict:
    from pipeline.chunk import load_resources
    from pipeline.errors import DiskFull, Interrupted, is_disk_full
    from pipeline.executors import paused_gc, run_dask, run_local, run_pool
    from pipeline.models import model_fingerprint
    from pipeline.modelling.training import versions

    model_id = loaded.model_id
    import os

    # the sentence encoder (if the model has one) takes cores / workers threads per process
    os.environ["STANCE_WORKERS"] = str(max(1, opts.workers))
    store = None
    skipped = 0
    items: Iterable = unique_articles(ingest(opts.paths, settings))
    if opts.store is not None:
        from pipeline.store import Store

        store = Store(opts.store)
        done = store.done_keys(model_id)

        def not_done(stream):
            nonlocal skipped
            for it in stream:
                if getattr(it, "content_hash", None) and (it.id, it.content_hash) in done:
                    skipped += 1
                    continue
                yield it

        items = not_done(items)
    chunks = iter_chunks(items, chunk_size)
    if opts.engine == "dask":
        results = run_dask(chunks, str(opts.model), opts.scheduler, max(1, opts.workers), opts.base_model)
    elif opts.workers > 1:
        results = run_pool(chunks, str(opts.model), opts.workers, opts.base_model)
    else:
        with paused_gc():
            res = load_resources(opts.model, settings, opts.base_model, model=loaded)
        results = run_local(chunks, res)

    partitioned = opts.engine == "dask"
    plover = opts.fmt == "plover"
    fmt = "jsonl" if plover else opts.fmt
    outputs = PartitionedOutputSet(opts.out, OUTPUT_TABLES, fmt) if partitioned else OutputSet(opts.out, OUTPUT_TABLES, fmt)
    events = JsonlWriter(opts.out, "plover") if plover else None
    from pipeline.ingestion.discover import OUTPUT_MARKER

    # marks the folder as an output: a later run over a folder that contains it skips it
    (Path(opts.out) / OUTPUT_MARKER).write_text("written by stance run; this folder is never read as input\n",
                                                encoding="utf-8")
    coded_date = date.today().isoformat()
    counts = {"articles_processed": 0, "inputs_failed": 0, "warnings": 0, "sentences": 0, "records": 0,
              "relations": 0, "table_rows": 0, "articles_skipped_in_store": 0}
    check_all: list[dict] = []
    words = 0
    try:
        for part, tables in enumerate(results):
            if partitioned:
                outputs.write_part(part, tables)
            else:
                for name in OUTPUT_TABLES:
                    outputs.write(name, getattr(tables, name))
            if events is not None:
                meta = {a["article_id"]: a for a in tables.articles}
                events.write(plover_events(tables.records, meta, coded_date=coded_date))
            if store is not None:
                store.add(tables, model_id)
            a, f, w = _count_items(tables)
            counts["articles_processed"] += a
            counts["inputs_failed"] += f
            counts["warnings"] += w
            counts["sentences"] += len(tables.sentences)
            counts["records"] += len(tables.records)
            counts["relations"] += len(tables.relations)
            counts["table_rows"] += len(tables.tables)
            check_all.extend({"status": c["status"], "reason": c.get("reason", "")} for c in tables.check)
            words += sum(len(s["text"].split()) for s in tables.sentences)
            if opts.progress:
                opts.progress(a + f, words)
        written = outputs.commit()
        if events is not None:
            written["plover"] = events.commit()
    except KeyboardInterrupt:
        _abort(outputs, events)
        kept = ""
        if store is not None:
            kept = (f"; the store holds {store.n_articles(model_id)} articles of this model (a new run with the "
                    "same --store goes on from there)")
        raise Interrupted(f"interrupted; {counts['articles_processed']} articles done, outputs not written{kept}") from None
    except BaseException as exc:
        _abort(outputs, events)
        if isinstance(exc, DiskFull):
            raise DiskFull(f"{exc}; outputs in {opts.out} not written") from None
        if is_disk_full(exc):
            kept = f"; the store keeps the {store.n_articles(model_id)} articles added before" if store is not None else ""
            raise DiskFull(f"disk full while writing the outputs in {opts.out} ({exc.strerror or exc}); "
                           f"nothing was written there (partial files removed){kept}") from None
        raise
    finally:
        close = getattr(results, "close", None)
        if close is not None:  # end the engine now (pool, cluster, GC tuning), even on error
            close()
        if store is not None:
            store.close()
    counts["articles_skipped_in_store"] = skipped
    counts["inputs_read"] = counts["articles_processed"] + counts["inputs_failed"] + skipped
    elapsed = time.perf_counter() - t0
    summary = {
        "inputs": [str(p) for p in opts.paths],
        "output_dir": str(opts.out),
        "format": opts.fmt,
        "engine": opts.engine if opts.engine == "dask" else ("pool" if opts.workers > 1 else "local"),
        "workers": opts.workers,
        "chunk_size": chunk_size,
        "counts": counts,
        "check": check_summary(check_all),
        "model": {"id": model_id, "path": str(opts.model), "sha256": model_fingerprint(opts.model)},
        "versions": versions(),
        "timings": {"seconds": round(elapsed, 3), "words": words,
                    "words_per_second": round(words / elapsed, 1) if elapsed else None,
                    "articles_per_second": round(counts["articles_processed"] / elapsed, 2) if elapsed else None},
        "files": {k: str(v) for k, v in written.items()},
        "partitioned": partitioned,
        "store": str(opts.store) if opts.store else None,
    }
    atomic_write_text(Path(opts.out) / "run.json", json.dumps(summary, indent=2) + "\n")
    return summary
