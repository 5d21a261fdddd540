"""`stance train --compare`: both models on one fixed yardstick, with paired bootstrap
intervals by article (pipeline/modelling/compare.py, pipeline/cli/train.py)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MODEL, ROOT
from pipeline.modelling.compare import cluster_resamples, f1_from_counts_stat, macro_f1_stat, paired_bootstrap


def test_resamples_draw_whole_articles():
    groups = ["a", "a", "a", "b", "c", "c"]
    for idx in cluster_resamples(groups, 50, seed=1):
        drawn = [groups[i] for i in idx]
        for g in set(drawn):  # an article comes with all its items, k times
            assert drawn.count(g) % groups.count(g) == 0


def test_intervals_for_equal_better_and_noisy_models():
    rng = np.random.default_rng(0)
    labs = ["convergence", "divergence", "neutral"]
    y = list(rng.choice(labs, 600))
    groups = [f"art{i // 6}" for i in range(600)]
    noisy = [t if rng.random() < 0.6 else rng.choice(labs) for t in y]
    better = [t if rng.random() < 0.9 else rng.choice(labs) for t in y]
    same = paired_bootstrap(macro_f1_stat(y, {"new": noisy, "previous": noisy}), groups, n=300)
    assert same["difference"].estimate == same["difference"].low == same["difference"].high == 0
    res = paired_bootstrap(macro_f1_stat(y, {"new": better, "previous": noisy}), groups, n=300)
    assert res["new"].low <= res["new"].estimate <= res["new"].high
    assert res["difference"].low > 0.1  # clearly better: the interval excludes 0
    from sklearn.metrics import f1_score

    assert res["new"].estimate == pytest.approx(f1_score(y, better, average="macro"))
    again = paired_bootstrap(macro_f1_stat(y, {"new": better, "previous": noisy}), groups, n=300)
    assert again == res  # seeded


def test_counts_stat_is_the_micro_f1():
    counts = {"new": np.array([[1, 2, 1], [0, 1, 2], [2, 2, 2]], float), "previous": np.zeros((3, 3))}
    stat = f1_from_counts_stat(counts)
    assert stat(np.arange(3), "new") == pytest.approx(2 * 3 / (5 + 5))
    assert stat(np.arange(3), "previous") == 0.0


def test_compare_with_previous_on_the_fixed_set(tiny_model):
    from pipeline.cli.train import compare_with_previous, fixed_sentences
    from pipeline.relations.training import read_pairs

    _, _, sentences, pair_file, result = tiny_model
    ev_path = ROOT / "corpus/eval/relations_articles.csv"
    cmp = compare_with_previous(result, MODEL, [str(sentences)], [str(pair_file)], 3, [str(ev_path)])
    fixed = fixed_sentences(read_pairs([str(ev_path)]))
    assert cmp["sentence_eval_set"]["n"] == len(fixed) > 100
    for key in ("sentence_eval_set", "relation_eval_set"):
        iv = cmp[key]["intervals"]
        for w in ("new", "previous", "difference"):
            assert iv[w]["low"] <= iv[w]["estimate"] <= iv[w]["high"], (key, w, iv[w])
        assert iv["difference"]["estimate"] == pytest.approx(iv["new"]["estimate"] - iv["previous"]["estimate"], abs=1e-3)
    # the yardstick is the same whatever the training data: the default model's eval-set
    # triple F1 is its card's
    import json

    card = json.loads((MODEL / "card.json").read_text())
    assert cmp["relation_eval_set"]["previous"]["triple"]["f1"] == card["relation"]["metrics"]["eval_set"]["all"]["model"]["triple"]["f1"]
    assert cmp["relation_eval_set"]["intervals"]["previous"]["estimate"] == pytest.approx(
        cmp["relation_eval_set"]["previous"]["triple"]["f1"], abs=1e-4)


def test_compare_scores_the_new_models_own_held_out_articles(tiny_model):
    """The held-out comparison uses the articles the new model's card lists as held out,
    not a fresh split of the files (training first sets the evaluation set's articles
    aside, so a fresh split would hold out other articles, some of them trained on)."""
    import copy
    import json
    from types import SimpleNamespace

    from pipeline.cli.train import compare_with_previous
    from pipeline.relations.training import read_pairs

    _, _, sentences, pair_file, result = tiny_model
    pairs = read_pairs([str(pair_file)])
    seen = set(json.loads((MODEL / "card.json").read_text())["relation"]["data"]["train_article_ids"])
    chosen = sorted({p.article_id for p in pairs} - seen)[:6]
    assert chosen
    card = copy.deepcopy(result.card)
    card["relation"]["data"]["heldout_article_ids"] = chosen
    card["sentence"]["data"]["heldout_article_ids"] = []
    fake = SimpleNamespace(card=card, sentence=result.sentence, relation=result.relation)
    cmp = compare_with_previous(fake, MODEL, [str(sentences)], [str(pair_file)], 3, [])
    assert cmp["relation_heldout"]["sentences"] == sum(p.article_id in set(chosen) for p in pairs)
    assert "sentence" not in cmp  # no held-out sentence article: no sentence comparison


def test_annotation_files_are_told_apart_by_their_columns():
    from pipeline.cli.train import annotation_kind

    kinds = {p.name: annotation_kind(p) for p in (ROOT / "corpus/annotations").glob("*.csv")}
    assert kinds == {"agreement.csv": "agreement", "news_sentences.csv": "sentences", "pairs.csv": "pairs",
                     "pairs_agreement.csv": "agreement", "pairs_wave3.csv": "pairs", "seed.csv": "sentences",
                     "table_rows.csv": "tables"}


@pytest.mark.slow
def test_train_from_a_glob_compares_on_the_fixed_set_and_keeps_the_better(tiny_model, tmp_path):
    """The README's retraining command: files of every kind on one command line (the
    doubly annotated one is skipped), the comparison with intervals, --keep-better."""
    import json
    import shutil

    from conftest import run_cli

    _, _, sentences, pair_file, _ = tiny_model
    data = tmp_path / "ann"
    data.mkdir()
    for p in (sentences, pair_file, ROOT / "corpus/annotations/agreement.csv", ROOT / "corpus/annotations/table_rows.csv"):
        shutil.copy(p, data / p.name)
    old = tmp_path / "models" / "default"
    shutil.copytree(MODEL, old)
    proc = run_cli("train", *sorted(str(p) for p in data.glob("*.csv")), "-o", str(tmp_path / "models" / "cand"),
                   "--compare", str(old), "--keep-better")
    err = proc.stderr
    assert "agreement.csv: doubly annotated" in err
    assert "relation (sentence, pair, stance) F1, fixed evaluation set (554 sentences; 95% bootstrap interval by article)" in err
    assert "difference" in err
    card = json.loads((tmp_path / "models" / "cand" / "card.json").read_text())
    cmpd = card["compared_with_previous"]
    assert cmpd["relation_eval_set"]["intervals"]["difference"]["low"] <= cmpd["relation_eval_set"]["intervals"]["difference"]["high"]
    new, prev = cmpd["relation_eval_set"]["new"], cmpd["relation_eval_set"]["previous"]
    kept = json.loads((old / "card.json").read_text())["model_id"]
    if new >= prev:  # a model trained on a few hundred items is not expected to win, but the rule decides
        assert kept == card["model_id"] and (tmp_path / "models" / "default.previous").is_dir()
    else:
        assert "kept the previous model" in err and kept != card["model_id"]
