"""Checking stage: the prose's relation records checked against the article's hand-made tables.

For each table row, the evidence is the relation records of the same article, from prose
only (paragraphs and bullets: headings, titles and table rows are not evidence), on the
table's actor pair, and on the row's topic. A prose sentence is on the topic when it names
it (a taxonomy topic: the topic ruler found it; an ad-hoc topic, a cell the taxonomy does
not know, :mod:`pipeline.tables.topics`: the cell's words as lemmas), or when the sentence
before it in the same paragraph does ("Cricket offered an unexpected compromise. The two
boards settled on …"), or when it is in the first block under a heading that names it
(the heading itself is never evidence). One claim per sentence (its first record of the
pair), weighted by

* the classifier's probability that it is a relation (1 - p_none);
* shared among the topics the sentence is about: divided by the number of topics it names
  (taxonomy topics, and the ad-hoc topics of the article's table rows whose words it has),
  counting the row's topic when the sentence is only in its scope. A lead sentence that
  lists "tariffs, the Taiwan Strait and the flow of fentanyl" makes one claim, not three
  whole ones;
* halved (``SCOPE_WEIGHT``) when the sentence is on the topic only by its scope (the
  sentence before, or the heading): a sentence that names the topic outweighs one that
  follows it.

The prose stance is decided by probability mass (:func:`prose_stance`): the weighted mean
score is (convergence mass - divergence mass) / total weight, each claim's mass being its
weight times its P(convergence) or P(divergence); the prose converges when that mean is
above ``band`` and at least one claim converges, diverges when it is below ``-band`` and at
least one claim diverges, and when every claim has the same direction (all convergence or
all divergence) it has that direction whatever the mean: the band nets claims that
disagree, it does not overrule one the classifier made. As with
:func:`pipeline.records.net_stance`, a prose stance always has claims of its own label
behind it and the sign of the mean; unlike it, there is no majority of counts: one strong
divergent claim is not cancelled by a weak convergent one.

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
                                                  (claims both ways whose mass is within the band,
                                                  or no direction)
=====================================  =========  ==================================================
"""

from __future__ import annotations

from pipeline.labels import CHECK_REASONS, CONVERGENCE, DIVERGENCE, NEUTRAL

PROSE_KINDS = frozenset({"paragraph", "bullet"})
# a sentence that is on a topic only by its scope (previous sentence, first block under a
# heading) counts half as much as one that names the topic itself
SCOPE_WEIGHT = 0.5
REASONS = CHECK_REASONS


def topical_scope(sentences, mentions, topic: str, match=None, matcher=None) -> dict[int, bool]:
    """The prose sentences on a topic (see the module docstring): sentence id -> whether
    the sentence names the topic itself (True) or is only in its scope (False)."""
    if not topic:
        return {}
    adhoc = match is not None and match.adhoc
    if adhoc and matcher is None:
        return {}

    def names(s, ms) -> bool:
        if adhoc:
            return matcher.mentions(match, s.text)
        return any(m.kind == "topic" and m.code == topic for m in ms)

    out, prev_on, prev_block, heading_on, first_block = {}, False, None, False, None
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
            out[s.index] = on
        prev_on, prev_block = on, s.block_index
    return out


def topical_sentences(sentences, mentions, topic: str, match=None, matcher=None) -> set[int]:
    """Ids of the prose sentences on a topic (see the module docstring)."""
    return set(topical_scope(sentences, mentions, topic, match, matcher))


def named_topics(sentences, mentions, table_rows, matches, matcher) -> dict[int, set[str]]:
    """The topics each prose sentence names itself: the taxonomy topics the topic ruler
    found in it, and the ad-hoc topics of the article's table rows whose words it has."""
    adhoc = {m.topic: m for m in (matches or {}).values() if m is not None and m.adhoc}
    out = {}
    for s, ms in zip(sentences, mentions):
        if s.block_kind not in PROSE_KINDS:
            continue
        got = {m.code for m in ms if m.kind == "topic"}
        if matcher is not None:
            got |= {t for t, m in adhoc.items() if matcher.mentions(m, s.text)}
        out[s.index] = got
    return out


def claim_weight(record: dict, named: bool, n_topics: int, scope_weight: float = SCOPE_WEIGHT) -> float:
    """The weight of a sentence's claim on a row's topic: the classifier's probability that
    it is a relation (1 - p_none), shared among the topics the sentence is about (the ones it
    names, and the row's topic when it is only in its scope), and times ``scope_weight`` when
    it does not name the row's topic itself."""
    w = max(1e-6, 1.0 - float(record.get("p_none", 0.0))) / max(1, n_topics)
    return w if named else w * scope_weight


