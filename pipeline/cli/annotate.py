"""``stance annotate``: pick items to label from a run or a store, export them for an
annotation tool, read the answers back, or label them in a local web page."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info


@app.command("annotate")
def annotate_cmd(
    outdir: Optional[Path] = typer.Argument(None, help="Output folder of `stance run` to select from (or --store)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Items file to write (selection) or folder for the imported annotations (--import)."),
    store: Optional[Path] = typer.Option(None, "--store", help="Select from a store written by `stance run --store`."),
    n: int = typer.Option(50, "-n", help="Number of items to select."),
    seed: int = typer.Option(13, "--seed", help="Seed for ties between equally uncertain items."),
    fmt: str = typer.Option("csv", "--format", help="csv | labelstudio | prodigy"),
    kind: str = typer.Option("both", "--kind", help="pair | sentence | both"),
    exclude: List[Path] = typer.Option([], "--exclude", help="More annotation CSVs whose texts are left out (corpus/annotations and corpus/eval always are)."),
    import_file: Optional[Path] = typer.Option(None, "--import", help="Read answers (CSV, Label Studio JSON export, Prodigy JSONL) into annotation CSVs in -o DIR."),
    serve: Optional[Path] = typer.Option(None, "--serve", help="Label an items CSV in a local web page (127.0.0.1)."),
    port: int = typer.Option(8765, "--port", help="Port of --serve (0: any free port)."),
    annotator: str = typer.Option("", "--annotator", help="Annotator name written with each answer."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model of the run (default: the run's, else models/default): pairs it dropped are proposed too."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Select uncertain, diverse items to label; export / import / serve them."""
    from pipeline.annotate import FORMATS, AnnotateError

    try:
        if serve is not None:
            _serve(serve, port, annotator, quiet)
        elif import_file is not None:
            _import(import_file, out, annotator, quiet)
        else:
            if fmt not in FORMATS:
                raise fail(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")
            if kind not in ("pair", "sentence", "both"):
                raise fail("--kind must be pair, sentence or both")
            if out is None:
                raise fail("-o FILE is needed: where to write the items")
            if (outdir is None) == (store is None):
                raise fail("give a run's output folder or --store DB (one of them)")
            if n < 1:
                raise fail("-n must be at least 1")
            _select(outdir, store, out, n, seed, fmt, kind, exclude, quiet, model)
    except AnnotateError as exc:
        raise fail(str(exc))


def _run_model(d, model_dir: Optional[Path], quiet: bool):
    """The model that made the rows (its id must match), to re-score dropped pairs; None
    (with a note) when it cannot be found."""
    from pipeline.cli._util import resolve_model
    from pipeline.models import ModelError, load_model

    tried = [model_dir] if model_dir else [Path(p) for p in [(d.run_info.get("model") or {}).get("path")] if p] + [resolve_model(None)]
    for folder in tried:
        try:
            m = load_model(folder)
        except ModelError:
            continue
        if not d.model_id or m.model_id == d.model_id:
            return m
    info(f"note: the run's model ({d.model_id or 'unknown'}) was not found in {', '.join(map(str, tried))}: "
         "pairs it dropped are not proposed (--model DIR)", quiet)
    return None


def _select(outdir, store, out: Path, n: int, seed: int, fmt: str, kind: str, exclude: list[Path], quiet: bool,
            model_dir: Optional[Path] = None) -> None:
    from pipeline.annotate import candidates, default_exclusions, export, known_texts, labelstudio_config, mark_pairs, select
    from pipeline.config import project_root
    from pipeline.export import atomic_write_text
    from pipeline.report.data import Filters, ReportData, ReportError

    for p in exclude:
        if not p.is_file():
            raise fail(f"{p}: no such file")
    try:
        d = ReportData.from_outdir(outdir, Filters()) if outdir is not None else ReportData.from_store(store, Filters())
    except ReportError as exc:
        raise fail(str(exc))
    try:
        known = known_texts(default_exclusions(project_root()) + list(exclude))
        m = _run_model(d, model_dir, quiet) if kind in ("pair", "both") else None
        items = candidates(d, known, m)
        kinds = ("pair", "sentence") if kind == "both" else (kind,)
        chosen = mark_pairs(select(items, n, seed, kinds))
        model_id = d.model_id
    finally:
        d.close()
    atomic_write_text(out, export(chosen, fmt, model_id))
    if fmt == "labelstudio":
        atomic_write_text(out.with_suffix(".config.xml"), labelstudio_config() + "\n")
    dropped = int((chosen["suggestion"] == "none").sum())
    info(f"{len(chosen)} items ({(chosen['kind'] == 'pair').sum()} pair, of which {dropped} the model dropped; "
         f"{(chosen['kind'] == 'sentence').sum()} sentence) "
         f"from {len(items)} candidates not yet annotated -> {out}"
         + (f" (+ labelling config {out.with_suffix('.config.xml')})" if fmt == "labelstudio" else ""), quiet)


def _import(path: Path, out: Optional[Path], annotator: str, quiet: bool) -> None:
    from pipeline.annotate import read_answers, to_annotations
    from pipeline.export import atomic_write_text, csv_text

    if not path.is_file():
        raise fail(f"{path}: no such file")
    if out is None:
        raise fail("-o DIR is needed: the folder for the imported annotation CSVs")
    if out.exists() and not out.is_dir():
        raise fail(f"{out}: exists and is not a folder")
    answers = read_answers(path, annotator)
    pairs, sentences, dropped = to_annotations(answers, path.name)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in (("pairs", pairs), ("sentences", sentences)):
        if len(df):
            target = out / f"{path.stem}.{name}.csv"
            atomic_write_text(target, csv_text(df))
            written.append(f"{len(df)} {name} -> {target}")
    note = f"; {dropped} sentence answers 'none' left out (sentence stance has three labels)" if dropped else ""
    info(f"{len(answers)} answers read from {path}: " + (", ".join(written) or "nothing to write") + note, quiet)


def _serve(path: Path, port: int, annotator: str, quiet: bool) -> None:
    from pipeline.annotate.serve import make_server

    if not path.is_file():
        raise fail(f"{path}: no such file")
    try:
        server = make_server(path, port, annotator)
    except OSError as exc:
        raise fail(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); try --port 0")
    host, real_port = server.server_address[:2]
    # the URL is the one line a script (or a test) reads: printed even with -q
    print(f"labeller on http://{host}:{real_port}/ for {path} (Ctrl-C stops it; answers are saved as you go)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
