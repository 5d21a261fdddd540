"""``stance run PATH... -o OUTDIR``: the main job."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info, is_tty, resolve_model


def count_inputs(paths: list[str]) -> int | None:
    """Number of input articles, for the progress bar's ETA: one per text/HTML file, one
    per non-blank JSONL line. None when a CSV is among the inputs (rows can span lines)."""
    from pipeline.contracts import ErrorEntry
    from pipeline.ingestion.discover import discover, format_of

    total = 0
    for found in discover(paths):
        if isinstance(found, ErrorEntry):
            total += found.severity == "error"
            continue
        fmt = format_of(found)
        if fmt == "csv":
            return None
        if fmt == "jsonl":
            try:
                with open(found, "rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            except OSError:
                total += 1
        else:
            total += 1
    return total


def output_problem(out: Path) -> str:
    """What keeps ``out`` from being an output folder ("" if nothing), checked before any
    work and without creating anything: an existing file, a folder that cannot be created
    (its nearest existing parent is a file or not writable) or cannot be written."""
    import os
    import tempfile

    if out.exists() and not out.is_dir():
        return f"{out}: exists and is not a directory; give a folder for the outputs"
    if not out.exists():
        parent = out.absolute().parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            return f"{out}: cannot create the output folder ({parent} is not a directory)"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"{out}: cannot create the output folder ({parent} is not writable)"
        return ""
    if not os.access(out, os.W_OK | os.X_OK):
        return f"{out}: the output folder is not writable"
    try:
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        return f"{out}: cannot write in the output folder ({exc.strerror or exc})"
    return ""


def _quiet_exit() -> None:
    """After Ctrl-C: a second SIGINT while the interpreter shuts the pool down (its atexit
    hook joins threads) would print a traceback; the run is already ending."""
    import signal

    from pipeline.executors import quiet_pool_exit

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_pool_exit()


@app.command("run")
def run_cmd(
    paths: List[str] = typer.Argument(..., help="Files, folders or globs (.txt .md .html .jsonl .csv)."),
    out: Path = typer.Option(Path("out"), "-o", "--out", help="Output folder."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model folder (default: models/default)."),
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl | parquet | plover (JSONL tables + plover.jsonl events)"),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Worker processes (local engine) or Dask workers."),
    engine: str = typer.Option("local", "--engine", help="local | dask"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (default: a LocalCluster)."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", min=1, help="Articles per chunk."),
    store: Optional[Path] = typer.Option(None, "--store", help="DuckDB store to accumulate runs in and skip done articles."),
    spacy_model: Optional[str] = typer.Option(None, "--spacy-model", help="Installed spaCy pipeline to tokenise with (optional)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Articles in; sentences, records, topics, tables, check and errors out (+ run.json)."""
    if spacy_model:  # its components may run on PyTorch: let thinc see it (pipeline/_spacy.py)
        import os

        os.environ.setdefault("STANCE_SPACY_TORCH", "1")
    from pipeline.modelling.folder import ModelError
    from pipeline.runner import RunOptions, run
    from pipeline.errors import RunError
    from pipeline.store import StoreError

    if fmt not in ("csv", "jsonl", "parquet", "plover"):
        raise fail(f"unknown format {fmt!r}; choose csv, jsonl, parquet or plover")
    if engine not in ("local", "dask"):
        raise fail(f"unknown engine {engine!r}; choose local or dask")
    model_dir = resolve_model(model)
    problem = output_problem(out)
    if problem:
        raise fail(problem)
    bar = None
    if not quiet and is_tty():
        import shutil

        from tqdm import tqdm

        # shutil falls back to 80x24 where the terminal reports 0x0 (tqdm would then draw nothing)
        bar = tqdm(total=count_inputs(paths), unit=" articles", desc="stance run", mininterval=0.5,
                   ncols=shutil.get_terminal_size().columns, nrows=shutil.get_terminal_size().lines)

    def progress(n_articles: int, words: int) -> None:
        if bar is not None:
            bar.update(n_articles)
            bar.set_postfix(words=f"{words:,}", refresh=False)

    try:
        summary = run(RunOptions(paths=list(paths), out=out, model=model_dir, fmt=fmt, engine=engine, workers=workers,
                                 scheduler=scheduler, chunk_size=chunk_size, store=store, base_model=spacy_model, progress=progress))
    except (ModelError, StoreError) as exc:
        raise fail(str(exc))
    except RunError as exc:  # output folder in use, disk full, Ctrl-C
        if exc.exit_code == 130:
            _quiet_exit()
        raise fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:  # before the first chunk: nothing was written
        _quiet_exit()
        raise fail("interrupted; 0 articles done, outputs not written", 130)
    finally:
        if bar is not None:
            bar.close()
    c = summary["counts"]
    chk = summary["check"]
    info(f"{c['inputs_read']} inputs: {c['articles_processed']} articles processed, {c['inputs_failed']} failed, "
         f"{c['articles_skipped_in_store']} already in store; {c['sentences']} sentences, {c['records']} relation records "
         f"({c['relations']} article-pair relations); "
         f"table check: {chk['agree']} agree / {chk['disagree']} disagree / {chk['missing']} missing -> {out}", quiet)
    if c["inputs_read"] and not c["articles_processed"] and not c["articles_skipped_in_store"]:
        # nothing could be read: scripts must notice (errors.csv says why for each input)
        typer.echo(f"error: every input failed ({c['inputs_failed']}); see {out}/errors.csv", err=True)
        raise typer.Exit(1)
