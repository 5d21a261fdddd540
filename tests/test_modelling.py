"""The model folder: hashes, the id derived from them, refusing what cannot be trusted."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.models import ModelError, load_model


@pytest.fixture
def copy(tiny_model, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_model[0], folder)
    return folder


def test_loading_refuses_foreign_types(copy):
    import skops.io as sio

    from pipeline.modelling.folder import sha256_file

    class Evil:  # a type no model should contain
        pass

    sio.dump({"x": Evil()}, copy / "relation.skops")
    card = json.loads((copy / "card.json").read_text())
    card["files"]["relation.skops"] = sha256_file(copy / "relation.skops")  # a consistent, but foreign, folder
    (copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="untrusted"):
        load_model(copy)


def test_loading_refuses_tampered_file(copy):
    with open(copy / "sentence.skops", "ab") as fh:
        fh.write(b"junk")
    with pytest.raises(ModelError, match="tampered"):
        load_model(copy)


def test_model_id_comes_from_the_files_not_the_card(copy, tiny_model):
    card = json.loads((copy / "card.json").read_text())
    card["model_id"] = "genuine-0000000000"
    (copy / "card.json").write_text(json.dumps(card))
    assert load_model(copy).model_id == tiny_model[1]


@pytest.mark.parametrize("card", ["[]", '{"model_file": null}', '{"files": {}}', "{not json",
                                  '{"files": {"sentence.skops": "abc", "relation.skops": "def"}}'])
def test_cards_without_hashes_or_malformed_are_refused(copy, card):
    (copy / "card.json").write_text(card)
    with pytest.raises(ModelError):
        load_model(copy)


def test_missing_folder_and_missing_file(tmp_path, copy):
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(tmp_path / "nothing")
    (copy / "relation.skops").unlink()
    with pytest.raises(ModelError, match="no relation.skops"):
        load_model(copy)


def test_the_evaluation_set_is_never_trained_on():
    """Before: 39 sentences of 13 of the evaluation set's 23 articles were also in
    news_sentences.csv, so the sentence classifier had seen them. Training now leaves
    them out, and the shipped model's card shows it."""
    import pandas as pd

    from conftest import MODEL, ROOT

    ev = pd.read_csv(ROOT / "corpus/eval/relations_articles.csv", dtype=str, keep_default_na=False)
    ids = set(ev["article_id"])
    card = json.loads((MODEL / "card.json").read_text())
    for clf in ("sentence", "relation"):
        data = card[clf]["data"]
        assert not ids & set(data["train_article_ids"]), clf
        assert not ids & set(data.get("heldout_article_ids", [])), clf
        assert data["excluded_eval_set"]["articles"] == len(ids)
    assert card["sentence"]["data"]["excluded_eval_set"]["sentences"] > 0


def test_without_eval_set_drops_by_article_and_by_text(tmp_path):
    import pandas as pd

    from pipeline.relations.training import read_pairs
    from pipeline.training import without_eval_set

    ev = tmp_path / "ev.csv"
    pd.DataFrame({"uid": ["e1"], "text": ["Moscow and  Washington agreed."], "article_id": ["E"], "pair": ["RUS-USA"],
                  "label": ["convergence"]}).to_csv(ev, index=False)
    df = pd.DataFrame({"text": ["moscow and washington agreed.", "Other text.", "Third."], "stance": ["convergence"] * 3,
                       "article_id": ["X", "E", "Y"]})
    pairs_file = tmp_path / "p.csv"
    pd.DataFrame({"uid": ["a", "b"], "text": ["Kept.", "Dropped."], "article_id": ["Y", "E"], "pair": ["RUS-USA"] * 2,
                  "label": ["none"] * 2}).to_csv(pairs_file, index=False)
    kept, pairs, n = without_eval_set(df, read_pairs([pairs_file]), [ev])
    assert kept["text"].tolist() == ["Third."] and [p.uid for p in pairs] == ["a"]
    assert n == {"articles": 1, "sentences": 2, "pair_sentences": 1}


def test_offsets_for_the_f1_of_the_labels_that_yield_records():
    """With ``abstain`` the offsets maximise the micro-F1 of the other labels (the relation
    classifier's (pair, stance) F1, ``none`` yielding no record), as sklearn computes it."""
    import numpy as np
    from sklearn.metrics import f1_score

    from pipeline.modelling.training import _related_f1, tune_offsets

    rng = np.random.default_rng(0)
    classes = np.array(["convergence", "divergence", "neutral", "none"])
    y = rng.choice(classes, size=600, p=[0.15, 0.15, 0.1, 0.6])
    proba = rng.dirichlet(np.ones(4), size=600)
    for i, lab in enumerate(y):  # informative but noisy probabilities
        proba[i, list(classes).index(lab)] += rng.uniform(0, 0.8)
    proba /= proba.sum(1, keepdims=True)
    idx = {c: i for i, c in enumerate(classes)}
    y_idx = np.array([idx[v] for v in y])

    def related(off):
        pred = np.argmax(np.log(proba) + off, axis=1)
        mine = _related_f1(y_idx, pred, 4, np.arange(4), abstain=3)
        ref = f1_score(y, classes[pred], labels=["convergence", "divergence", "neutral"], average="micro")
        assert abs(mine - ref) < 1e-9
        return mine

    tuned = tune_offsets(proba, y, classes, list(classes), abstain="none")
    macro = tune_offsets(proba, y, classes, list(classes))
    assert related(tuned) >= related(np.zeros(4)) and related(tuned) >= related(macro)
    assert not np.array_equal(tuned, macro)  # a different objective, a different optimum here
