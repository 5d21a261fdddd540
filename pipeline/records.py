"""Records stage: relation decisions -> records, and their summaries per pair and topic.

Pure functions over one article at a time:

* :func:`build_records`: one record per (sentence, actor pair, topic) for every candidate
  pair the relation classifier did not label ``none`` (the pair, its stance, source and
  target, probabilities, the sentence as evidence);
* :func:`summarise_relations`: one row per (article, pair) for ``relations.csv``;
* :func:`summarise_topics`: one row per (article, pair, topic) for ``topics.csv``, with
  the positions attributed to each side;
* :func:`net_stance`: the one rule both summaries (and the table check) use.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path
from statistics import mean

from pipeline.contracts import Article, ErrorEntry, Mention, Prediction, Sentence
from pipeline.labels import CONVERGENCE, DIVERGENCE, NEUTRAL, NONE
from pipeline.recognition import codes
from pipeline.relations.candidates import intro_lines
from pipeline.relations.stage import ArticleRelations

_R = 6  # decimals of probabilities and scores in the outputs


def segment_row(s: Sentence) -> dict:
    return {"article_id": s.article_id, "sentence_id": s.index, "block_kind": s.block_kind, "section": s.section,
            "start": s.start, "end": s.end, "text": s.text}


def error_row(e: ErrorEntry) -> dict:
    return {"path": e.path, "line": e.line, "stage": e.stage, "severity": e.severity, "article_id": e.article_id or "", "reason": e.reason}


def sentence_row(s: Sentence, ms: list[Mention], p: Prediction) -> dict:
    return {**segment_row(s), "actors": ";".join(codes(ms, "actor")), "topics": ";".join(codes(ms, "topic")),
            "stance": p.stance, "score": round(p.score, _R), "p_convergence": round(p.p_convergence, _R),
            "p_divergence": round(p.p_divergence, _R), "p_neutral": round(p.p_neutral, _R), "cues": ";".join(p.cues)}


def apply_intro_context(sentences: list[Sentence], preds: list[Prediction], article: Article) -> list[Prediction]:
    """Codebook rule: a bullet under an intro line ("moves that align with Russia's
    agenda:") takes the direction the intro gives it. The bullet's probabilities become
    the mean of its own and the intro's when the intro is not neutral."""
    out = list(preds)
    intro_of_block = intro_lines(article)
    if not intro_of_block:
        return out
    last_sentence_of_block = {s.block_index: i for i, s in enumerate(sentences)}
    for i, s in enumerate(sentences):
        j = intro_of_block.get(s.block_index)
        if j is None or j not in last_sentence_of_block:
            continue
        intro = preds[last_sentence_of_block[j]]
        if intro.stance == NEUTRAL:
            continue
        own = preds[i]
        pc, pd_, pn = ((own.p_convergence + intro.p_convergence) / 2, (own.p_divergence + intro.p_divergence) / 2,
                       (own.p_neutral + intro.p_neutral) / 2)
        probs = {CONVERGENCE: pc, DIVERGENCE: pd_, NEUTRAL: pn}
        out[i] = Prediction(max(probs, key=probs.get), pc, pd_, pn, own.cues + ("intro:" + intro.stance,))
    return out


def build_records(
    sentences: list[Sentence],
    mentions: list[list[Mention]],
    preds: list[Prediction],
    rel: ArticleRelations,
    *,
    model_id: str,
    no_topic: str = "general",
) -> list[dict]:
    """One record per (sentence, related pair, topic); ``none`` pairs give no record."""
    rows = []
    for s, ms, p, cands, decisions in zip(sentences, mentions, preds, rel.candidates, rel.decisions):
        topics = None
        for c, d in zip(cands, decisions):
            if d.label == NONE:
                continue
            if topics is None:
                topics = codes(ms, "topic") or [no_topic]
            fields = {
                "article_id": s.article_id, "sentence_id": s.index, "actor_a": c.actor_a, "actor_b": c.actor_b,
                "pair_source": c.pair_source, "source_actor": d.source_actor, "target_actor": d.target_actor,
                "stance": d.label, "score": round(d.score, _R), "p_convergence": round(d.p_convergence, _R),
                "p_divergence": round(d.p_divergence, _R), "p_neutral": round(d.p_neutral, _R),
                "p_none": round(d.p_none, _R), "cues": ";".join(p.cues), "evidence": s.text, "section": s.section,
                "block_kind": s.block_kind, "start": s.start, "end": s.end, "model_id": model_id,
            }
            for topic in topics:
                rows.append({**fields, "topic": topic})
    return rows


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def attribution_pattern(path: Path) -> re.Pattern:
    """One regular expression of the attribution words (``corpus/vocab/attribution.csv``)."""
    words = sorted({r["phrase"].strip() for r in _rows(path) if (r.get("phrase") or "").strip()}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.I) if words else re.compile(r"(?!)")


def attributed_positions(article: Article, sentences: list[Sentence], actors: list[list[Mention]],
                         attribution: re.Pattern) -> dict[int, str]:
    """Sentences that state one actor's position: sentence index -> actor code.

    A sentence naming exactly one actor with an attribution word ("Russian officials
    said", "the US approach"), or a bullet under an intro line whose first-named actor
    owns the list ("moves within the new US outline that ...:").
    """
    out: dict[int, str] = {}
    intro_actor: dict[int, str] = {}
    for s, ms in zip(sentences, actors):
        named = codes(ms, "actor")
        if s.block_kind in ("paragraph", "title", "heading") and len(named) == 1 and attribution.search(s.text):
            out[s.index] = named[0]
        if s.text.rstrip().endswith(":") and named:
            intro_actor[s.block_index] = named[0]
    for bi, j in intro_lines(article).items():
        if j in intro_actor:
            for s in sentences:
                if s.block_index == bi and s.index not in out:
                    out[s.index] = intro_actor[j]
    return out


def net_stance(n_convergence: int, n_divergence: int, mean_score: float, band: float) -> str:
    """The net stance of a set of records: convergence when more of them converge than
    diverge and their mean score is above ``band``; divergence when more diverge than
    converge and the mean is below ``-band``; neutral otherwise. So a net stance always
    has records of its own label behind it, and agrees with the sign of the mean."""
    if n_convergence > n_divergence and mean_score > band:
        return CONVERGENCE
    if n_divergence > n_convergence and mean_score < -band:
        return DIVERGENCE
    return NEUTRAL


def _per_sentence(rs: list[dict]) -> list[dict]:
    """One record per sentence (a sentence with two topics has two records of one claim)."""
    seen: dict[int, dict] = {}
    for r in rs:
        seen.setdefault(r["sentence_id"], r)
    return list(seen.values())


def _summary(rs: list[dict], band: float) -> dict:
    claims = _per_sentence(rs)
    counts = Counter(r["stance"] for r in claims)
    ms = mean(r["score"] for r in claims)
    convs = [r for r in claims if r["stance"] == CONVERGENCE]
    divs = [r for r in claims if r["stance"] == DIVERGENCE]
    conv = max(convs, key=lambda r: (r["score"], -r["sentence_id"])) if convs else None
    div = min(divs, key=lambda r: (r["score"], r["sentence_id"])) if divs else None
    return {
        "n_sentences": len(claims), "n_convergence": counts[CONVERGENCE], "n_divergence": counts[DIVERGENCE],
        "n_neutral": counts[NEUTRAL], "mean_score": round(ms, _R),
        "net_stance": net_stance(counts[CONVERGENCE], counts[DIVERGENCE], ms, band),
        "convergence_evidence": conv["evidence"] if conv else "",
        "convergence_sentence_id": conv["sentence_id"] if conv else None,
        "divergence_evidence": div["evidence"] if div else "",
        "divergence_sentence_id": div["sentence_id"] if div else None,
    }


def summarise_relations(records: list[dict], article: Article, *, band: float = 0.15) -> list[dict]:
    """One row per (article, actor pair): how many sentences relate the pair, and which way."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["actor_a"], r["actor_b"])].append(r)
    out = []
    for (a, b), rs in groups.items():
        directed = Counter((r["source_actor"], r["target_actor"]) for r in _per_sentence(rs) if r["source_actor"])
        out.append({"article_id": article.id, "date": article.date or "", "actor_a": a, "actor_b": b,
                    **_summary(rs, band),
                    "n_a_to_b": directed[(a, b)], "n_b_to_a": directed[(b, a)],
                    "topics": ";".join(sorted({r["topic"] for r in rs}))})
    return out


def summarise_topics(records: list[dict], positions: dict[int, str], *, band: float = 0.15, max_position_chars: int = 600) -> list[dict]:
    """One row per (article, actor pair, topic)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["article_id"], r["actor_a"], r["actor_b"], r["topic"])].append(r)
    out = []
    for (art, a, b, topic), rs in groups.items():
        def pos(code):
            texts = []
            for r in rs:
                if positions.get(r["sentence_id"]) == code and r["evidence"] not in texts:
                    texts.append(r["evidence"])
            return " / ".join(texts)[:max_position_chars]
        out.append({"article_id": art, "actor_a": a, "actor_b": b, "topic": topic, **_summary(rs, band),
                    "position_a": pos(a), "position_b": pos(b)})
    return out


