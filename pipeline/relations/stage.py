"""Relations stage: segmented articles -> candidate pairs -> one decision per pair.

For each article of a chunk: the actor mentions that can stand in a relation (the
mention rules), the article's main pair and actor counts, the candidate pairs of every
sentence, their features; then one ``predict_proba`` call for every candidate of the
chunk. Table rows have no candidates (the table stage reads them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.contracts import Candidate, Mention, Prediction, RelationDecision
from pipeline.relations.candidates import CandidateRules, actor_mentions, article_candidates
from pipeline.relations.features import ArticleContext, feature_rows
from pipeline.relations.model import RelationModel
from pipeline.segmentation import Segmented


def main_pair(actor_mentions_: list[list[Mention]], min_mentions: int = 2) -> tuple[str, str] | None:
    """The two most-mentioned actors of an article, most-mentioned first (ties: first
    mentioned first); None when fewer than two reach ``min_mentions``."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for ms in actor_mentions_:
        for m in ms:
            counts[m.code] += 1
            first.setdefault(m.code, m.start)
    ranked = sorted((c for c in counts if counts[c] >= min_mentions), key=lambda c: (-counts[c], first[c]))
    return (ranked[0], ranked[1]) if len(ranked) >= 2 else None


@dataclass
class ArticleRelations:
    """The relation decisions of one article."""

    actors: list[list[Mention]]  # per sentence: actor mentions kept by the mention rules
    set_aside: list[list[tuple[Mention, str]]]  # per sentence: mentions that are not actors, and why
    context: ArticleContext
    candidates: list[list[Candidate]] = field(default_factory=list)  # per sentence
    decisions: list[list[RelationDecision]] = field(default_factory=list)  # per sentence, parallel to candidates
    remarks: list[str] = field(default_factory=list)


def prepare(seg: Segmented, rules: CandidateRules, *, min_mentions: int = 2) -> ArticleRelations:
    """Mention rules, article context and candidates of one segmented article."""
    kept, aside = [], []
    for s, ms in zip(seg.sentences, seg.mentions):
        k, d = actor_mentions(s, ms, rules)
        kept.append(k)
        aside.append(d)
    mp = main_pair(kept, min_mentions)
    ctx = ArticleContext(mp, dict(Counter(m.code for ms in kept for m in ms)))
    cands, remarks = article_candidates(seg.article, seg.sentences, kept, main_pair=mp, rules=rules, filtered=True)
    return ArticleRelations(kept, aside, ctx, cands, [[] for _ in cands], remarks)


def relate(segs: list[Segmented], preds: list[list[Prediction]], rules: CandidateRules, model: RelationModel,
           *, lexicon=None, min_mentions: int = 2, prepared: list[ArticleRelations] | None = None) -> list[ArticleRelations]:
    """Candidates and decisions for a chunk of articles (one classifier call).
    ``prepared``: the articles' :func:`prepare` results, when the caller already has them."""
    arts = prepared if prepared is not None else [prepare(seg, rules, min_mentions=min_mentions) for seg in segs]
    items, where, cands = [], [], []
    for ai, (seg, ar, ps) in enumerate(zip(segs, arts, preds)):
        for si, cs in enumerate(ar.candidates):
            for c in cs:
                items.append((seg.sentences[si], ar.actors[si], c, ps[si], ar.context))
                where.append((ai, si))
                cands.append(c)
    if not items:
        return arts
    frame = feature_rows(items, rules.alias_kinds, lexicon)
    for (ai, si), d in zip(where, model.predict(frame, cands)):
        arts[ai].decisions[si].append(d)
    return arts
