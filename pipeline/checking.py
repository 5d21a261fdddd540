"""Checking stage: the prose records checked against the article's hand-made tables.

For each table row: the prose records of the same article on the row's topic (and, when
the table names two actors, on that pair) are pooled; their mean score gives the prose
stance (within ``neutral_band`` of 0 it is neutral). The row's status is ``missing``
when no prose sentence discusses the topic, ``agree`` when the prose stance equals the
table row's stance, ``disagree`` otherwise.
"""

from __future__ import annotations

from statistics import mean

from pipeline.records import net_stance


def check_rows(table_rows: list[dict], records: list[dict], *, band: float = 0.15) -> list[dict]:
    out = []
    for t in table_rows:
        pool = [r for r in records if r["article_id"] == t["article_id"] and t["topic"] and r["topic"] == t["topic"]]
        pair = {t["actor_a"], t["actor_b"]} - {""}
        if len(pair) == 2:  # only prose about the table's own pair counts
            pool = [r for r in pool if {r["actor_a"], r["actor_b"]} == pair]
        by_sentence = {}
        for r in pool:
            by_sentence.setdefault(r["sentence_id"], r)
        scores = [r["score"] for r in by_sentence.values()]
        if not scores:
            status, prose, ms = "missing", "", None
        else:
            ms = mean(scores)
            prose = net_stance(ms, band)
            status = "agree" if prose == t["stance"] else "disagree"
        out.append({
            "article_id": t["article_id"], "table_index": t["table_index"], "row_index": t["row_index"],
            "topic_cell": t["topic_cell"], "topic": t["topic"], "table_stance": t["stance"], "prose_stance": prose,
            "prose_mean_score": None if ms is None else round(ms, 6),
            "n_supporting": sum(1 for r in by_sentence.values() if r["stance"] == t["stance"]),
            "n_prose": len(by_sentence), "status": status,
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
