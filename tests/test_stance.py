"""Stance: lexicon negation and scope, train -> save -> load -> classify round trip,
determinism, skops refusing foreign objects and tampered files."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.labels import CONVERGENCE, DIVERGENCE, LABELS, NEUTRAL
from pipeline.stance.lexicon import Lexicon
from pipeline.stance.model import ModelError, load_lexicon, load_model, save_model, train

LEX = Lexicon(
    {"reject": (DIVERGENCE, 0.4), "rejected": (DIVERGENCE, 0.4), "cooperate": (CONVERGENCE, 0.3),
     "sanctions": (DIVERGENCE, 0.5), "agreed": (CONVERGENCE, 0.5), "cold war": (DIVERGENCE, 0.5)},
    ["not", "no longer", "failed to", "n't", "never"],
)


@pytest.mark.parametrize(
    "text,vote,negated",
    [
        ("The Kremlin did not reject the proposal.", CONVERGENCE, True),
        ("Moscow didn't reject it.", CONVERGENCE, True),
        ("They will no longer cooperate.", DIVERGENCE, True),
        ("The Kremlin rejected the proposal.", DIVERGENCE, False),
        ("The talks were held in Geneva.", NEUTRAL, False),
        ("Despite sanctions, they agreed to talk.", CONVERGENCE, False),
        ("A new cold war looms.", DIVERGENCE, False),
    ],
)
def test_lexicon_negation_and_main_clause(text, vote, negated):
    assert LEX.vote(text) == vote
    assert any(c.negated for c in LEX.match(text)) is negated


def test_negation_scope_stops_at_punctuation():
    (cue,) = LEX.match("It was not over, they rejected it.")
    assert cue.phrase == "rejected" and not cue.negated


def test_project_lexicon_is_built_from_cameo(settings):
    lex = load_lexicon(settings)
    assert len(lex.cues) > 1000
    assert lex.cues["accused"][0] == DIVERGENCE
    assert lex.cues["cooperate"][0] == CONVERGENCE
    assert lex.cues["sanctions"][0] == DIVERGENCE


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A model trained on a small, balanced sample of the bundled annotations."""
    import pandas as pd

    from conftest import ROOT

    df = pd.read_csv(ROOT / "corpus/annotations/news_sentences.csv", dtype=str, keep_default_na=False)
    sample = pd.concat([g.sample(min(len(g), 90), random_state=1) for _, g in df.groupby("stance")])
    path = tmp_path_factory.mktemp("data") / "small.csv"
    sample.to_csv(path, index=False)
    folder = tmp_path_factory.mktemp("models") / "tiny"
    result = train([str(path)], name="tiny", seed=3, c_grid=(1.0,), folds=3)
    model_id = save_model(result, folder)
    return folder, model_id, path


def test_round_trip_and_card(tiny_model):
    folder, model_id, _ = tiny_model
    m = load_model(folder)
    assert m.model_id == model_id
    preds = m.predict(["Washington imposed new sanctions on Moscow.", "The two countries agreed to cooperate closely."])
    for p in preds:
        assert p.stance in LABELS
        assert abs(p.p_convergence + p.p_divergence + p.p_neutral - 1) < 1e-6
        assert -1 <= p.score <= 1
    card = json.loads((folder / "card.json").read_text())
    assert card["data"]["heldout_rows"] > 0 and card["data"]["train_rows"] > card["data"]["heldout_rows"]
    assert not set(card["data"]["heldout_article_ids"]) & set(card["data"]["train_article_ids"])
    held = card["metrics"]["heldout"]
    assert {"model", "majority", "lexicon"} <= set(held)
    assert (folder / "card.md").read_text().startswith("# Model card")


def test_training_is_deterministic(tiny_model, tmp_path):
    folder, _, data = tiny_model
    again = train([str(data)], name="tiny", seed=3, c_grid=(1.0,), folds=3)
    texts = ["Russia accused the United States of meddling.", "Talks were held.", "Both sides welcomed the deal."]
    a = load_model(folder).pipeline.predict_proba(texts)
    b = again.model.predict_proba(texts)
    assert (a == b).all()


def test_loading_refuses_foreign_types(tiny_model, tmp_path):
    import skops.io as sio

    folder, _, _ = tiny_model
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)

    class Evil:  # a type no model should contain
        pass

    sio.dump({"x": Evil()}, bad / "model.skops")
    card = json.loads((bad / "card.json").read_text())
    from pipeline.stance.model import sha256_file

    card["model_file"]["sha256"] = sha256_file(bad / "model.skops")  # a consistent, but foreign, folder
    (bad / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="untrusted"):
        load_model(bad)


def test_loading_refuses_tampered_file(tiny_model, tmp_path):
    folder, _, _ = tiny_model
    bad = tmp_path / "tampered"
    shutil.copytree(folder, bad)
    with open(bad / "model.skops", "ab") as fh:
        fh.write(b"junk")
    with pytest.raises(ModelError, match="tampered"):
        load_model(bad)


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelError, match="no model.skops"):
        load_model(tmp_path)


def test_cross_source_metrics_leave_each_source_out(tiny_model):
    import pandas as pd

    from pipeline.stance.model import cross_source_metrics, read_annotations

    _, _, data = tiny_model
    df = read_annotations([str(data)])
    res = cross_source_metrics(df, load_lexicon(), C=1.0, seed=3, min_rows=20)
    big = {s for s, n in df["source"].value_counts().items() if n >= 20}
    assert set(res) == big | {"mean"}
    assert all(0 <= v <= 1 for v in res.values())
