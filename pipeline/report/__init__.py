"""``stance report``: a static, self-contained HTML report of a run or a store.

The report folder holds ``index.html`` (overview), ``timeline.html`` (relations over
time), ``heatmap.html`` (pair x topic, each cell linking to its evidence),
``evidence/`` (the strongest sentences each way, per pair and topic), ``articles/``
(article pages: the text coloured by stance with its mentions marked, the records, the
hand-made tables next to the prose check) and ``assets/`` (the stylesheet and the
Vega / Vega-Lite / Vega-Embed bundle from vl-convert): nothing is loaded from outside
the folder, so it opens from a file on a machine with no network. ``png/`` holds each
chart as an image when asked for (``--png``).

The folder is written beside its destination and moved into place when complete; an
existing folder is replaced only when it is a previous report (``.stance-report``).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from pipeline.report.data import Filters, ReportData, ReportError

__all__ = ["Filters", "ReportError", "ReportResult", "build_report"]

MARKER = ".stance-report"
NAV = [("index.html", "Overview"), ("timeline.html", "Over time"), ("heatmap.html", "Pair × topic"),
       ("evidence/index.html", "Evidence"), ("articles/index.html", "Articles")]


@dataclass
class ReportResult:
    folder: Path
    pages: int
    charts: int
    article_pages: int
    png: list[Path] = field(default_factory=list)
    size_bytes: int = 0
    seconds: float = 0.0


def safe_name(text: str) -> str:
    """A file name for an id or pair: its safe characters, then a short hash so that ids
    differing only in unsafe characters get different files."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:60] or "x"
    return f"{slug}-{hashlib.sha1(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}.html"


def _anchor(text: str) -> str:
    return "t-" + re.sub(r"[^A-Za-z0-9_-]+", "_", text)


