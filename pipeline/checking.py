"""Checking stage: the prose's relation records checked against the article's hand-made tables.

For each table row, the evidence is the relation records of the same article, from prose
only (paragraphs and bullets: headings, titles and table rows are not evidence), on the
table's actor pair, and on the row's topic. A prose sentence is on the topic when it names
it (a taxonomy topic: the topic ruler found it; an ad-hoc topic, a cell the taxonomy does
not know, :mod:`pipeline.tables.topics`: the cell's words as lemmas), or when the sentence
before it in the same paragraph does ("Cricket offered an unexpected compromise. The two
boards settled on …"), or when it is in the first block under a heading that names it
(the heading itself is never evidence). One claim per sentence, each
weighted by the classifier's probability that it is a relation (1 - p_none). Their weighted
mean score and their counts give the prose stance by the rule of
:func:`pipeline.records.net_stance`.

Every row gets a status and the reason for it:

=====================================  =========  ==================================================
reason                                 status     when
=====================================  =========  ==================================================
``unknown topic``                      missing    the topic cell has no word to search for
``no prose on this topic for this      missing    no prose record of the table's pair on the topic
pair``
``prose and row agree``                agree      the prose stance equals the row stance
``prose opposes row``                  disagree   the prose has a direction and it is not the row's
``prose mixed``                        disagree   the prose nets to neutral against a directional row
                                                  (records both ways, or no direction)
=====================================  =========  ==================================================
"""

from __future__ import annotations

from pipeline.labels import CHECK_REASONS, CONVERGENCE, DIVERGENCE, NEUTRAL
from pipeline.records import net_stance

PROSE_KINDS = frozenset({"paragraph", "bullet"})
REASONS = CHECK_REASONS


def topical_sentences(sentences, mentions, topic: str, match=None, matcher=None) -> set[int]:
    """Ids of the prose sentences on a topic (see the module docstring)."""
    if not topic:
        return set()
    adhoc = match is not None and match.adhoc
    if adhoc and matcher is None:
        return set()

    def names(s, ms) -> bool:
        if adhoc:
            return matcher.mentions(match, s.text)
        return any(m.kind == "topic" and m.code == topic for m in ms)

    out, prev_on, prev_block, heading_on, first_block = set(), False, None, False, None
    for s, ms in zip(sentences, mentions):
        if s.block_kind == "heading":
            heading_on, first_block, prev_on, prev_block = names(s, ms), None, False, None
            continue
        if s.block_kind not in PROSE_KINDS:
            prev_on, prev_block = False, None
            continue
        if first_block is None:
            first_block = s.block_index
        on = names(s, ms)
        same_block = prev_block == s.block_index
        if on or (prev_on and same_block) or (heading_on and s.block_index == first_block):
            out.add(s.index)
        prev_on, prev_block = on, s.block_index
    return out


def check_rows(table_rows: list[dict], records: list[dict], *, band: float = 0.15, matches: dict | None = None,
               matcher=None, sentences=None, mentions=None) -> list[dict]:
    """One row of ``check.csv`` per table row. ``matches``: the topic match of each row by
    (table_index, row_index), from :func:`pipeline.tables.table_rows` (needed for ad-hoc
    topics); ``matcher``: the :class:`~pipeline.tables.topics.TopicMatcher` that finds
    their words in the prose; ``sentences`` and ``mentions``: the article's sentences and
    their mentions, for the topic's scope (without them, a record is on the topic when its
    own ``topic`` is the row's)."""
    out = []
    matches = matches or {}
    prose = [r for r in records if r["block_kind"] in PROSE_KINDS]
    for t in table_rows:
        match = matches.get((t["table_index"], t["row_index"]))
        pair = {t["actor_a"], t["actor_b"]} - {""}
        pool = [r for r in prose if r["article_id"] == t["article_id"]]
        if len(pair) == 2:  # only prose about the table's own pair counts
            pool = [r for r in pool if {r["actor_a"], r["actor_b"]} == pair]
        if not t["topic"]:
            pool = []
        elif sentences is not None:
            on = topical_sentences(sentences, mentions or [()] * len(sentences), t["topic"], match, matcher)
            pool = [r for r in pool if r["sentence_id"] in on]
        else:
            pool = [r for r in pool if r["topic"] == t["topic"]]
        by_sentence = {}
        for r in pool:
            by_sentence.setdefault(r["sentence_id"], r)
        claims = list(by_sentence.values())
        n_conv = sum(1 for r in claims if r["stance"] == CONVERGENCE)
        n_div = sum(1 for r in claims if r["stance"] == DIVERGENCE)
        if not t["topic"]:
            status, reason, prose_stance, ms = "missing", REASONS[0], "", None
        elif not claims:
            status, reason, prose_stance, ms = "missing", REASONS[1], "", None
        else:
            weights = [max(1e-6, 1.0 - float(r.get("p_none", 0.0))) for r in claims]
            ms = sum(w * r["score"] for w, r in zip(weights, claims)) / sum(weights)
            prose_stance = net_stance(n_conv, n_div, ms, band)
            if prose_stance == t["stance"]:
                status, reason = "agree", REASONS[2]
            elif prose_stance == NEUTRAL:
                status, reason = "disagree", REASONS[4]
            else:
                status, reason = "disagree", REASONS[3]
        out.append({
            "article_id": t["article_id"], "table_index": t["table_index"], "row_index": t["row_index"],
            "topic_cell": t["topic_cell"], "topic": t["topic"], "topic_method": t.get("topic_method", ""),
            "table_stance": t["stance"], "prose_stance": prose_stance,
            "prose_mean_score": None if ms is None else round(ms, 6),
            "n_supporting": sum(1 for r in claims if r["stance"] == t["stance"]),
            "n_prose": len(claims), "n_convergence": n_conv, "n_divergence": n_div,
            "status": status, "reason": reason,
            "evidence_sentence_ids": ";".join(str(r["sentence_id"]) for r in sorted(claims, key=lambda r: r["sentence_id"])),
        })
    return out


def summary(check: list[dict]) -> dict:
    """Coverage (share of table rows the prose discusses), agreement among those, and the
    count of each reason."""
    n = len(check)
    covered = [c for c in check if c["status"] != "missing"]
    agree = [c for c in covered if c["status"] == "agree"]
    reasons = {r: sum(1 for c in check if c.get("reason") == r) for r in REASONS}
    return {
        "table_rows": n,
        "covered": len(covered),
        "agree": len(agree),
        "disagree": len(covered) - len(agree),
        "missing": n - len(covered),
        "coverage_rate": round(len(covered) / n, 4) if n else None,
        "agreement_rate": round(len(agree) / len(covered), 4) if covered else None,
        "reasons": reasons,
    }
