"""The check: a reason for every verdict, the topic's scope in the prose, headings never evidence."""

from __future__ import annotations

from pipeline.checking import check_rows, summary, topical_sentences
from pipeline.contracts import Mention, Sentence
from pipeline.labels import CHECK_REASONS


def _row(topic="trade", stance="divergence", **kw):
    return {"article_id": "a", "table_index": 0, "row_index": 0, "topic_cell": "Trade", "topic": topic,
            "actor_a": "RUS", "actor_b": "USA", "stance": stance, **kw}


def _rec(sid, stance, score, topic="trade", kind="paragraph", pair=("RUS", "USA")):
    return {"article_id": "a", "sentence_id": sid, "actor_a": pair[0], "actor_b": pair[1], "topic": topic,
            "score": score, "stance": stance, "p_none": 0.1, "block_kind": kind, "evidence": ""}


def test_every_reason():
    cases = [
        (_row(topic=""), [], "missing", "unknown topic"),
        (_row(), [_rec(1, "divergence", -0.8, topic="energy")], "missing", "no prose on this topic for this pair"),
        (_row(), [_rec(1, "divergence", -0.8)], "agree", "prose and row agree"),
        (_row(), [_rec(1, "convergence", 0.8)], "disagree", "prose opposes row"),
        (_row(), [_rec(1, "convergence", 0.8), _rec(2, "divergence", -0.8)], "disagree", "prose mixed"),
    ]
    for row, recs, status, reason in cases:
        (c,) = check_rows([row], recs)
        assert (c["status"], c["reason"]) == (status, reason), (c, reason)
    assert set(r for *_, r in cases) == set(CHECK_REASONS)


def test_evidence_ids_and_summary_reasons():
    (c,) = check_rows([_row()], [_rec(4, "divergence", -0.7), _rec(2, "divergence", -0.5)])
    assert c["evidence_sentence_ids"] == "2;4" and c["n_divergence"] == 2
    s = summary([c])
    assert s["reasons"]["prose and row agree"] == 1 and s["agree"] == 1


def test_headings_and_table_rows_are_not_prose_evidence():
    recs = [_rec(1, "convergence", 0.9, kind="heading"), _rec(2, "convergence", 0.9, kind="table")]
    (c,) = check_rows([_row()], recs)
    assert c["status"] == "missing"


def _sent(i, kind, block, text):
    return Sentence("a", i, kind, "s", 0, len(text), text, block_index=block)


def test_topic_scope_previous_sentence_and_first_block_under_a_heading():
    sents = [_sent(0, "paragraph", 0, "Trade talks resumed."), _sent(1, "paragraph", 0, "Both sides welcomed it."),
             _sent(2, "paragraph", 1, "Unrelated news."), _sent(3, "heading", 2, "Trade"),
             _sent(4, "paragraph", 3, "Washington and Moscow agreed."), _sent(5, "paragraph", 4, "Later, other things.")]
    ment = [[Mention("topic", "trade", 0, 5, "Trade")], [], [], [Mention("topic", "trade", 0, 5, "Trade")], [], []]
    assert topical_sentences(sents, ment, "trade") == {0, 1, 4}
    (c,) = check_rows([_row(stance="convergence")], [_rec(1, "convergence", 0.8, topic="general"),
                                                    _rec(5, "divergence", -0.8, topic="general")],
                      sentences=sents, mentions=ment)
    assert c["status"] == "agree" and c["evidence_sentence_ids"] == "1"


def _srec(sid, stance, score, p_none=0.0):
    r = _rec(sid, stance, score, topic="general")
    r["p_none"] = p_none
    return r


def test_a_sentence_naming_several_topics_shares_its_claim_among_them():
    # a lead sentence naming trade and energy: half a claim on trade, against one whole
    # divergent claim that names trade alone
    sents = [_sent(0, "paragraph", 0, "Thaw on trade and energy."), _sent(1, "paragraph", 1, "Trade war.")]
    ment = [[Mention("topic", "trade", 9, 14, "trade"), Mention("topic", "energy", 19, 25, "energy")],
            [Mention("topic", "trade", 0, 5, "Trade")]]
    recs = [_srec(0, "convergence", 0.7), _srec(1, "divergence", -0.5)]
    (c,) = check_rows([_row()], recs, sentences=sents, mentions=ment)
    # without sharing the mean would be (0.7 - 0.5) / 2 = +0.1; shared: (0.35 - 0.5) / 1.5
    assert abs(c["prose_mean_score"] - (0.35 - 0.5) / 1.5) < 1e-6 and c["prose_stance"] == "neutral"


def test_a_sentence_in_scope_only_counts_half():
    sents = [_sent(0, "paragraph", 0, "Trade talks collapsed."), _sent(1, "paragraph", 0, "Both sides smiled.")]
    ment = [[Mention("topic", "trade", 0, 5, "Trade")], []]
    recs = [_srec(0, "divergence", -0.6), _srec(1, "convergence", 0.6)]
    (c,) = check_rows([_row()], recs, sentences=sents, mentions=ment)
    assert abs(c["prose_mean_score"] - (-0.6 + 0.3) / 1.5) < 1e-6 and c["prose_stance"] == "divergence"
    assert c["status"] == "agree"


def test_probability_mass_not_a_majority_of_counts():
    # one strong divergent claim and one weak convergent one: a tie of counts, but the mass
    # is divergent (mean -0.3): divergence, not "prose mixed"
    (c,) = check_rows([_row()], [_rec(1, "divergence", -0.9), _rec(2, "convergence", 0.3)])
    assert (c["prose_stance"], c["status"]) == ("divergence", "agree")
    # within the band it stays mixed
    (c,) = check_rows([_row()], [_rec(1, "divergence", -0.4), _rec(2, "convergence", 0.3)])
    assert (c["prose_stance"], c["reason"]) == ("neutral", "prose mixed")


def test_unanimous_claims_keep_their_direction_inside_the_band():
    (c,) = check_rows([_row()], [_rec(1, "divergence", -0.05)])
    assert (c["prose_stance"], c["status"]) == ("divergence", "agree")
    # a neutral claim next to it: no longer unanimous, the band decides
    (c,) = check_rows([_row()], [_rec(1, "divergence", -0.05), _rec(2, "neutral", 0.0)])
    assert c["prose_stance"] == "neutral"


def test_no_divergence_without_a_divergent_claim():
    # neutral claims with a negative mean: no divergent claim, so no divergence
    (c,) = check_rows([_row()], [_rec(1, "neutral", -0.3), _rec(2, "neutral", -0.2)])
    assert c["prose_stance"] == "neutral"
