"""Training the pipeline's model: the sentence classifier, then the relation classifier on
top of it, with honest metrics for both, in one card.

1. Sentence annotations and pair annotations are each split by article. The sentence
   classifier is trained on the annotated sentences of its training part plus the pair
   sentences of the pair training part whose related pairs all have one stance; C and
   class offsets are chosen by grouped cross-validation; the held-out annotated sentences
   are scored next to the majority-class and lexicon-only baselines.
2. The relation classifier's sentence-stance features are cross-fitted on its training
   sentences (each fold predicted by a sentence classifier that did not see it), so they
   are as reliable in training as on new text; the relation and direction pipelines are
   fitted on the training part, and the held-out part is scored as a system (pairs found,
   stances) next to the two baselines of :mod:`pipeline.relations.training`.
3. Optionally (``cross_source``) both classifiers are refitted without one source at a time
   and scored on that source; and a fixed evaluation set (``corpus/eval/``) that no model
   is ever trained on is scored the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from pipeline.config import Settings, load_settings
from pipeline.labels import LABELS, RELATION_LABELS
from pipeline.modelling.folder import sha256_file
from pipeline.modelling.training import joint_holdout, majority_label, versions
from pipeline.relations.candidates import load_rules
from pipeline.relations.training import evaluate, featurize, fit_relation, format_scores, read_pairs, sentence_labels
from pipeline.stance.model import (SentenceModel, build_pipeline, cross_source_metrics, fit_sentence,
                                   heldout_sentence_metrics, load_lexicon, read_annotations, slim)
from pipeline.modelling.training import shift_intercepts


@dataclass
class TrainResult:
    objects: dict  # what save_model writes: {"sentence": Pipeline, "relation": {...}}
    card: dict
    sentence: SentenceModel
    relation: object  # RelationModel


def _files(paths: Sequence[str | Path], rows: dict[str, int]) -> list[dict]:
    return [{"path": str(p), "sha256": sha256_file(Path(p)), "rows_used": int(rows.get(str(p), 0))} for p in paths]


def split_both(df: pd.DataFrame, pairs: list, *, test_size: float, seed: int):
    """Row indices (train, held-out) of the sentence annotations and of the pair sentences,
    from one split by article over both, so that no article has sentences on both sides
    of either split."""
    held = joint_holdout(df["article_id"].tolist(), [p.article_id for p in pairs], test_size=test_size, seed=seed)
    in_held = df["article_id"].isin(held).to_numpy()
    tr, te = np.flatnonzero(~in_held), np.flatnonzero(in_held)
    ptr = np.asarray([i for i, p in enumerate(pairs) if p.article_id not in held], dtype=int)
    pte = np.asarray([i for i, p in enumerate(pairs) if p.article_id in held], dtype=int)
    return tr, te, ptr, pte


def _fit_fixed(train_df: pd.DataFrame, lexicon, C: float, offsets: np.ndarray, classes: np.ndarray, seed: int):
    """The sentence classifier with C and class offsets already chosen."""
    m = slim(build_pipeline(lexicon, C=C, seed=seed).fit(train_df["text"].tolist(), train_df["stance"].to_numpy()))
    shift_intercepts(m.named_steps["clf"], offsets, classes)
    return m


def crossfit_predictions(base: pd.DataFrame, pairs: list, idx: Sequence[int], lexicon, C: float, offsets: np.ndarray,
                         classes: np.ndarray, *, seed: int, folds: int = 3) -> dict[int, object]:
    """Sentence-classifier predictions for the pair sentences ``idx`` that the classifier
    was not trained on: the sentences are split into folds by article, and each fold is
    predicted by a classifier trained on ``base`` (less that fold's articles) plus the
    sentence labels derived from the other folds. The relation classifier is trained on these, so that its sentence-stance
    features are as (un)reliable as they will be on new text."""
    idx = np.asarray(list(idx), dtype=int)
    groups = np.asarray([pairs[i].article_id for i in idx])
    out = {}
    for tr, te in GroupKFold(n_splits=max(2, min(folds, len(set(groups.tolist()))))).split(idx, groups=groups):
        fold_articles = set(groups[te].tolist())  # nothing of these articles in training
        keep = base[~base["article_id"].isin(fold_articles)]
        train_df = pd.concat([keep[["text", "stance", "article_id"]], sentence_labels(pairs, idx[tr])[["text", "stance", "article_id"]]],
                             ignore_index=True)
        model = SentenceModel(_fit_fixed(train_df, lexicon, C, offsets, classes, seed))
        for i, p in zip(idx[te], model.predict([pairs[i].text for i in idx[te]])):
            out[int(i)] = p
    return out


def train(
    sentence_paths: Sequence[str | Path],
    pair_paths: Sequence[str | Path],
    *,
    name: str = "default",
    seed: int = 13,
    test_size: float = 0.2,
    c_grid: Sequence[float] = (1.0, 2.0, 4.0),
    pair_c_grid: Sequence[float] = (0.25, 0.5, 1.0, 2.0),
    folds: int = 5,
    cross_source: bool = False,
    eval_paths: Sequence[str | Path] = (),
    table_paths: Sequence[str | Path] = (),
    settings: Settings | None = None,
    progress: Callable[[str], None] | None = None,
    encoder: str | None = None,
) -> TrainResult:
    """Train the sentence, relation (and table-row) classifiers; with ``encoder`` (e.g.
    ``"minilm"``) the sentence and relation classifiers also read the sentence encoder's
    embeddings (:mod:`pipeline.encoder`), next to the sparse features."""
    from pipeline.encoder import card_entry, use_encoder

    with use_encoder(encoder):
        result = _train(sentence_paths, pair_paths, name=name, seed=seed, test_size=test_size, c_grid=c_grid,
                        pair_c_grid=pair_c_grid, folds=folds, cross_source=cross_source, eval_paths=eval_paths,
                        table_paths=table_paths, settings=settings, progress=progress)
    if encoder:
        result.card["encoder"] = card_entry(encoder)
    return result


def without_eval_set(df: pd.DataFrame, pairs: list, eval_paths: Sequence[str | Path]) -> tuple[pd.DataFrame, list, dict]:
    """The annotations minus everything from the evaluation set's articles (same article
    id, or the same sentence text after whitespace and case folding), so that its figures
    are on text no classifier was trained on, whatever the annotation files hold."""
    import re

    if not eval_paths:
        return df, pairs, {"articles": 0, "sentences": 0, "pair_sentences": 0}
    ev = read_pairs(eval_paths)
    fold = lambda t: re.sub(r"\s+", " ", str(t)).strip().lower()  # noqa: E731
    arts, texts = {p.article_id for p in ev}, {fold(p.text) for p in ev}
    drop = df["article_id"].isin(arts) | df["text"].map(fold).isin(texts)
    kept_pairs = [p for p in pairs if p.article_id not in arts and fold(p.text) not in texts]
    return (df[~drop].reset_index(drop=True), kept_pairs,
            {"articles": len(arts), "sentences": int(drop.sum()), "pair_sentences": len(pairs) - len(kept_pairs)})


def _train(
    sentence_paths: Sequence[str | Path],
    pair_paths: Sequence[str | Path],
    *,
    name: str,
    seed: int,
    test_size: float,
    c_grid: Sequence[float],
    pair_c_grid: Sequence[float],
    folds: int,
    cross_source: bool,
    eval_paths: Sequence[str | Path],
    table_paths: Sequence[str | Path],
    settings: Settings | None,
    progress: Callable[[str], None] | None,
) -> TrainResult:
    say = progress or (lambda msg: None)
    settings = settings or load_settings()
    lexicon = load_lexicon(settings)

    # the data and its two grouped splits (sentences; pair sentences)
    df = read_annotations(sentence_paths)
    pairs = read_pairs(pair_paths)
    df, pairs, excluded = without_eval_set(df, pairs, eval_paths)
    if excluded["sentences"] or excluded["pair_sentences"]:
        say(f"left out of training: {excluded['sentences']} annotated sentences and {excluded['pair_sentences']} pair "
            f"sentences of the fixed evaluation set's {excluded['articles']} articles (it is never trained on)")
    tr, te, ptr, pte = split_both(df, pairs, test_size=test_size, seed=seed)
    train_df, test_df = df.iloc[tr], df.iloc[te]
    derived = sentence_labels(pairs, ptr)  # only pair sentences of the training part

    # 1. the sentence classifier: annotated sentences + sentence labels derived from pairs
    sent_train = pd.concat([train_df[["text", "stance", "article_id", "source"]], derived], ignore_index=True)
    say(f"sentence classifier: {len(train_df)} annotated + {len(derived)} pair-derived training sentences, "
        f"{len(test_df)} held out; cross-validating C in {list(c_grid)}")
    sent_pipe, sent_info = fit_sentence(sent_train, lexicon, seed=seed, c_grid=c_grid, folds=folds)
    classes = np.array(sorted(sent_info["class_offsets"]))
    offsets = np.array([sent_info["class_offsets"][c] for c in classes])
    majority = majority_label(sent_train["stance"].tolist())
    sentence = SentenceModel(sent_pipe)
    sent_card = {
        "task": "sentence stance: convergence / divergence / neutral (see CODEBOOK.md)",
        "labels": list(LABELS),
        "data": {
            "files": _files(sentence_paths, df["_file"].value_counts().to_dict()),
            "rows": int(len(df)), "train_rows": int(len(train_df)), "heldout_rows": int(len(test_df)),
            "pair_derived_train_rows": int(len(derived)),
            "excluded_eval_set": excluded,
            "train_label_counts": sent_train["stance"].value_counts().to_dict(),
            "heldout_label_counts": test_df["stance"].value_counts().to_dict(),
            "train_article_ids": sorted(set(train_df["article_id"]) | set(derived["article_id"])),
            "heldout_article_ids": sorted(set(test_df["article_id"])),
        },
        "settings": {"seed": seed, "test_size": test_size,
                     "split": "GroupShuffleSplit by article_id, one split over the sentence and pair annotations",
                     "cv": f"StratifiedGroupKFold({folds}) on the training part", "C_grid": list(c_grid),
                     "C": sent_info["C"], "majority_label": majority, "lexicon_entries": len(lexicon.cues),
                     "class_offsets": sent_info["class_offsets"],
                     "pair_derived": "training pair sentences whose related pairs all have one stance"},
        "metrics": {"cross_validated": sent_info["cross_validated"],
                    "heldout": heldout_sentence_metrics(sent_pipe, test_df, lexicon, majority)},
    }
    say(f"sentence classifier held-out macro-F1 {sent_card['metrics']['heldout']['model']['macro_f1']:.3f}")
    sparse_pipe = None
    from pipeline.encoder import active_encoder, use_encoder

    if active_encoder():
        # an encoder model encodes only the sentences that need it (candidate pairs, table
        # cells); every other sentence gets its sentences.csv stance from a sparse twin
        # trained on the same data, split and grid
        with use_encoder(None):
            sparse_pipe, sparse_info = fit_sentence(sent_train, lexicon, seed=seed, c_grid=c_grid, folds=folds)
        sent_card["sparse_fallback"] = {
            "file": "sentence_sparse.skops", "C": sparse_info["C"], "class_offsets": sparse_info["class_offsets"],
            "used_for": "sentences with no candidate pair and outside tables (not encoded)",
            "metrics": {"heldout": heldout_sentence_metrics(sparse_pipe, test_df, lexicon, majority)}}
        say(f"sparse sentence classifier (for sentences the encoder skips) held-out macro-F1 "
            f"{sent_card['sparse_fallback']['metrics']['heldout']['model']['macro_f1']:.3f}")

    # 2. the relation classifier, on cross-fitted sentence predictions
    from pipeline.recognition import build_recogniser

    nlp = build_recogniser(settings)
    rules = load_rules(settings)
    say(f"relation classifier: cross-fitting sentence predictions for {len(ptr)} training pair sentences")
    cf = crossfit_predictions(train_df, pairs, ptr, lexicon, sent_info["C"], offsets, classes, seed=seed)
    held_preds = sentence.predict([pairs[i].text for i in pte])
    cf.update({int(i): p for i, p in zip(pte, held_preds)})
    F = featurize(pairs, nlp, rules, None, sentence.lexicon, predictions=[cf[i] for i in range(len(pairs))])
    say(f"relation classifier: {len(ptr)} training sentences ({int(sum(F.labels[r] is not None for r in F.rows(ptr)))} "
        f"labelled candidates), {len(pte)} held out; cross-validating C in {list(pair_c_grid)}")
    cv_groups = settings.get("train", "relation_cv_groups", "article")
    rel_model, rel_info = fit_relation(F, F.rows(ptr), seed=seed, c_grid=pair_c_grid, folds=folds, cv_groups=cv_groups)
    held = evaluate(F, rel_model, pte)
    say("relation classifier, held-out sentences:\n" + format_scores(held))
    by_source = {}
    for src in sorted({pairs[i].source for i in pte}):
        idx = [i for i in pte if pairs[i].source == src]
        by_source[src or "?"] = evaluate(F, rel_model, idx)
    rows_per_file = {}
    for p in pair_paths:
        rows_per_file[str(p)] = int(len(pd.read_csv(p, dtype=str, keep_default_na=False)))
    rel_card = {
        "task": "relation of a candidate actor pair: none / convergence / divergence / neutral, and its direction",
        "labels": list(RELATION_LABELS),
        "data": {
            "files": _files(pair_paths, rows_per_file),
            "sentences": len(pairs), "items": sum(len(p.gold) for p in pairs), "excluded_eval_set": excluded,
            "train_sentences": int(len(ptr)), "heldout_sentences": int(len(pte)),
            "candidates": int(len(F.candidates)), "labelled_candidates": int(sum(l is not None for l in F.labels)),
            "sources": sorted({p.source for p in pairs}),
            "train_article_ids": sorted({pairs[i].article_id for i in ptr}),
            "heldout_article_ids": sorted({pairs[i].article_id for i in pte}),
        },
        "settings": {"seed": seed, "test_size": test_size,
                     "split": "GroupShuffleSplit by article_id, one split over the sentence and pair annotations",
                     "cv": f"StratifiedGroupKFold({folds}) by {cv_groups} on the training part", "C_grid": list(pair_c_grid),
                     "C": rel_info["C"], "class_offsets": rel_info["class_offsets"],
                     "class_offsets_maximise": rel_info["offsets_maximise"],
                     "min_direction": rel_model.min_direction,
                     "sentence_features": "cross-fitted (3 folds by article) for the training part"},
        "metrics": {"cross_validated": rel_info["cross_validated"], "train_items": rel_info["train_items"],
                    "train_label_counts": rel_info["label_counts"], "direction_counts": rel_info["direction_counts"],
                    "heldout": held, "heldout_by_source": by_source},
    }

    # 3. leave one source out, and the fixed evaluation set
    if cross_source:
        sent_card["metrics"]["cross_source"] = cross_source_metrics(df, lexicon, C=sent_info["C"], seed=seed)
        rel_card["metrics"]["cross_source"] = cross_source_relations(
            df, pairs, nlp, rules, lexicon, sent_info, rel_info["C"], seed=seed, folds=folds, say=say,
            cv_groups=cv_groups)
    if eval_paths:
        ev = read_pairs(eval_paths)
        FE = featurize(ev, nlp, rules, sentence.predict, sentence.lexicon)
        rel_card["metrics"]["eval_set"] = {
            "files": _files(eval_paths, {str(p): len(read_pairs([p])) for p in eval_paths}),
            "all": evaluate(FE, rel_model, range(len(ev))),
            "by_source": {src: evaluate(FE, rel_model, [i for i, p in enumerate(ev) if p.source == src])
                          for src in sorted({p.source for p in ev})},
        }
        say("relation classifier, fixed evaluation set (whole articles, never trained on):\n"
            + format_scores(rel_card["metrics"]["eval_set"]["all"]))

    card = {"name": name, "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "sentence": sent_card, "relation": rel_card, "versions": versions()}
    objects = {"sentence": sent_pipe, "relation": rel_model.to_save()}
    if sparse_pipe is not None:
        objects["sentence_sparse"] = sparse_pipe

    # 4. the table-row classifier, on top of the sentence classifier
    if table_paths:
        from pipeline.tables.model import read_table_rows
        from pipeline.tables.training import fit_table

        rows = read_table_rows(table_paths)
        table_pipe, table_card = fit_table(rows, sentence.predict, sentence.lexicon, seed=seed, cross_source=cross_source,
                                           folds=folds, say=say)
        table_card["data"]["files"] = _files(table_paths, rows["_file"].value_counts().to_dict())
        card["table"] = table_card
        objects["table"] = table_pipe
    return TrainResult(objects, card, sentence, rel_model)


def cross_source_relations(df, pairs, nlp, rules, lexicon, sent_info: dict, C: float, *, seed: int, folds: int,
                           say, min_sentences: int = 40, cv_groups: str = "article") -> dict:
    """Leave one news source out of **both** classifiers' training data (annotated and
    pair-derived sentences, pair items) and score the system on that source's annotated
    pair sentences."""
    out = {}
    classes = np.array(sorted(sent_info["class_offsets"]))
    offsets = np.array([sent_info["class_offsets"][c] for c in classes])
    for src in sorted({p.source for p in pairs}):
        test_idx = [i for i, p in enumerate(pairs) if p.source == src]
        if len(test_idx) < min_sentences or not src:
            continue
        train_idx = [i for i, p in enumerate(pairs) if p.source != src]
        base = df[df["source"] != src]
        preds = crossfit_predictions(base, pairs, train_idx, lexicon, sent_info["C"], offsets, classes, seed=seed)
        full = SentenceModel(_fit_fixed(pd.concat([base[["text", "stance", "article_id"]],
                                                   sentence_labels(pairs, train_idx)[["text", "stance", "article_id"]]],
                                                  ignore_index=True), lexicon, sent_info["C"], offsets, classes, seed))
        preds.update({int(i): p for i, p in zip(test_idx, full.predict([pairs[i].text for i in test_idx]))})
        F = featurize(pairs, nlp, rules, None, full.lexicon, predictions=[preds[i] for i in range(len(pairs))])
        model, _ = fit_relation(F, F.rows(train_idx), seed=seed, c_grid=(C,), folds=folds, cv_groups=cv_groups)
        out[src] = evaluate(F, model, test_idx)
        say(f"left out {src}: (pair, stance) F1 {out[src]['model']['triple']['f1']:.3f} "
            f"(baselines {out[src]['baseline_sentence_stance_context_pairs']['triple']['f1']:.3f}, "
            f"{out[src]['baseline_explicit_pairs_sentence_stance']['triple']['f1']:.3f})")
    if out:
        out["mean"] = {k: round(float(np.mean([v[k]["triple"]["f1"] for v in out.values()])), 4)
                       for k in next(iter(out.values()))}
    return out


def card_markdown(card: dict) -> str:
    """The card for people: data, metrics next to baselines, settings, versions."""
    from pipeline.stance.evaluate import format_table

    s, r = card["sentence"], card["relation"]
    held = r["metrics"]["heldout"]
    lines = [
        f"# Model card: {card.get('model_id', card['name'])}", "",
        f"Created {card['created']}. Files and SHA-256: `{json.dumps(card.get('files', {}))}`.", "",
        "## Relation classifier (records.csv)", "",
        f"Task: {r['task']}. {r['data']['sentences']} annotated sentences, {r['data']['items']} (sentence, pair) items "
        f"from {len(r['data']['sources'])} sources; {r['data']['train_sentences']} sentences for training, "
        f"{r['data']['heldout_sentences']} held out ({r['settings']['split']}). C = {r['settings']['C']}, class offsets "
        f"{r['settings']['class_offsets']}.", "",
        "Held-out sentences, the system (candidates + classifier) next to the two baselines:", "",
        "```", format_scores(held), "```", "",
    ]
    if r["metrics"].get("cross_source"):
        lines += ["Leave one source out (both classifiers retrained without it), (pair, stance) F1:", "",
                  "| source | model | every pair + context | explicit + sentence stance |", "|---|---:|---:|---:|"]
        for src, v in r["metrics"]["cross_source"].items():
            if src == "mean":
                continue
            lines.append(f"| {src} | {v['model']['triple']['f1']:.3f} | "
                         f"{v['baseline_sentence_stance_context_pairs']['triple']['f1']:.3f} | "
                         f"{v['baseline_explicit_pairs_sentence_stance']['triple']['f1']:.3f} |")
        m = r["metrics"]["cross_source"]["mean"]
        lines += [f"| **mean** | **{m['model']:.3f}** | {m['baseline_sentence_stance_context_pairs']:.3f} | "
                  f"{m['baseline_explicit_pairs_sentence_stance']:.3f} |", ""]
    if r["metrics"].get("eval_set"):
        lines += ["Fixed evaluation set (whole articles, never trained on):", "", "```",
                  format_scores(r["metrics"]["eval_set"]["all"]), "```", ""]
    lines += [
        "## Sentence classifier (sentences.csv, and three features of the relation classifier)", "",
        f"{s['data']['rows']} annotated sentences; {s['data']['train_rows']} for training, {s['data']['heldout_rows']} held out "
        f"({s['settings']['split']}). Cross-validated macro-F1 {s['metrics']['cross_validated']['best']['macro_f1']:.3f} "
        f"(C = {s['settings']['C']}), {s['metrics']['cross_validated']['with_offsets']['macro_f1']:.3f} with the class offsets "
        f"{s['settings']['class_offsets']}.", "",
        "Held-out sentences, model next to the baselines:", "", "```", format_table(s["metrics"]["heldout"]), "```", "",
    ]
    if s["metrics"].get("cross_source"):
        lines += [f"Leave-one-source-out macro-F1: {s['metrics']['cross_source']}.", ""]
    if card.get("table"):
        from pipeline.tables.training import table_markdown

        lines += table_markdown(card["table"])
    lines += ["## Versions", "```json", json.dumps(card["versions"], indent=2), "```", ""]
    return "\n".join(lines)
