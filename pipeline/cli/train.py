"""``stance train CSV... -o models/NAME``: train, report honest metrics, keep the better model."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List, Optional

import typer

from pipeline.cli import app
from pipeline.cli._util import fail, info


def compare_with_previous(result, previous_dir: Path, paths: list[str], seed: float, test_size: float) -> dict | None:
    """Score a previous model on the new held-out split, restricted to articles the
    previous model did not train on (its card lists them), so both numbers are honest."""
    from pipeline.stance.evaluate import metrics
    from pipeline.stance.model import ModelError, load_model, read_annotations, split_holdout

    try:
        prev = load_model(previous_dir)
    except ModelError as exc:
        return {"error": str(exc)}
    df = read_annotations(paths)
    _, te = split_holdout(df, test_size=test_size, seed=int(seed))
    test = df.iloc[te]
    seen = set(prev.card.get("data", {}).get("train_article_ids", []))
    fair = test[~test["article_id"].isin(seen)]
    if fair.empty:
        return {"error": "every held-out article was in the previous model's training data"}
    new_pred = result.model.predict(fair["text"].tolist()).tolist()
    old_pred = [p.stance for p in prev.predict(fair["text"].tolist())]
    y = fair["stance"].tolist()
    return {"previous_model_id": prev.model_id, "n": len(fair), "excluded_seen_by_previous": int(len(test) - len(fair)),
            "new": metrics(y, new_pred), "previous": metrics(y, old_pred)}


@app.command("train")
def train_cmd(
    csvs: List[Path] = typer.Argument(..., help="Annotation CSVs: text, stance[, topic, source, article_id]."),
    out: Path = typer.Option(..., "-o", "--out", help="Model folder to write, e.g. models/mine."),
    seed: int = typer.Option(13, help="Random seed (split, CV folds, classifier)."),
    test_size: float = typer.Option(0.2, help="Share of articles held out for evaluation."),
    compare: Optional[Path] = typer.Option(None, help="Previous model to compare with (default: the default model)."),
    keep_better: bool = typer.Option(False, "--keep-better", help="Replace the compared model with the new one if it scores at least as well."),
    cross_source: bool = typer.Option(False, "--cross-source", help="Also report leave-one-source-out macro-F1 (one extra fit per source)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Train the stance classifier; write model.skops + card.json + card.md."""
    from pipeline.cli._util import resolve_model
    from pipeline.stance.evaluate import format_table
    from pipeline.stance.model import save_model, train

    for c in csvs:
        if not c.is_file():
            raise fail(f"{c}: no such file")
    try:
        result = train([str(c) for c in csvs], name=out.name, seed=seed, test_size=test_size, cross_source=cross_source)
    except ValueError as exc:
        raise fail(str(exc))
    previous = compare if compare is not None else resolve_model(None)
    cmp = None
    if previous.resolve() != out.resolve() and (previous / "model.skops").exists():
        cmp = compare_with_previous(result, previous, [str(c) for c in csvs], seed, test_size)
        if cmp and "error" not in cmp:
            result.card["metrics"]["compared_with_previous"] = {k: v for k, v in cmp.items() if k not in ("new", "previous")} | {
                "new_macro_f1": cmp["new"]["macro_f1"], "previous_macro_f1": cmp["previous"]["macro_f1"]}
    model_id = save_model(result, out)
    card = result.card
    info(f"model {model_id} -> {out}", quiet)
    info(f"cross-validated macro-F1 (training part): {card['metrics']['cross_validated']['best']['macro_f1']:.3f}", quiet)
    info(f"held-out ({card['data']['heldout_rows']} sentences, never seen in training):", quiet)
    info(format_table(card["metrics"]["heldout"]), quiet)
    if card["metrics"].get("cross_source"):
        info(f"leave-one-source-out macro-F1: {card['metrics']['cross_source']}", quiet)
    if cmp is not None:
        if "error" in cmp:
            info(f"comparison with {previous}: {cmp['error']}", quiet)
        else:
            info(f"\nnew vs previous ({cmp['previous_model_id']}) on {cmp['n']} held-out sentences the previous model never saw:", quiet)
            info(format_table({"new": cmp["new"], "previous": cmp["previous"]}), quiet)
            if keep_better:
                if cmp["new"]["macro_f1"] >= cmp["previous"]["macro_f1"]:
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