class _Pages:
    """Renders templates into the staging folder and collects chart specifications."""

    def __init__(self, staging: Path, filters: Filters, png: bool):
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        folder = resources.files("pipeline.report") / "templates"
        self.env = Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["j2", "html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.staging, self.filters, self.png = staging, filters.describe(), png
        self.n_pages = self.n_charts = 0
        self.png_files: list[Path] = []

    def chart(self, charts: list, name: str, chart) -> str:
        from pipeline.report.charts import spec

        s = spec(chart)
        cid = f"chart-{len(charts)}"
        # inside <script>: no "</script>" or "<!--" can appear in the JSON
        charts.append({"id": cid, "spec": json.dumps(s, ensure_ascii=False).replace("<", "\\u003c")})
        self.n_charts += 1
        if self.png:
            import vl_convert as vlc

            target = self.staging / "png" / f"{name}.png"
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(vlc.vegalite_to_png(s, scale=2))
            self.png_files.append(Path("png") / target.name)
        return cid

    def write(self, rel: str, template: str, charts: list | None = None, **ctx) -> None:
        depth = rel.count("/")
        html = self.env.get_template(template).render(
            root="../" * depth, nav=NAV, here=rel, filters=self.filters, charts=charts or [], **ctx)
        target = self.staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.n_pages += 1


def _model_card(d: ReportData, model_dir: Path | None) -> tuple[dict | None, str]:
    """The card of the model behind the rows (``--model``, else the run's model folder,
    else the default model), only when its id is the rows' model id."""
    from pipeline.config import load_settings

    candidates = []
    if model_dir:
        candidates.append(Path(model_dir))
    path = (d.run_info.get("model") or {}).get("path") if d.run_info else None
    if path:
        candidates.append(Path(path))
    candidates.append(load_settings().path("run", "default_model"))
    for folder in candidates:
        try:
            card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(card, dict):
            continue
        if d.model_id and card.get("model_id") != d.model_id:
            continue
        return {"id": card.get("model_id", ""), "path": str(folder), "created": card.get("created", ""),
                "metrics": _card_metrics(card)}, ""
    tried = ", ".join(str(c) for c in candidates)
    return None, f"no card with this id in {tried}"


def _card_metrics(card: dict) -> list[tuple[str, str]]:
    """The card's held-out figures as (what, figures) lines; a card of another layout
    gives fewer lines, never an error."""
    try:
        return _card_lines(card)
    except (TypeError, ValueError, AttributeError):
        return [("metrics", "the card's metrics have a layout this report does not know")]


def _card_lines(card: dict) -> list[tuple[str, str]]:
    def get(*keys):
        cur = card
        for k in keys:
            if not isinstance(cur, dict) or k not in cur:
                return None
            cur = cur[k]
        return cur

    out = []
    rel = get("relation", "metrics", "heldout", "model")
    if isinstance(rel, dict):
        p = rel.get("pair", {})
        t = rel.get("triple", {})
        s = rel.get("stance_on_found", {})
        out.append(("relations, held-out articles",
                    f"pair P/R/F1 {p.get('precision', 0):.3f} / {p.get('recall', 0):.3f} / {p.get('f1', 0):.3f}; "
                    f"(sentence, pair, stance) F1 {t.get('f1', 0):.3f}; stance macro-F1 on found pairs "
                    f"{s.get('macro_f1', 0):.3f} ({rel.get('sentences', '?')} sentences)"))
    ev = get("relation", "metrics", "eval_set", "all", "model")
    if isinstance(ev, dict):
        out.append(("relations, fixed evaluation set (never trained on)",
                    f"pair F1 {ev.get('pair', {}).get('f1', 0):.3f}; (sentence, pair, stance) F1 "
                    f"{ev.get('triple', {}).get('f1', 0):.3f} ({ev.get('sentences', '?')} sentences)"))
    cs = get("relation", "metrics", "cross_source")
    if isinstance(cs, dict) and cs:
        f1s = [get("relation", "metrics", "cross_source", src, "model", "triple", "f1") for src in cs]
        f1s = [f for f in f1s if isinstance(f, (int, float))]
        if f1s:
            out.append(("relations, leaving one source out", f"(sentence, pair, stance) F1 mean {sum(f1s) / len(f1s):.3f} "
                        f"over {len(f1s)} sources (min {min(f1s):.3f}, max {max(f1s):.3f})"))
    sent = get("sentence", "metrics", "heldout", "model")
    if isinstance(sent, dict):
        out.append(("sentence stance, held-out articles",
                    f"macro-F1 {sent.get('macro_f1', 0):.3f}, accuracy {sent.get('accuracy', 0):.3f} (n = {sent.get('n', '?')})"))
    tab = get("table", "metrics", "heldout", "model")
    if isinstance(tab, dict):
        out.append(("table rows, held-out tables", f"macro-F1 {tab.get('macro_f1', 0):.3f} (n = {tab.get('n', '?')})"))
    return out


@lru_cache(maxsize=1)
def _vega_bundle() -> str:
    """Vega, Vega-Lite (the version altair writes) and Vega-Embed as one classic script
    that sets ``window.vegaEmbed`` (vl-convert bundles them; a module script would not
    load from a file:// page)."""
    import altair as alt
    import vl_convert as vlc

    return vlc.javascript_bundle(vl_version=".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]))


def _records_of(df) -> list[dict]:
    return df.to_dict(orient="records")


def build_report(out: Path, *, outdir: Path | None = None, store: Path | None = None, filters: Filters | None = None,
                 articles: tuple[str, ...] = (), top_articles: int | None = None, png: bool = False,
                 model: Path | None = None, model_id: str | None = None, settings=None) -> ReportResult:
    """Build the report of a run's output folder or of a store into ``out``."""
    from pipeline.config import load_settings

    t0 = time.perf_counter()
    settings = settings or load_settings()
    filters = filters or Filters()
    out = Path(out)
    if (outdir is None) == (store is None):
        raise ReportError("give either a run's output folder or --store, not both")
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ReportError(f"{out}: a folder that is not a stance report; choose an empty or new folder")
    d = ReportData.from_outdir(outdir, filters) if outdir is not None else ReportData.from_store(store, filters, model_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        pages = _Pages(staging, filters, png)
        n_article_pages = _build(d, pages, settings, articles, top_articles, model)
        (staging / MARKER).write_text("stance report\n", encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old-{int(time.time() * 1000)}")
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        d.close()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return ReportResult(out, pages.n_pages, pages.n_charts, n_article_pages, [out / p for p in pages.png_files],
                        size, time.perf_counter() - t0)


def _build(d: ReportData, pages: _Pages, settings, requested: tuple[str, ...], top_n: int | None, model_dir) -> int:
    from importlib.metadata import version

    from pipeline.report import charts as C
    from pipeline.report import figures as F

    cfg = lambda key, default: int(settings.get("report", key, default))  # noqa: E731
    band = float(settings.get("check", "neutral_band", 0.15))
    min_solid = cfg("min_records_solid", 5)
    staging = pages.staging
    assets = staging / "assets"
    assets.mkdir()
    (assets / "report.css").write_bytes((resources.files("pipeline.report") / "static" / "report.css").read_bytes())
    (assets / "vega-embed.js").write_text(_vega_bundle(), encoding="utf-8")

    missing = [a for a in requested if not d.scalar("select count(*) from articles where article_id = ?", [a])]
    if missing:
        raise ReportError(f"no such article {missing[0]!r} in {d.source} (with these filters)")

    # -- which pairs and articles get views --------------------------------------------
    evidence_pairs = F.main_pairs(d, max(cfg("evidence_pairs", 40), cfg("heatmap_pairs", 20)))
    main = evidence_pairs[: cfg("main_pairs", 6)]
    heat_pairs = evidence_pairs[: cfg("heatmap_pairs", 20)]
    heat_topics = F.top_topics(d, cfg("heatmap_topics", 16), heat_pairs)
    k = cfg("evidence_per_direction", 5)
    evidence = {p: F.evidence(d, p, k) for p in evidence_pairs}
    top = F.top_articles(d, cfg("top_articles", 20) if top_n is None else int(top_n))
    page_ids: list[str] = list(dict.fromkeys([*requested, *top]))
    cap = max(cfg("max_article_pages", 300), len(page_ids))
    for p in evidence_pairs:  # the articles the evidence lists cite, while there is room
        for aid in evidence[p]["article_id"]:
            if len(page_ids) >= cap:
                break
            if aid not in page_ids:
                page_ids.append(aid)
    page_file = {aid: safe_name(aid) for aid in page_ids}
    pair_file = {p: safe_name(p) for p in evidence_pairs}

    # -- overview ----------------------------------------------------------------------
    ov = F.overview(d)
    summary = F.pair_summary(d, evidence_pairs, band)
    summary["file"] = summary["pair"].map(pair_file)
    charts: list = []
    stance_chart = pages.chart(charts, "overview_pairs", C.stance_bars(summary[summary["pair"].isin(main)])) if main else None
    check_chart = pages.chart(charts, "overview_check", C.check_bars(ov["check_status"])) if len(ov["check_status"]) else None
    card, note = _model_card(d, model_dir)
    cards = [(f"{ov['articles']:,}", "articles"), (f"{ov['records']:,}", "relation records"),
             (f"{ov['claims']:,}", "sentences with a record"), (f"{ov['pairs']:,}", "actor pairs"),
             (f"{ov['failed']:,}", "failed inputs"), (f"{ov['table_rows']:,}", "table rows checked")]
    pages.write("index.html", "index.html.j2", charts, title="Overview", source=d.source, version=version("stance-pipeline"),
                built=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), cards=cards, stance_chart=stance_chart,
                pairs=_records_of(summary[summary["pair"].isin(main)]), band=band, model=card, model_id=d.model_id,
                model_note=note, check_chart=check_chart, check_reasons=_records_of(ov["check_reasons"]),
                failed=ov["failed"], failed_reasons=_records_of(ov["failed_reasons"]),
                failed_list=_records_of(ov["failed_list"]), sources=_records_of(ov["by_source"]))

    # -- over time ---------------------------------------------------------------------
    charts = []
    series = F.monthly(d, main, band)
    rows = []
    for p in main:
        s = series[series["pair"] == p]
        if s.empty:
            continue
        topics = F.top_topics(d, cfg("topics_per_pair", 6), [p])
        rows.append({"pair": p, "anchor": _anchor(p), "file": pair_file[p],
                     "chart": pages.chart(charts, f"timeline_{pair_file[p][:-5]}", C.pair_timeline(s, p, min_solid)),
                     "topic_chart": pages.chart(charts, f"timeline_topics_{pair_file[p][:-5]}",
                                                C.topic_timelines(F.monthly_topics(d, p, topics, band), p, topics, min_solid))})
    pages.write("timeline.html", "timeline.html.j2", charts, title="Over time", pairs=rows, min_solid=min_solid,
                undated=F.undated(d, main))

    # -- pair x topic ------------------------------------------------------------------
    charts = []
    cells = F.pair_topic(d, heat_pairs, heat_topics, band)
    cells["href"] = [f"evidence/{pair_file[p]}#{_anchor(t)}" for p, t in zip(cells["pair"], cells["topic"])]
    chart = pages.chart(charts, "pair_topic", C.heatmap(cells, heat_pairs, heat_topics)) if len(cells) else None
    pages.write("heatmap.html", "heatmap.html.j2", charts, title="Pair × topic", chart=chart, cells=_records_of(cells),
                n_pairs=len(heat_pairs), n_topics=len(heat_topics))

    # -- evidence ----------------------------------------------------------------------
    n_pairs = d.scalar("select count(distinct pair) from records")
    pages.write("evidence/index.html", "evidence_index.html.j2", title="Evidence", pairs=_records_of(summary),
                more=max(0, n_pairs - len(evidence_pairs)))
    by_topic = F.pair_topic(d, evidence_pairs, F.top_topics(d, 10_000, evidence_pairs), band)
    for p in evidence_pairs:
        ev = evidence[p]
        ev["page"] = [f"../articles/{page_file[a]}#s{s}" if a in page_file else "" for a, s in zip(ev["article_id"], ev["sentence_id"])]
        topics = []
        for t in by_topic[by_topic["pair"] == p].sort_values(["n", "topic"], ascending=[False, True]).to_dict(orient="records"):
            sel = ev[ev["topic"] == t["topic"]]
            topics.append({**t, "anchor": _anchor(t["topic"]), "lists": [
                (s, _records_of(sel[sel["stance"] == s])) for s in ("convergence", "divergence")]})
        pages.write(f"evidence/{pair_file[p]}", "evidence.html.j2", title=f"Evidence {p}", pair=p, topics=topics, k=k)

    # -- articles ----------------------------------------------------------------------
    listing = F.article_list(d, page_ids)
    listing["file"] = listing["article_id"].map(page_file)
    why = ", ".join(x for x in [
        f"{len(requested)} asked for with --article" if requested else "",
        f"the {len(top)} with the most records", "the articles cited in the evidence lists"
        + (f" (up to {cap} pages)" if len(page_ids) >= cap else "")] if x)
    pages.write("articles/index.html", "articles_index.html.j2", title="Articles", pages=_records_of(listing),
                n_articles=ov["articles"], why=why)
    if page_ids:
        _article_pages(d, pages, page_ids, page_file, band)
    return len(page_ids)


def _article_pages(d: ReportData, pages: _Pages, ids: list[str], files: dict[str, str], band: float) -> None:
    from pipeline.report import article_view as V
    from pipeline.report import figures as F

    d.load_sentences(ids)
    nlp = V.recogniser()
    for aid in ids:
        a = F.article(d, aid)
        sents, recs = a["sentences"], a["records"]
        stance = V.sentence_stance(recs, band)
        found = V.find_mentions(sents["text"].tolist(), nlp) if len(sents) else []
        html_of = {}
        for s, ms in zip(sents.to_dict(orient="records"), found):
            sid = int(s["sentence_id"])
            st = stance.get(sid)
            cls = f"sent {st['stance']}" if st else "sent"
            title = f' title="{V.escape(st["pairs"])}"' if st else ""
            html_of[sid] = f'<span class="{cls}" id="s{sid}"{title}>{V.marked(s["text"], ms)}</span>'
        tables = {int(i): g for i, g in a["tables"].groupby("table_index")} if len(a["tables"]) else {}
        checks = {(int(c["table_index"]), int(c["row_index"])): c for c in _records_of(a["check"])}
        blocks, prev_section = [], None
        for b in V.blocks(sents):
            ids_ = [int(s["sentence_id"]) for s in b.sentences]
            item = {"kind": b.kind, "section": b.section, "section_changed": b.section != prev_section,
                    "html": " ".join(html_of.get(i, "") for i in ids_), "plain": "\n".join(s["text"] for s in b.sentences)}
            prev_section = b.section
            if b.kind == "table":
                item["table"] = _table_view(tables.get(b.table_index), checks, b.table_index)
                # the table is shown from tables.csv (cells, row stance, check), not as row lines
                item["html"] = ""
            blocks.append(item)
        for c in checks.values():
            c["evidence"] = [x for x in str(c.get("evidence_sentence_ids") or "").split(";") if x]
        pages.write(f"articles/{files[aid]}", "article.html.j2", title=str(a["meta"].get("title") or aid)[:80],
                    meta=a["meta"], blocks=blocks, records=_records_of(recs), checks=list(checks.values()))


def _table_view(rows, checks: dict, index: int) -> dict | None:
    if rows is None or rows.empty:
        return None
    first = rows.iloc[0]
    header = ["topic", first["column_a"] or first["actor_a"] or "side A", first["column_b"] or first["actor_b"] or "side B"]
    has_other = rows["other_cells"].astype(str).str.len().gt(0).any()
    if has_other:
        header.append("other cells")
    out = []
    for r in rows.to_dict(orient="records"):
        c = checks.get((index, int(r["row_index"])), {})
        cells = [r["position_a"], r["position_b"]] + ([r["other_cells"]] if has_other else [])
        out.append({"topic_cell": r["topic_cell"], "topic": r["topic"], "topic_method": r["topic_method"], "cells": cells,
                    "stance": r["stance"], "status": c.get("status", ""), "reason": c.get("reason", ""),
                    "prose_stance": c.get("prose_stance", ""), "n_prose": c.get("n_prose", 0),
                    "evidence": [x for x in str(c.get("evidence_sentence_ids") or "").split(";") if x]})
    return {"index": index, "header": header, "rows": out}