def prose_stance(claims: list[dict], weights: list[float], band: float) -> tuple[str, float]:
    """(prose stance, weighted mean score) of a row's claims, by probability mass: the
    weighted mean of the scores is (convergence mass - divergence mass) / total weight;
    convergence when it is above ``band`` and at least one claim converges, divergence when
    it is below ``-band`` and at least one claim diverges, neutral otherwise; and when every
    claim has one direction (all convergence or all divergence), that direction. So a prose
    stance always has claims of its own label behind it, and agrees with the sign of the mean."""
    ms = sum(w * float(r["score"]) for w, r in zip(weights, claims)) / sum(weights)
    labels = {r["stance"] for r in claims}
    n_conv = sum(1 for r in claims if r["stance"] == CONVERGENCE)
    n_div = sum(1 for r in claims if r["stance"] == DIVERGENCE)
    if labels in ({CONVERGENCE}, {DIVERGENCE}):
        return labels.pop(), ms
    if ms > band and n_conv:
        return CONVERGENCE, ms
    if ms < -band and n_div:
        return DIVERGENCE, ms
    return NEUTRAL, ms


def check_rows(table_rows: list[dict], records: list[dict], *, band: float = 0.15, matches: dict | None = None,
               matcher=None, sentences=None, mentions=None) -> list[dict]:
    """One row of ``check.csv`` per table row. ``matches``: the topic match of each row by
    (table_index, row_index), from :func:`pipeline.tables.table_rows` (needed for ad-hoc
    topics); ``matcher``: the :class:`~pipeline.tables.topics.TopicMatcher` that finds
    their words in the prose; ``sentences`` and ``mentions``: the article's sentences and
    their mentions, for the topic's scope (without them, a record is on the topic when its
    own ``topic`` is the row's, and a sentence's topics are those of its records)."""
    out = []
    matches = matches or {}
    prose = [r for r in records if r["block_kind"] in PROSE_KINDS]
    if sentences is not None:
        mentions = mentions or [()] * len(sentences)
        topics_of = named_topics(sentences, mentions, table_rows, matches, matcher)
    else:
        topics_of = {}
        for r in prose:
            topics_of.setdefault((r["article_id"], r["sentence_id"]), set()).add(r["topic"])
    for t in table_rows:
        match = matches.get((t["table_index"], t["row_index"]))
        pair = {t["actor_a"], t["actor_b"]} - {""}
        pool = [r for r in prose if r["article_id"] == t["article_id"]]
        if len(pair) == 2:  # only prose about the table's own pair counts
            pool = [r for r in pool if {r["actor_a"], r["actor_b"]} == pair]
        if not t["topic"]:
            pool, scope = [], {}
        elif sentences is not None:
            scope = topical_scope(sentences, mentions, t["topic"], match, matcher)
            pool = [r for r in pool if r["sentence_id"] in scope]
        else:
            pool = [r for r in pool if r["topic"] == t["topic"]]
            scope = {r["sentence_id"]: True for r in pool}
        by_sentence = {}
        for r in pool:
            by_sentence.setdefault(r["sentence_id"], r)
        claims = list(by_sentence.values())
        n_conv = sum(1 for r in claims if r["stance"] == CONVERGENCE)
        n_div = sum(1 for r in claims if r["stance"] == DIVERGENCE)
        if not t["topic"]:
            status, reason, pstance, ms = "missing", REASONS[0], "", None
        elif not claims:
            status, reason, pstance, ms = "missing", REASONS[1], "", None
        else:
            weights = []
            for r in claims:
                sid = r["sentence_id"]
                own = topics_of.get(sid, topics_of.get((r["article_id"], sid), set()))
                weights.append(claim_weight(r, scope[sid], len(set(own) | {t["topic"]})))
            pstance, ms = prose_stance(claims, weights, band)
            if pstance == t["stance"]:
                status, reason = "agree", REASONS[2]
            elif pstance == NEUTRAL:
                status, reason = "disagree", REASONS[4]
            else:
                status, reason = "disagree", REASONS[3]
        out.append({
            "article_id": t["article_id"], "table_index": t["table_index"], "row_index": t["row_index"],
            "topic_cell": t["topic_cell"], "topic": t["topic"], "topic_method": t.get("topic_method", ""),
            "table_stance": t["stance"], "prose_stance": pstance,
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
