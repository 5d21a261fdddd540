"""Stance: lexicon negation and scope; training both classifiers -> save -> load -> predict;
determinism; honest metrics in the card."""

from __future__ import annotations

import json

import pytest

from pipeline.labels import CONVERGENCE, DIVERGENCE, LABELS, NEUTRAL, RELATION_LABELS
from pipeline.stance.lexicon import Lexicon
from pipeline.stance.model import load_lexicon

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


def test_round_trip_and_card(tiny_model):
    from pipeline.models import load_model

    folder, model_id, _, _, _ = tiny_model
    m = load_model(folder)
    assert m.model_id == model_id and model_id.startswith("tiny-")
    preds = m.predict(["Washington imposed new sanctions on Moscow.", "The two countries agreed to cooperate closely."])
    for p in preds:
        assert p.stance in LABELS
        assert abs(p.p_convergence + p.p_divergence + p.p_neutral - 1) < 1e-6
        assert -1 <= p.score <= 1
    assert set(m.relation.relation.classes_) == set(RELATION_LABELS)
    card = json.loads((folder / "card.json").read_text())
    s, r = card["sentence"], card["relation"]
    assert s["data"]["heldout_rows"] > 0 and s["data"]["train_rows"] > s["data"]["heldout_rows"]
    assert not set(s["data"]["heldout_article_ids"]) & set(s["data"]["train_article_ids"])
    assert {"model", "majority", "lexicon"} <= set(s["metrics"]["heldout"])
    assert not set(r["data"]["heldout_article_ids"]) & set(r["data"]["train_article_ids"])
    held = r["metrics"]["heldout"]
    assert set(held) == {"model", "baseline_sentence_stance_context_pairs", "baseline_explicit_pairs_sentence_stance"}
    for res in held.values():
        for k in ("pair", "triple"):
            assert 0 <= res[k]["precision"] <= 1 and 0 <= res[k]["recall"] <= 1 and 0 <= res[k]["f1"] <= 1
    assert set(card["files"]) == {"sentence.skops", "relation.skops"}
    assert (folder / "card.md").read_text().startswith("# Model card")


def test_training_is_deterministic(tiny_model):
    from pipeline.models import load_model
    from pipeline.training import train

    folder, _, sentences, pairs, result = tiny_model
    again = train([str(sentences)], [str(pairs)], name="tiny", seed=3, c_grid=(1.0,), pair_c_grid=(0.5,), folds=3)
    texts = ["Russia accused the United States of meddling.", "Talks were held.", "Both sides welcomed the deal."]
    a = load_model(folder).pipeline.predict_proba(texts)
    b = again.objects["sentence"].predict_proba(texts)
    assert (a == b).all()
    assert again.card["relation"]["metrics"]["heldout"] == result.card["relation"]["metrics"]["heldout"]


def test_pair_scores_against_hand_computed_counts():
    """The system scores count pairs, not candidates: a missed annotated pair is a miss even
    when no candidate proposed it; a pair the system outputs that nobody annotated is a false
    positive."""
    import numpy as np
    import pandas as pd

    from pipeline.relations.features import ArticleContext
    from pipeline.relations.training import Featurized, PairSentence, score

    s1 = PairSentence("u1", "x", "src", "a1", "paragraph", ArticleContext(None, {}),
                      {"RUS-USA": ("divergence", ""), "GBR-USA": ("none", ""), "GBR-RUS": ("divergence", "")})
    s2 = PairSentence("u2", "y", "src", "a2", "paragraph", ArticleContext(None, {}), {"CHN-USA": ("convergence", "")})
    F = Featurized([s1, s2], pd.DataFrame(), [], np.array([]), [], [], [], [[], []])
    out = {0: {"RUS-USA": ("divergence", ""), "GBR-USA": ("divergence", "")}, 1: {"CHN-USA": ("neutral", "")}}
    res = score(F, out)
    # 3 predicted, 3 gold; pairs found 2 (RUS-USA, CHN-USA); stances right 1 (RUS-USA)
    assert res["pair"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667}
    assert res["triple"] == {"precision": 0.3333, "recall": 0.3333, "f1": 0.3333}
    assert res["stance_on_found"]["n"] == 2


def test_cross_source_metrics_leave_each_source_out(tiny_model):
    from pipeline.stance.model import cross_source_metrics, read_annotations

    _, _, data, _, _ = tiny_model
    df = read_annotations([str(data)])
    res = cross_source_metrics(df, load_lexicon(), C=1.0, seed=3, min_rows=20)
    big = {s for s, n in df["source"].value_counts().items() if n >= 20}
    assert set(res) == big | {"mean"}
    assert all(0 <= v <= 1 for v in res.values())
