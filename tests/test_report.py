"""``stance report`` (pipeline/report): what the pages say, checked against the run's own
tables with independent pandas code; filters; the store as a source; safe writes; errors.

The browser side (charts render, a heat-map click leads to its evidence, nothing is
requested from outside the folder) is in test_report_browser.py."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

from conftest import ROOT, run_cli

# fixtures report_run_out (the bundled corpus plus an empty and a binary file, run once into a
# folder and a store) and report (its report, with --png) are in conftest.py

SEED_ID = "9b54b077d780533b"


def _read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", keep_default_na=False)


def _claims(rec: pd.DataFrame) -> pd.DataFrame:
    rec = rec.assign(pair=rec["actor_a"] + "–" + rec["actor_b"])
    return rec.drop_duplicates(["article_id", "sentence_id", "pair"])


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids, self.scripts = [], set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append((tag, a[key]))


def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _specs(page: Path) -> list[dict]:
    """The Vega-Lite specifications embedded in a page."""
    text = page.read_text(encoding="utf-8")
    return [json.loads(m.group(1).replace("\\u003c", "<")) for m in re.finditer(r'vegaEmbed\("#chart-\d+", (\{.*\}), \{renderer', text)]


def _data(spec: dict) -> list[dict]:
    """Every inline data row of a specification (top level and nested charts)."""
    rows = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "datasets":
                for vals in value.values():
                    rows.extend(vals)
            elif isinstance(value, (dict, list)):
                rows.extend(_data(value))
    elif isinstance(spec, list):
        for v in spec:
            rows.extend(_data(v))
    return rows


def test_report_layout_and_every_local_link_resolves(report):
    for rel in ("index.html", "timeline.html", "heatmap.html", "evidence/index.html", "articles/index.html",
                "assets/report.css", "assets/vega-embed.js", ".stance-report"):
        assert (report / rel).is_file(), rel
    pages = sorted(report.rglob("*.html"))
    assert len(pages) > 10
    ids = {p: _parse(p).ids for p in pages}
    checked = 0
    for page in pages:
        for tag, link in _parse(page).links:
            url = urlparse(link)
            if url.scheme == "data":
                continue
            # nothing outside the folder: no scheme, no absolute path
            assert not url.scheme and not url.netloc and not url.path.startswith("/"), (page, link)
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            assert target.is_file(), (page.relative_to(report), link)
            assert report.resolve() in target.parents, (page, link)
            if url.fragment and target.suffix == ".html":
                assert url.fragment in ids.get(target, _parse(target).ids), (page.relative_to(report), link)
            checked += 1
    assert checked > 200


def test_overview_counts_are_the_run_tables(report_run_out, report):
    _, out, _ = report_run_out
    rec, art, err = _read(out, "records"), _read(out, "articles"), _read(out, "errors")
    html = (report / "index.html").read_text(encoding="utf-8")
    cards = dict((what, int(n.replace(",", ""))) for n, what in re.findall(r'<div class="n">([\d,]+)</div><div class="what">([^<]+)</div>', html))
    assert cards["articles"] == len(art)
    assert cards["relation records"] == len(rec)
    assert cards["sentences with a record"] == len(_claims(rec))
    assert cards["actor pairs"] == _claims(rec)["pair"].nunique()
    failed = err[err["severity"] == "error"]
    assert cards["failed inputs"] == len(failed) == 2
    for path in failed["path"]:  # every failed input is listed with its reason
        assert Path(path).name in html
    # the main pairs table: sentences per stance, from records.csv
    claims = _claims(rec)
    top = claims.groupby("pair").size().sort_values(ascending=False)
    first = top.index[0]
    row = re.search(rf"<tr><td>{re.escape(first)}</td>((?:<td[^>]*>[^<]*</td>)+)", html).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    g = claims[claims["pair"] == first]
    assert [int(c) for c in cells[:4]] == [len(g), (g.stance == "convergence").sum(), (g.stance == "divergence").sum(),
                                           (g.stance == "neutral").sum()]
    assert float(cells[4]) == pytest.approx(g["score"].mean(), abs=0.006)
    # the model's held-out metrics, from its card
    card = json.loads((ROOT / "models/default/card.json").read_text())
    assert card["model_id"] in html
    assert f"{card['relation']['metrics']['heldout']['model']['triple']['f1']:.3f}" in html
    # the table check summary
    chk = _read(out, "check")
    for status, n in chk["status"].value_counts().items():
        assert re.search(rf'status-{status}">{status}</td><td>[^<]*</td><td class="num">{n}</td>', html) or n == 0


def test_heatmap_cells_are_pair_topic_records_and_link_to_their_evidence(report_run_out, report):
    _, out, _ = report_run_out
    rec = _read(out, "records")
    rec["pair"] = rec["actor_a"] + "–" + rec["actor_b"]
    (spec,) = _specs(report / "heatmap.html")
    cells = [r for r in _data(spec) if "href" in r]
    assert len(cells) > 20
    for c in cells:
        g = rec[(rec["pair"] == c["pair"]) & (rec["topic"] == c["topic"])]
        assert c["n"] == len(g)
        assert c["mean_score"] == pytest.approx(g["score"].mean())
        page, anchor = c["href"].split("#")
        target = report / page
        assert anchor in _parse(target).ids
        # the cell's evidence section lists sentences of that pair and topic only
        section = target.read_text(encoding="utf-8").split(f'id="{anchor}"')[1].split("<h2")[0]
        for sentence in re.findall(r'<span class="sent (?:convergence|divergence)">([^<]*)</span>', section):
            texts = set(g["evidence"].map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")))
            assert sentence in texts


def test_evidence_lists_the_strongest_sentences_each_way(report_run_out, report):
    _, out, _ = report_run_out
    rec = _read(out, "records")
    rec["pair"] = rec["actor_a"] + "–" + rec["actor_b"]
    pair, topic = "RUS–USA", "general"
    g = rec[(rec.pair == pair) & (rec.topic == topic)]
    page = next(p for p in (report / "evidence").glob("RUS_USA-*.html"))
    section = page.read_text(encoding="utf-8").split('id="t-general"')[1].split("<h2")[0]
    conv = section.split('<h3 class="stance-convergence">convergence')[1].split("</ol>")[0]
    scores = [float(s) for s in re.findall(r"score ([+-]\d\.\d\d)", conv)]
    best = sorted(g[g.stance == "convergence"]["score"], reverse=True)[: len(scores)]
    assert len(scores) == min(5, (g.stance == "convergence").sum())
    assert scores == [pytest.approx(b, abs=0.006) for b in best]
    div = section.split('<h3 class="stance-divergence">divergence')[1].split("</ol>")[0]
    dscores = [float(s) for s in re.findall(r"score ([+-]\d\.\d\d)", div)]
    worst = sorted(g[g.stance == "divergence"]["score"])[: len(dscores)]
    assert dscores == [pytest.approx(b, abs=0.006) for b in worst]


def test_timeline_points_carry_their_record_counts(report_run_out, report):
    _, out, _ = report_run_out
    claims = _claims(_read(out, "records")).merge(_read(out, "articles")[["article_id", "date"]], on="article_id")
    claims = claims[claims["date"] != ""]
    claims["month"] = claims["date"].str[:7] + "-01"
    specs = _specs(report / "timeline.html")
    first = specs[0]  # the main pair's time line
    points = [r for r in _data(first) if r.get("n", 0) > 0 and "mean_score" in r and "pair" in r]
    assert points
    pair = points[0]["pair"]
    expect = claims[claims.pair == pair].groupby("month").size()
    got = {r["month"]: r["n"] for r in points}
    assert got == expect.to_dict()
    # hollow points for months on few records: the size encodes n, the fill tells solid from hollow
    text = json.dumps(first)
    assert '"size"' in text and "datum.solid" in text


def test_seed_article_page(report_run_out, report):
    _, out, _ = report_run_out
    page = next(p for p in (report / "articles").glob(f"{SEED_ID}-*.html"))
    html = page.read_text(encoding="utf-8")
    rec = _read(out, "records")
    rec = rec[rec.article_id == SEED_ID]
    # every sentence with a record is coloured; one without is not
    for sid in rec["sentence_id"].unique():
        assert re.search(rf'<span class="sent (convergence|divergence|neutral)" id="s{sid}"', html), sid
    sents = _read(out, "sentences")
    bare = set(sents[(sents.article_id == SEED_ID) & (sents.block_kind != "table")]["sentence_id"]) - set(rec["sentence_id"])
    for sid in bare:
        assert f'<span class="sent" id="s{sid}">' in html
    # mentions marked with their codes
    assert re.search(r'<mark class="ent ent-actor" title="actor RUS">Moscow<span class="ent-label">RUS</span></mark>', html)
    assert re.search(r'<mark class="ent ent-topic" title="topic cybersecurity">', html)
    # the three hand-made tables with the check of each row
    assert html.count('<table class="data" id="table-') == 3
    chk = _read(out, "check")
    chk = chk[chk.article_id == SEED_ID]
    assert len(chk) > 0
    for row in chk.itertuples():
        assert f'<td class="status-{row.status}">{row.status}</td><td>{row.reason}</td>' in html
    assert f"Relation records ({len(rec)})" in html


def test_png_charts(report):
    pngs = sorted((report / "png").glob("*.png"))
    n_charts = sum(len(_specs(p)) for p in report.rglob("*.html"))
    assert len(pngs) == n_charts > 5
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 2000


def test_store_source_gives_the_same_report(report_run_out, report, tmp_path):
    _, _, store = report_run_out
    from pipeline.report import build_report

    rep = build_report(tmp_path / "from_store", store=store, top_articles=0).folder
    a, b = (report / "heatmap.html"), (rep / "heatmap.html")
    assert _data(_specs(a)[0]) == _data(_specs(b)[0])
    cards = lambda p: re.findall(r'<div class="n">([\d,]+)</div>', p.read_text(encoding="utf-8"))  # noqa: E731
    assert cards(report / "index.html") == cards(rep / "index.html")


def test_filters(report_run_out, tmp_path):
    _, out, store = report_run_out
    rec = _read(out, "records").merge(_read(out, "articles")[["article_id", "date"]], on="article_id")
    from pipeline.report import Filters, build_report

    rep = tmp_path / "chn"
    run_cli("report", str(out), "-o", str(rep), "--actor", "CHN", "--since", "2001-01-01", "--until", "2019-12-31",
            "--top-articles", "0")
    (spec,) = _specs(rep / "heatmap.html")
    cells = [r for r in _data(spec) if "href" in r]
    assert cells and all("CHN" in c["pair"].split("–") for c in cells)
    sel = rec[((rec.actor_a == "CHN") | (rec.actor_b == "CHN")) & (rec.date.str[:10] >= "2001-01-01")
              & (rec.date.str[:10] <= "2019-12-31") & (rec.date != "")]
    html = (rep / "index.html").read_text(encoding="utf-8")
    assert f'<div class="n">{len(sel):,}</div><div class="what">relation records' in html
    assert "actor CHN, since 2001-01-01, until 2019-12-31" in html
    rep2 = build_report(tmp_path / "arms", store=store, filters=Filters(topic="arms_control"), top_articles=0).folder
    (spec,) = _specs(rep2 / "heatmap.html")
    assert {c["topic"] for c in _data(spec) if "href" in c} == {"arms_control"}


def test_requested_article_pages_and_limits(report_run_out, tmp_path):
    _, out, _ = report_run_out
    art = _read(out, "articles")
    quiet = art.sort_values("n_records")["article_id"].iloc[0]  # the article with the fewest records
    from pipeline.report import build_report

    rep = build_report(tmp_path / "few", outdir=out, top_articles=2, articles=(quiet,)).folder
    files = {p.name for p in (rep / "articles").glob("*.html")} - {"index.html"}
    assert any(f.startswith(re.sub(r"[^A-Za-z0-9._-]+", "_", quiet)) for f in files)
    assert 3 <= len(files) <= 300
    bad = run_cli("report", str(out), "-o", str(tmp_path / "x"), "--article", "no-such-id", check=False)
    assert bad.returncode == 2 and "no such article 'no-such-id'" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x").exists()


def test_errors_are_one_line(report_run_out, tmp_path):
    _, out, store = report_run_out
    cases = [
        (["report", str(tmp_path), "-o", str(tmp_path / "r")], "not a stance run output folder"),
        (["report", str(tmp_path / "nope"), "-o", str(tmp_path / "r")], "no such output folder"),
        (["report", str(out), "--store", str(store), "-o", str(tmp_path / "r")], "one of them"),
        (["report", str(out), "-o", str(tmp_path / "r"), "--actor", "rus"], "did you mean RUS"),
        (["report", "--store", str(store), "-o", str(tmp_path / "r"), "--topic", "arms"], "no such topic"),
        (["report", str(out), "-o", str(tmp_path / "r"), "--since", "May 2020"], "not an ISO date"),
    ]
    for args, message in cases:
        proc = run_cli(*args, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "r").exists()


def test_never_clobbers_a_folder_and_replaces_a_report_whole(report_run_out, tmp_path, monkeypatch):
    _, out, _ = report_run_out
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    proc = run_cli("report", str(out), "-o", str(mine), check=False)
    assert proc.returncode == 2 and "not a stance report" in proc.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]

    from pipeline import report as R
    from pipeline.report import Filters, build_report

    rep = tmp_path / "rep"
    build_report(rep, outdir=out, filters=Filters(), top_articles=1)
    before = sorted(p.relative_to(rep) for p in rep.rglob("*"))

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(R, "_article_pages", boom)
    with pytest.raises(RuntimeError):
        build_report(rep, outdir=out, filters=Filters(actor="CHN"), top_articles=1)
    assert sorted(p.relative_to(rep) for p in rep.rglob("*")) == before  # the old report, whole
    assert [p.name for p in tmp_path.iterdir() if ".partial" in p.name or ".old" in p.name] == []
    monkeypatch.undo()
    build_report(rep, outdir=out, filters=Filters(actor="CHN"), top_articles=1)  # a report is replaced
    assert "actor CHN" in (rep / "index.html").read_text(encoding="utf-8")


def test_reads_jsonl_and_dask_part_folders(report_run_out, tmp_path):
    """The same figures from the other output layouts (JSONL tables; a Dask run's part folders)."""
    _, out, _ = report_run_out
    jl = tmp_path / "jsonl_out"
    jl.mkdir()
    for name in ("records", "articles", "errors", "tables", "check", "sentences"):
        _read(out, name).to_json(jl / f"{name}.jsonl", orient="records", lines=True, force_ascii=False)
    parts = tmp_path / "parts_out"
    for name in ("records", "articles", "errors", "tables", "check", "sentences"):
        df = _read(out, name)
        (parts / name).mkdir(parents=True)
        half = len(df) // 2
        df.iloc[:half].to_csv(parts / name / "part-00000.csv", index=False)
        df.iloc[half:].to_csv(parts / name / "part-00001.csv", index=False)
    from pipeline.report import Filters, build_report

    ref = build_report(tmp_path / "ref", outdir=out, filters=Filters(), top_articles=0)
    for src in (jl, parts):
        res = build_report(tmp_path / f"rep_{src.name}", outdir=src, filters=Filters(), top_articles=0)
        assert _data(_specs(res.folder / "heatmap.html")[0]) == _data(_specs(ref.folder / "heatmap.html")[0])


def test_formula_guard_is_undone_for_display():
    from pipeline.report.data import unneutralise

    assert unneutralise("'=SUM(A1)") == "=SUM(A1)"
    assert unneutralise("'-5 percent") == "-5 percent"
    assert unneutralise("'quoted'") == "'quoted'"
    assert unneutralise("plain") == "plain"


def test_file_names_are_safe_and_distinct():
    from pipeline.report import safe_name

    names = {safe_name(x) for x in ("a/b", "a_b", "a b", "../../etc", "é", "x" * 300)}
    assert len(names) == 6
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+\.html", n) and len(n) < 90 and not n.startswith(".") for n in names)
