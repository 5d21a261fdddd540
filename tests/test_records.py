"""Records: main pair, canonical pair order, context pairs, topic summaries."""

from __future__ import annotations

from pipeline.contracts import Mention
from pipeline.records import main_pair, net_stance, sentence_pairs, summarise_topics


def _m(code, start):
    return Mention("actor", code, start, start + 1, code)


def test_main_pair_is_two_most_mentioned_sorted():
    ms = [[_m("USA", 0), _m("RUS", 5)], [_m("RUS", 10)], [_m("CHN", 20)], [_m("USA", 30)], [_m("RUS", 40)]]
    assert main_pair(ms) == ("RUS", "USA")  # RUS 3 mentions, USA 2
    assert main_pair([[_m("USA", 0)]]) is None


def test_sentence_pairs_explicit_and_context():
    assert sentence_pairs(["USA", "RUS"], None) == [("RUS", "USA", "explicit")]
    assert sentence_pairs(["USA", "RUS", "UKR"], None) == [("RUS", "USA", "explicit"), ("UKR", "USA", "explicit"), ("RUS", "UKR", "explicit")]
    assert sentence_pairs([], ("RUS", "USA")) == [("RUS", "USA", "context")]
    assert sentence_pairs(["USA"], ("RUS", "USA")) == [("RUS", "USA", "context")]
    assert sentence_pairs(["CHN"], ("RUS", "USA")) == [("CHN", "RUS", "context")]
    assert sentence_pairs(["USA"], None) == []


def test_topic_summary_counts_and_evidence():
    base = {"article_id": "a", "actor_a": "RUS", "actor_b": "USA", "topic": "arms_control"}
    recs = [
        {**base, "sentence_id": 1, "stance": "convergence", "score": 0.8, "evidence": "They agreed."},
        {**base, "sentence_id": 2, "stance": "divergence", "score": -0.6, "evidence": "They clashed."},
        {**base, "sentence_id": 3, "stance": "convergence", "score": 0.5, "evidence": "Russia said it welcomes it."},
    ]
    (row,) = summarise_topics(recs, {3: "RUS"})
    assert (row["n_convergence"], row["n_divergence"], row["n_neutral"]) == (2, 1, 0)
    assert row["convergence_evidence"] == "They agreed." and row["divergence_sentence_id"] == 2
    assert row["net_stance"] == "convergence" and abs(row["mean_score"] - 0.7 / 3) < 1e-6
    assert row["position_a"] == "Russia said it welcomes it." and row["position_b"] == ""


def test_net_stance_band():
    assert net_stance(0.1, 0.15) == "neutral" and net_stance(-0.2, 0.15) == "divergence"


def test_third_actor_pairs_with_the_most_mentioned_actor():
    ms = [[_m("USA", i)] for i in range(5)] + [[_m("RUS", 10)], [_m("RUS", 11)]]
    ctx = main_pair(ms)
    assert ctx == ("USA", "RUS")  # most-mentioned first
    assert sentence_pairs(["CHN"], ctx) == [("CHN", "USA", "context")]
    assert sentence_pairs([], ctx) == [("RUS", "USA", "context")]
