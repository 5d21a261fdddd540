"""``stance segment PATH... -o FILE``: the segments of any input, as a table.

Without ``-o`` the same table goes to stdout as TSV: a header line, then one line per
segment, cells neutralised for spreadsheets like the files' and quoted where needed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info


def segment_paths(paths: list[str], out: Path | None, fmt: str = "csv", quiet: bool = False) -> dict:
    """Ingest and segment ``paths``; write the segment table (and errors next to it)."""
    from pipeline.config import load_settings
    from pipeline.contracts import ErrorEntry
    from pipeline.export import TableWriter, write_delimited
    from pipeline.ingestion import ingest
    from pipeline.records import error_row, segment_row
    from pipeline.schemas import frame
    from pipeline.segmentation import build_segmenter, iter_chunks, segment

    settings = load_settings()
    nlp = build_segmenter(settings)
    batch = int(settings.get("segment", "batch_size", 256))
    counts = {"articles": 0, "segments": 0, "errors": 0, "warnings": 0}
    writer = errors = None
    if out is not None:
        writer = TableWriter(out.parent, out.stem, fmt, schema="segments")
        writer.final = out
        errors = TableWriter(out.parent, out.stem + ".errors", fmt, schema="errors")
    else:  # the header first, so that an input without segments still gives a table
        write_delimited(frame("segments", []), sys.stdout)
    try:
        for chunk in iter_chunks(ingest(paths, settings), int(settings.get("run", "chunk_size", 100))):
            arts = [a for a in chunk if not isinstance(a, ErrorEntry)]
            errs = [error_row(e) for e in chunk if isinstance(e, ErrorEntry)]
            for a in arts:
                errs += [error_row(ErrorEntry(a.path, w, line=a.line, article_id=a.id, severity="warning")) for w in a.warnings]
            rows = [segment_row(s) for seg in segment(arts, nlp, batch_size=batch) for s in seg.sentences]
            counts["articles"] += len(arts)
            counts["segments"] += len(rows)
            counts["errors"] += sum(e["severity"] == "error" for e in errs)
            counts["warnings"] += sum(e["severity"] == "warning" for e in errs)
            if writer is None:
                write_delimited(frame("segments", rows), sys.stdout, header=False)
                sys.stdout.flush()
                for e in errs:
                    info(f"{e['severity']}: {e['path']}{':' + str(e['line']) if e['line'] else ''}: {e['reason']}", quiet)
            else:
                writer.write(rows)
                errors.write(errs)
    except BaseException:
        if writer is not None:
            writer.abort()
            errors.abort()
        raise
    if writer is not None:
        writer.commit()
        errors.commit()
    return counts


@app.command("segment")
def segment_cmd(
    paths: List[str] = typer.Argument(..., help="Files, folders or globs (.txt .md .html .jsonl .csv)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Write the segment table here (default: TSV with a header on stdout)."),
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl | parquet"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary on stderr."),
) -> None:
    """Split articles into segments: sentences, headings, bullets and table rows."""
    if fmt not in ("csv", "jsonl", "parquet"):
        raise fail(f"unknown format {fmt!r}")
    counts = segment_paths(paths, out, fmt, quiet)
    info(f"{counts['articles']} articles, {counts['segments']} segments, {counts['errors']} errors, {counts['warnings']} warnings"
         + (f" -> {out}" if out else ""), quiet)
