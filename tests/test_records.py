"""Records: relation decisions to records, per-pair and per-topic summaries, the net-stance
rule, PLOVER events."""

from __future__ import annotations

import pytest

from pipeline.contracts import Article, Candidate, Mention, Prediction, RelationDecision, Sentence
from pipeline.records import build_records, net_stance, plover_events, summarise_relations, summarise_topics
from pipeline.relations.features import ArticleContext
from pipeline.relations.stage import ArticleRelations, main_pair


def _m(code, start):
    return Mention("actor", code, start, start + 1, code)


def test_main_pair_is_two_most_mentioned():
    ms = [[_m("USA", 0), _m("RUS", 5)], [_m("RUS", 10)], [_m("CHN", 20)], [_m("USA", 30)], [_m("RUS", 40)]]
    assert main_pair(ms) == ("RUS", "USA")  # RUS 3 mentions, USA 2
    assert main_pair([[_m("USA", 0)]]) is None
    assert main_pair([[_m("USA", 0), _m("RUS", 1)]], min_mentions=2) is None


def _rec(sid, stance, score, a="RUS", b="USA", topic="arms_control", src=""):
    return {"article_id": "a", "sentence_id": sid, "actor_a": a, "actor_b": b, "topic": topic, "stance": stance,
            "score": score, "evidence": f"sentence {sid}", "source_actor": src, "target_actor": (b if src == a else a) if src else "",
            "cues": "", "model_id": "m", "p_none": 0.1}


def test_net_stance_never_contradicts_its_counts():
    assert net_stance(2, 1, 0.3, 0.15) == "convergence"
    assert net_stance(1, 2, -0.3, 0.15) == "divergence"
    assert net_stance(0, 0, -0.5, 0.15) == "neutral"  # neutral records with a negative mean: no divergence record
    assert net_stance(2, 2, -0.4, 0.15) == "neutral"  # as many each way
    assert net_stance(3, 1, 0.1, 0.15) == "neutral"  # within the band


def test_relations_and_topics_summaries():
    art = Article("a", "p", "t", (), date="2020-01-02")
    recs = [_rec(1, "convergence", 0.8, src="USA"), _rec(2, "divergence", -0.6), _rec(3, "convergence", 0.5),
            _rec(3, "convergence", 0.5, topic="trade")]  # sentence 3 has two topics: one claim
    (rel,) = summarise_relations(recs, art)
    assert (rel["n_sentences"], rel["n_convergence"], rel["n_divergence"], rel["n_neutral"]) == (3, 2, 1, 0)
    assert rel["net_stance"] == "convergence" and rel["date"] == "2020-01-02"
    assert rel["convergence_sentence_id"] == 1 and rel["divergence_sentence_id"] == 2
    assert rel["n_b_to_a"] == 1 and rel["n_a_to_b"] == 0 and rel["topics"] == "arms_control;trade"
    rows = {r["topic"]: r for r in summarise_topics(recs, {3: "RUS"})}
    assert rows["arms_control"]["n_sentences"] == 3 and rows["trade"]["n_sentences"] == 1
    assert rows["arms_control"]["position_a"] == "sentence 3" and rows["arms_control"]["position_b"] == ""
    neutral_only = [_rec(1, "neutral", -0.4), _rec(2, "neutral", -0.3)]
    (row,) = summarise_relations(neutral_only, art)
    assert row["net_stance"] == "neutral" and row["divergence_evidence"] == "" and row["divergence_sentence_id"] is None


def test_build_records_only_for_related_pairs():
    s = Sentence("a", 0, "paragraph", "Sec", 0, 40, "The US and the UK expelled Russian envoys.")
    ms = [Mention("actor", "USA", 4, 6, "US"), Mention("actor", "GBR", 15, 17, "UK"), Mention("actor", "RUS", 27, 34, "Russian"),
          Mention("topic", "diplomacy", 35, 41, "envoys")]
    cands = [Candidate(0, "GBR", "USA", "explicit"), Candidate(0, "RUS", "USA", "explicit"), Candidate(0, "GBR", "RUS", "explicit")]
    dec = [RelationDecision("none", 0.9, 0.05, 0.03, 0.02), RelationDecision("divergence", 0.1, 0.05, 0.8, 0.05, "USA", "RUS"),
           RelationDecision("divergence", 0.2, 0.1, 0.6, 0.1)]
    rel = ArticleRelations([ms[:3]], [[]], ArticleContext(None, {}), [cands], [dec])
    rows = build_records([s], [ms], [Prediction("divergence", 0.1, 0.8, 0.1)], rel, model_id="m")
    assert [(r["actor_a"], r["actor_b"]) for r in rows] == [("RUS", "USA"), ("GBR", "RUS")]
    r = rows[0]
    assert r["source_actor"] == "USA" and r["target_actor"] == "RUS" and r["topic"] == "diplomacy"
    assert r["score"] == pytest.approx((0.05 - 0.8) / 0.9, abs=1e-6) and r["p_none"] == 0.1
    assert rows[1]["source_actor"] == "" and rows[1]["stance"] == "divergence"


def test_plover_events_are_one_per_sentence_and_pair_with_stable_ids():
    recs = [_rec(1, "divergence", -0.6, src="RUS"), _rec(1, "divergence", -0.6, src="RUS", topic="trade"), _rec(2, "convergence", 0.7)]
    for r in recs:
        r["cues"] = "sanctions(-)"
    ev = plover_events(recs, {"a": {"date": "2020-01-02", "url": "http://x"}}, coded_date="2026-12-01")
    assert len(ev) == 2 and len({e["id"] for e in ev}) == 2
    assert ev == plover_events(recs, {"a": {"date": "2020-01-02", "url": "http://x"}}, coded_date="2026-12-01")
    first = ev[0]
    assert (first["actor"], first["recipient"], first["symmetric"]) == ("RUS", "USA", False)
    assert first["context"] == ["arms_control", "trade"] and first["quad_code"] == 3 and first["event_text"] == "sanctions(-)"
    assert ev[1]["symmetric"] and ev[1]["quad_code"] == 1 and ev[1]["date"] == "2020-01-02"
    for key in ("id", "date", "actor", "recipient", "event_text", "quad_code", "context", "text", "coder", "coded_date",
                "stance", "score"):
        assert key in first
