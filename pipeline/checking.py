"""Checking stage: the prose's relation records checked against the article's hand-made tables.

For each table row: the relation records of the same article on the row's topic and on
the table's actor pair, from prose only (paragraphs and bullets: headings, titles and
table rows are not evidence), each weighted by the classifier's probability that it is a
relation (1 - p_none). Their weighted mean score and their counts give the prose stance by
the rule of :func:`pipeline.records.net_stance`. The row's status is ``missing`` when no
prose record discusses the topic for that pair, ``agree`` when the prose stance equals
the row's stance, ``disagree`` otherwise.
"""

from __future__ import annotations

from pipeline.labels import CONVERGENCE, DIVERGENCE
from pipeline.records import net_stance

PROSE_KINDS = frozenset({"paragraph", "bullet"})


def check_rows(table_rows: list[dict], records: list[dict], *, band: float = 0.15) -> list[dict]:
    out = []
    prose = [r for r in records if r["block_kind"] in PROSE_KINDS]
    for t in table_rows:
        pool = [r for r in prose if r["article_id"] == t["article_id"] and t["topic"] and r["topic"] == t["topic"]]
        pair = {t["actor_a"], t["actor_b"]} - {""}
        if len(pair) == 2:  # only prose about the table's own pair counts
            pool = [r for r in pool if {r["actor_a"], r["actor_b"]} == pair]
        by_sentence = {}
        for r in pool:
            by_sentence.setdefault(r["sentence_id"], r)
        claims = list(by_sentence.values())
        if not claims:
            status, prose_stance, ms = "missing", "", None
        else:
            weights = [max(1e-6, 1.0 - float(r.get("p_none", 0.0))) for r in claims]
            ms = sum(w * r["score"] for w, r in zip(weights, claims)) / sum(weights)
            n_conv = sum(1 for r in claims if r["stance"] == CONVERGENCE)
            n_div = sum(1 for r in claims if r["stance"] == DIVERGENCE)
            prose_stance = net_stance(n_conv, n_div, ms, band)
            status = "agree" if prose_stance == t["stance"] else "disagree"
        out.append({
            "article_id": t["article_id"], "table_index": t["table_index"], "row_index": t["row_index"],
            "topic_cell": t["topic_cell"], "topic": t["topic"], "table_stance": t["stance"], "prose_stance": prose_stance,
            "prose_mean_score": None if ms is None else round(ms, 6),
            "n_supporting": sum(1 for r in claims if r["stance"] == t["stance"]),
            "n_prose": len(claims), "status": status,
        })
    return out


def summary(check: list[dict]) -> dict:
    """Coverage (share of table rows the prose discusses) and agreement among those."""
    n = len(check)
    covered = [c for c in check if c["status"] != "missing"]
    agree = [c for c in covered if c["status"] == "agree"]
    return {
        "table_rows": n,
        "covered": len(covered),
        "agree": len(agree),
        "disagree": len(covered) - len(agree),
        "missing": n - len(covered),
        "coverage_rate": round(len(covered) / n, 4) if n else None,
        "agreement_rate": round(len(agree) / len(covered), 4) if covered else None,
    }
