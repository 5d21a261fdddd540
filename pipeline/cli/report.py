"""``stance report OUTDIR|--store DB -o REPORT_DIR``: a static HTML report to read in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info


@app.command("report")
def report_cmd(
    outdir: Optional[Path] = typer.Argument(None, help="Output folder of `stance run` (or use --store)."),
    out: Path = typer.Option(..., "-o", "--out", help="Report folder (created; a previous report there is replaced)."),
    store: Optional[Path] = typer.Option(None, "--store", help="DuckDB store written by `stance run --store`."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Only records involving this actor code (e.g. RUS)."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Only records on this topic id (e.g. arms_control)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only articles dated on or after (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only articles dated on or before (YYYY-MM-DD)."),
    article: List[str] = typer.Option([], "--article", help="Also build this article's page (repeatable)."),
    top_articles: Optional[int] = typer.Option(None, "--top-articles", help="Pages for the N articles with the most records (default: [report] top_articles)."),
    png: bool = typer.Option(False, "--png", help="Also write every chart as a PNG image (png/)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model folder whose card to show (default: the run's)."),
    model_id: Optional[str] = typer.Option(None, "--model-id", help="With --store: rows of this model (default: the model used last)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Write a self-contained report (index.html and the pages it links to; no network needed)."""
    from pipeline.report import Filters, ReportError, build_report

    if (outdir is None) == (store is None):
        raise fail("give a run's output folder or --store DB (one of them)")
    if top_articles is not None and top_articles < 0:
        raise fail("--top-articles must be 0 or more")
    if store is not None and not store.is_file():
        raise fail(f"{store}: no such store")
    from pipeline.cli.export import check_filters

    check_filters(store, since=since, until=until, actor=actor, topic=topic)
    try:
        res = build_report(out, outdir=outdir, store=store, filters=Filters(actor, topic, since, until),
                           articles=tuple(article), top_articles=top_articles, png=png, model=model, model_id=model_id)
    except ReportError as exc:
        raise fail(str(exc))
    info(f"report: {res.pages} pages, {res.charts} charts, {res.article_pages} article pages, "
         f"{res.size_bytes / 1e6:.1f} MB, {res.seconds:.1f} s -> {res.folder / 'index.html'}"
         + (f" (+ {len(res.png)} PNG in {res.folder / 'png'})" if res.png else ""), quiet)
