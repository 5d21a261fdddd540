"""Records stage: sentences + mentions + predictions -> stance records and topic summaries.

Pure functions over one article at a time:

* :func:`main_pair`: the article's two most-mentioned actors, the context for sentences
  that name fewer than two;
* :func:`sentence_pairs`: the actor pairs of a sentence, ordered canonically (a < b),
  ``explicit`` when the sentence names both, ``context`` otherwise;
* :func:`build_records`: one record per (sentence, actor pair, topic);
* :func:`summarise_topics`: one row per (article, actor pair, topic) with label counts,
  mean score, net stance, strongest evidence for each side and attributed positions.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import combinations
from statistics import mean

from pipeline.contracts import Article, ErrorEntry, Mention, Prediction, Sentence
from pipeline.labels import CONVERGENCE, DIVERGENCE, NEUTRAL
from pipeline.recognition import codes

MAX_ACTORS_PER_SENTENCE = 4
_ATTRIBUTION = re.compile(
    r"\b(said|says|say|stated|states|indicated|highlighted|emphasi[sz]ed|stressed|welcomed|urged|called for|proposed|"
    r"insisted|argued|described|warned|noted|announced|declared|told|believes?|wants?|seeks?|aims?|"
    r"according to|approach|strategy|outline|position|view|response|focus|aim)\b",
    re.I,
)


def segment_row(s: Sentence) -> dict:
    return {"article_id": s.article_id, "sentence_id": s.index, "block_kind": s.block_kind, "section": s.section,
            "start": s.start, "end": s.end, "text": s.text}


def error_row(e: ErrorEntry) -> dict:
    return {"path": e.path, "line": e.line, "stage": e.stage, "severity": e.severity, "article_id": e.article_id or "", "reason": e.reason}


def sentence_row(s: Sentence, ms: list[Mention], p: Prediction) -> dict:
    return {**segment_row(s), "actors": ";".join(codes(ms, "actor")), "topics": ";".join(codes(ms, "topic")),
            "stance": p.stance, "score": round(p.score, 6), "p_convergence": round(p.p_convergence, 6),
            "p_divergence": round(p.p_divergence, 6), "p_neutral": round(p.p_neutral, 6), "cues": ";".join(p.cues)}


def main_pair(mentions: list[list[Mention]], min_mentions: int = 1) -> tuple[str, str] | None:
    """The two most-mentioned actors of an article, most-mentioned first (ties: first
    mentioned first)."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for ms in mentions:
        for m in ms:
            if m.kind == "actor":
                counts[m.code] += 1
                first.setdefault(m.code, m.start)
    ranked = sorted((c for c in counts if counts[c] >= min_mentions), key=lambda c: (-counts[c], first[c]))
    if len(ranked) < 2:
        return None
    return ranked[0], ranked[1]


def sentence_pairs(actors: list[str], context: tuple[str, str] | None) -> list[tuple[str, str, str]]:
    """Actor pairs of one sentence as (a, b, pair_source) with a < b."""
    actors = actors[:MAX_ACTORS_PER_SENTENCE]
    if len(actors) >= 2:
        return [(a, b, "explicit") for a, b in (tuple(sorted(p)) for p in combinations(actors, 2))]
    if context is None:
        return []
    if len(actors) == 1 and actors[0] not in context:
        # a sentence about a third actor: pair it with the article's most-mentioned one
        a, b = sorted((actors[0], context[0]))
        return [(a, b, "context")]
    a, b = sorted(context)
    return [(a, b, "context")]


