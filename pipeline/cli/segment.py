"""``stance segment PATH... -o FILE``: the segments of any input, as a table."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info


def segment_paths(paths: list[str], out: Path | None, fmt: str = "csv", quiet: bool = False) -> dict:
    """Ingest and segment ``paths``; write the segment table (and errors next to it)."""
    from pipeline.config import load_settings
    from pipeline.contracts import ErrorEntry
    from pipeline.export import TableWriter
    from pipeline.ingestion import ingest
    from pipeline.records import error_row, segment_row
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
                for r in rows:
                    typer.echo(f"{r['article_id']}\t{r['sentence_id']}\t{r['block_kind']}\t{r['text']}")
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
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Write the segment table here (default: print TSV)."),
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl | parquet"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary on stderr."),
) -> None:
    """Split articles into segments: sentences, headings, bullets and table rows."""
    if fmt not in ("csv", "jsonl", "parquet"):
        raise fail(f"unknown format {fmt!r}")
    counts = segment_paths(paths, out, fmt, quiet)
    info(f"{counts['articles']} articles, {counts['segments']} segments, {counts['errors']} errors, {counts['warnings']} warnings"
         + (f" -> {out}" if out else ""), quiet)