def plover_events(records: list[dict], articles: dict[str, dict], *, coded_date: str) -> list[dict]:
    """The relation records as PLOVER-style events: one per (sentence, pair), its topics as
    ``context``. ``actor`` → ``recipient`` is the source → target where the classifier
    found a direction, else the pair in code order (and ``symmetric`` is true).
    ``quad_code`` is 1 (cooperation) for convergence, 3 (conflict) for divergence, 0 for
    neutral: the classifier does not tell verbal from material events, so 2 and 4 are not
    used. ``event_text`` holds the cue words that fired; ``text`` the sentence.
    ``articles`` maps an article id to its row of ``articles.csv`` (date, url)."""
    by_claim: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        by_claim[(r["article_id"], r["sentence_id"], r["actor_a"], r["actor_b"])].append(r)
    quad = {CONVERGENCE: 1, DIVERGENCE: 3, NEUTRAL: 0}
    out = []
    for (aid, sid, a, b), rs in by_claim.items():
        r = rs[0]
        meta = articles.get(aid, {})
        directed = bool(r["source_actor"])
        out.append({
            "id": f"{aid}-{sid}-{a}-{b}",
            "date": meta.get("date") or "",
            "actor": r["source_actor"] if directed else a,
            "recipient": r["target_actor"] if directed else b,
            "symmetric": not directed,
            "event_text": "; ".join(c for c in (r["cues"] or "").split(";") if c and not c.startswith("intro:")),
            "quad_code": quad[r["stance"]],
            "context": sorted({x["topic"] for x in rs}),
            "text": r["evidence"],
            "coder": f"stance-pipeline {r['model_id']}",
            "coded_date": coded_date,
            "stance": r["stance"],
            "score": r["score"],
            "article_id": aid,
            "sentence_id": int(sid),
            "url": meta.get("url") or "",
        })
    return out