def apply_intro_context(sentences: list[Sentence], preds: list[Prediction], article: Article) -> list[Prediction]:
    """Codebook rule: a bullet under an intro line ("moves that align with Russia's
    agenda:") takes the direction the intro gives it. The bullet's probabilities become
    the mean of its own and the intro's when the intro is not neutral."""
    out = list(preds)
    intro_of_block: dict[int, int] = {}
    for bi, block in enumerate(article.blocks):
        if block.kind == "bullet":
            j = bi - 1
            while j >= 0 and article.blocks[j].kind == "bullet":
                j -= 1
            if j >= 0 and article.blocks[j].kind == "paragraph" and article.blocks[j].text.rstrip().endswith(":"):
                intro_of_block[bi] = j
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
    article: Article,
    sentences: list[Sentence],
    mentions: list[list[Mention]],
    preds: list[Prediction],
    *,
    model_id: str,
    context: tuple[str, str] | None,
    no_topic: str = "general",
) -> list[dict]:
    """One record per (sentence, actor pair, topic); table rows are left to the table check."""
    rows = []
    for s, ms, p in zip(sentences, mentions, preds):
        if s.block_kind == "table":
            continue
        pairs = sentence_pairs(codes(ms, "actor"), context)
        if not pairs:
            continue
        topics = codes(ms, "topic") or [no_topic]
        fields = {  # the same for every pair and topic of the sentence
            "stance": p.stance, "score": round(p.score, 6), "p_convergence": round(p.p_convergence, 6),
            "p_divergence": round(p.p_divergence, 6), "p_neutral": round(p.p_neutral, 6), "cues": ";".join(p.cues),
            "evidence": s.text, "section": s.section, "block_kind": s.block_kind, "start": s.start, "end": s.end,
            "model_id": model_id,
        }
        for a, b, source in pairs:
            for topic in topics:
                rows.append({"article_id": s.article_id, "sentence_id": s.index, "actor_a": a, "actor_b": b,
                             "pair_source": source, "topic": topic, **fields})
    return rows


def attributed_positions(article: Article, sentences: list[Sentence], mentions: list[list[Mention]]) -> dict[int, str]:
    """Sentences that state one actor's position: sentence index -> actor code.

    A sentence naming exactly one actor with an attribution cue ("Russian officials
    said", "the US approach"), or a bullet under an intro line whose first-named actor
    owns the list ("moves within the new US outline that ...:").
    """
    out: dict[int, str] = {}
    intro_actor: dict[int, str] = {}
    for s, ms in zip(sentences, mentions):
        actors = codes(ms, "actor")
        if s.block_kind in ("paragraph", "title", "heading") and len(actors) == 1 and _ATTRIBUTION.search(s.text):
            out[s.index] = actors[0]
        if s.text.rstrip().endswith(":") and actors:
            intro_actor[s.block_index] = actors[0]
    for s in sentences:
        if s.block_kind != "bullet":
            continue
        j = s.block_index - 1
        while j >= 0 and article.blocks[j].kind == "bullet":
            j -= 1
        if j in intro_actor and s.index not in out:
            out[s.index] = intro_actor[j]
    return out


def net_stance(mean_score: float, band: float) -> str:
    if mean_score > band:
        return CONVERGENCE
    if mean_score < -band:
        return DIVERGENCE
    return NEUTRAL


def summarise_topics(records: list[dict], positions: dict[int, str], *, band: float = 0.15, max_position_chars: int = 600) -> list[dict]:
    """One row per (article, actor pair, topic)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["article_id"], r["actor_a"], r["actor_b"], r["topic"])].append(r)
    out = []
    for (art, a, b, topic), rs in groups.items():
        counts = Counter(r["stance"] for r in rs)
        ms = mean(r["score"] for r in rs)
        conv = max(rs, key=lambda r: r["score"])
        div = min(rs, key=lambda r: r["score"])
        def pos(code):
            texts = []
            for r in rs:
                if positions.get(r["sentence_id"]) == code and r["evidence"] not in texts:
                    texts.append(r["evidence"])
            return " / ".join(texts)[:max_position_chars]
        out.append({
            "article_id": art, "actor_a": a, "actor_b": b, "topic": topic, "n_sentences": len({r["sentence_id"] for r in rs}),
            "n_convergence": counts[CONVERGENCE], "n_divergence": counts[DIVERGENCE], "n_neutral": counts[NEUTRAL],
            "mean_score": round(ms, 6), "net_stance": net_stance(ms, band),
            "convergence_evidence": conv["evidence"] if conv["score"] > 0 else "",
            "convergence_sentence_id": conv["sentence_id"] if conv["score"] > 0 else None,
            "divergence_evidence": div["evidence"] if div["score"] < 0 else "",
            "divergence_sentence_id": div["sentence_id"] if div["score"] < 0 else None,
            "position_a": pos(a), "position_b": pos(b),
        })
    return out
