"""`stance annotate` (pipeline/annotate): selection, the three formats there and back,
training on what comes back, and the built-in labeller in headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import ROOT, run_cli

# report_run_out (a run of the bundled corpus, folder and store) is in conftest.py


@pytest.fixture(scope="module")
def items(report_run_out):
    from pipeline.annotate import candidates, default_exclusions, known_texts
    from pipeline.report.data import Filters, ReportData

    _, out, _ = report_run_out
    d = ReportData.from_outdir(out, Filters())
    try:
        return candidates(d, known_texts(default_exclusions(ROOT)))
    finally:
        d.close()


def test_candidates_leave_out_annotated_and_evaluation_texts(report_run_out, items):
    from pipeline.annotate import _fold

    _, out, _ = report_run_out
    known = set()
    for p in [*(ROOT / "corpus/annotations").glob("*.csv"), *(ROOT / "corpus/eval").rglob("*.csv")]:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        if "text" in df.columns:  # table_rows.csv has position cells, not sentences
            known |= set(df["text"].map(_fold))
    assert len(items) > 100
    assert not items["text"].map(_fold).isin(known).any()
    rec = pd.read_csv(out / "records.csv", keep_default_na=False)
    unknown = rec[~rec["evidence"].map(_fold).isin(known)].drop_duplicates(["article_id", "sentence_id", "actor_a", "actor_b"])
    assert (items["kind"] == "pair").sum() == len(unknown)  # every record not yet annotated is a candidate
    assert items["uncertainty"].between(0, 1).all()
    # in a fixed order whatever order the store returns rows in (a seeded selection must
    # pick the same items on every machine: DuckDB scans in parallel)
    assert items["item_id"].is_monotonic_increasing


def test_selection_is_uncertain_first_and_spread_over_groups(items):
    from pipeline.annotate import select

    chosen = select(items, 30, seed=1)
    assert len(chosen) == 30 and chosen["item_id"].is_unique
    groups = items.assign(g=items["kind"] + items["source"] + items["pair"].where(items["pair"] != "", items["_actors"].fillna("")) + items["topic"])
    g_of = dict(zip(groups["item_id"], groups["g"]))
    n_groups = groups["g"].nunique()
    assert n_groups > 30
    assert len({g_of[i] for i in chosen["item_id"]}) == 30  # more groups than items: one item per group
    # each chosen item is the most uncertain of its group
    best = groups.sort_values("uncertainty", ascending=False).drop_duplicates("g").set_index("g")["uncertainty"]
    assert all(u == best[g_of[i]] for i, u in zip(chosen["item_id"], chosen["uncertainty"]))
    # and the groups taken are the most uncertain ones
    assert chosen["uncertainty"].min() >= best.sort_values(ascending=False).iloc[29]
    assert select(items, 30, seed=1).equals(chosen)
    only = select(items, 10, seed=1, kinds=("sentence",))
    assert set(only["kind"]) == {"sentence"}


def _answer(fmt: str, text: str, labels: dict) -> str:
    """A user's answers in each tool's own export format."""
    if fmt == "csv":
        from io import StringIO

        df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
        df["label"] = df["item_id"].map(labels).fillna("")
        df["annotator"] = "U1"
        return df.to_csv(index=False)
    if fmt == "labelstudio":
        tasks = json.loads(text)
        for t in tasks:
            lab = labels.get(t["data"]["item_id"])
            if lab:
                t["annotations"] = [{"completed_by": 7, "was_cancelled": False, "result": [
                    {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [lab]}}]}]
        return json.dumps(tasks)
    lines = []
    for line in text.splitlines():
        eg = json.loads(line)
        lab = labels.get(eg["meta"]["item_id"])
        eg.update({"answer": "accept", "accept": [lab]} if lab else {"answer": "ignore", "accept": []})
        eg["_annotator_id"] = "prodigy-U1"
        lines.append(json.dumps(eg))
    return "\n".join(lines) + "\n"


def test_round_trip_in_each_format_then_train(report_run_out, tmp_path, tiny_model):
    _, out, _ = report_run_out
    labs = ["convergence", "divergence", "neutral", "none"]
    imported = {}
    for fmt, ext in (("csv", "csv"), ("labelstudio", "json"), ("prodigy", "jsonl")):
        f = tmp_path / f"items_{fmt}.{ext}"
        run_cli("annotate", str(out), "-o", str(f), "-n", "24", "--format", fmt, "--seed", "4")
        text = f.read_text(encoding="utf-8")
        ids = (pd.read_csv(f, dtype=str)["item_id"].tolist() if fmt == "csv" else
               [t["data"]["item_id"] for t in json.loads(text)] if fmt == "labelstudio" else
               [json.loads(x)["meta"]["item_id"] for x in text.splitlines()])
        assert len(ids) == 24
        answers = {i: labs[k % 4] for k, i in enumerate(ids[:20])}  # four left unanswered
        done = tmp_path / f"done_{fmt}.{ext}"
        done.write_text(_answer(fmt, text, answers), encoding="utf-8")
        dest = tmp_path / f"ann_{fmt}"
        proc = run_cli("annotate", "--import", str(done), "-o", str(dest))
        assert "20 answers read" in proc.stderr
        pairs = pd.read_csv(dest / f"{done.stem}.pairs.csv", dtype=str, keep_default_na=False) if (dest / f"{done.stem}.pairs.csv").exists() else pd.DataFrame()
        sents = pd.read_csv(dest / f"{done.stem}.sentences.csv", dtype=str, keep_default_na=False) if (dest / f"{done.stem}.sentences.csv").exists() else pd.DataFrame()
        n_sentence_none = 20 - len(pairs) - len(sents)
        assert n_sentence_none >= 0
        assert ("left out" in proc.stderr) == (n_sentence_none > 0)
        if len(pairs):
            assert set(pairs["label"]) <= set(labs) and (pairs["annotator"] != "").all() and (pairs["added"] != "").all()
        if len(sents):
            assert set(sents["stance"]) <= set(labs[:3])
        imported[fmt] = (pairs, sents)
    # the three tools give the same annotations back (annotator names aside)
    strip = lambda df: df.drop(columns=[c for c in ("annotator", "added") if c in df.columns]).sort_values(list(df.columns[:2])).reset_index(drop=True)  # noqa: E731
    assert strip(imported["csv"][0]).equals(strip(imported["labelstudio"][0])) and strip(imported["csv"][0]).equals(strip(imported["prodigy"][0]))
    assert strip(imported["csv"][1]).equals(strip(imported["prodigy"][1]))
    # ... and they train: the imported files next to a small sample of the annotations
    from pipeline.relations.training import read_pairs
    from pipeline.stance.model import read_annotations
    from pipeline.training import train

    dest = tmp_path / "ann_csv"
    new_pairs = sorted(str(p) for p in dest.glob("*.pairs.csv"))
    new_sents = sorted(str(p) for p in dest.glob("*.sentences.csv"))
    _, _, sentences, pair_file, _ = tiny_model
    assert len(read_pairs(new_pairs)) > 0 and len(read_annotations(new_sents)) > 0
    result = train([str(sentences), *new_sents], [str(pair_file), *new_pairs], name="t", seed=3, c_grid=(1.0,), pair_c_grid=(0.5,), folds=3)
    files = {f["path"] for f in result.card["relation"]["data"]["files"]}
    assert any(p.endswith(".pairs.csv") for p in files)


def test_import_errors(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    proc = run_cli("annotate", "--import", str(bad), "-o", str(tmp_path / "o"), check=False)
    assert proc.returncode == 2 and "not an annotate CSV" in proc.stderr
    wrong = tmp_path / "y.jsonl"
    wrong.write_text('{"text": "a", "answer": "accept", "accept": ["maybe"], "meta": {"kind": "pair"}}\n', encoding="utf-8")
    proc = run_cli("annotate", "--import", str(wrong), "-o", str(tmp_path / "o"), check=False)
    assert proc.returncode == 2 and "'maybe' is not one of" in proc.stderr


def test_labeller_in_a_real_browser(report_run_out, tmp_path):
    """Label five items with the keyboard, undo one, close the page, reopen: four answers
    saved, in the file too."""
    import browser

    if os.environ.get("STANCE_SKIP_BROWSER") == "1":
        pytest.skip("STANCE_SKIP_BROWSER=1")
    if browser.available():
        pytest.fail(f"needs Chromium: {browser.available()}")
    _, out, _ = report_run_out
    f = tmp_path / "items.csv"
    run_cli("annotate", str(out), "-o", str(f), "-n", "8")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "annotate", "--serve", str(f), "--port", "0", "--annotator", "B7"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    d = None
    try:
        line = proc.stdout.readline()
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        d = browser.start(tmp_path / "profile")
        d.get(url)
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        def wait_for(cond, what):
            end = time.monotonic() + 15
            while time.monotonic() < end:
                if cond():
                    return
                time.sleep(0.05)
            raise AssertionError(what)

        progress = lambda: d.find_element(By.ID, "progress").text  # noqa: E731
        wait_for(lambda: progress() == "0 of 8 labelled", "page did not load")
        first = pd.read_csv(f, dtype=str, keep_default_na=False).iloc[0]
        marks = [m for m in first["marks"].split(";") if m]
        shown = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#text mark")]
        assert shown == [first["text"][int(a):int(b)] for a, b in (m.split("-") for m in marks)]  # the pair, marked
        body = d.find_element(By.TAG_NAME, "body")
        seen = []
        for k, key in enumerate("12301"):
            item = d.find_element(By.ID, "text").get_attribute("data-item-id")
            seen.append(item)
            body.send_keys(key)
            wait_for(lambda: progress() == f"{k + 1} of 8 labelled", f"answer {k + 1} not taken")
        body.send_keys("u")
        wait_for(lambda: progress() == "4 of 8 labelled", "undo not taken")
        assert d.find_element(By.ID, "text").get_attribute("data-item-id") == seen[4]  # the undone item is next again
        assert browser.console_errors(d) == []
        d.get("about:blank")  # close the page
        saved = pd.read_csv(f, dtype=str, keep_default_na=False)
        got = dict(zip(saved["item_id"], saved["label"]))
        assert [got[i] for i in seen] == ["convergence", "divergence", "neutral", "none", ""]
        assert set(saved.loc[saved["label"] != "", "annotator"]) == {"B7"}
        d.get(url)  # reopen: the four answers are there, the fifth item is next
        wait_for(lambda: progress() == "4 of 8 labelled", "answers lost on reopen")
        assert d.find_element(By.ID, "text").get_attribute("data-item-id") == seen[4]
        outside = [u for u in browser.requests(d) if not u.startswith(url) and not u.startswith(("data:", "about:"))]
        assert outside == []
    finally:
        if d is not None:
            d.quit()
        proc.terminate()
        proc.wait(timeout=10)
    # the answers are in the file the labeller was given, in the import format
    dest = tmp_path / "imported"
    res = run_cli("annotate", "--import", str(f), "-o", str(dest))
    assert "4 answers read" in res.stderr


def test_pairs_the_model_dropped_are_proposed_too(report_run_out, model):
    """Candidates judged `none` are in no output table: re-scored with the run's model."""
    from pipeline.annotate import candidates, default_exclusions, known_texts
    from pipeline.report.data import Filters, ReportData

    _, out, _ = report_run_out
    d = ReportData.from_outdir(out, Filters())
    try:
        items = candidates(d, known_texts(default_exclusions(ROOT)), model)
    finally:
        d.close()
    dropped = items[items["suggestion"] == "none"]
    assert len(dropped) > 50
    rec = pd.read_csv(out / "records.csv", keep_default_na=False)
    kept = set(zip(rec["article_id"], rec["sentence_id"], rec["actor_a"] + "-" + rec["actor_b"]))
    assert not any((a, s, p) in kept for a, s, p in zip(dropped["article_id"], dropped["sentence_id"], dropped["pair"]))
    assert dropped["suggestion_score"].between(0.25, 1).all()  # p(none) is the top of four probabilities
    assert (dropped["actor_a"] < dropped["actor_b"]).all() and set(dropped["kind"]) == {"pair"}
