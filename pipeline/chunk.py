"""The chunk function: a chunk of ingested items in, the rows of every output table out.

``process_chunk(items, resources) -> Tables`` segments and recognises all articles of the
chunk in one ``nlp.pipe`` call, predicts the stance of all their sentences in one call,
decides every candidate pair of the chunk in one relation-classifier call, then builds
each article's records, relations, topics, tables and check. ``resources`` (the spaCy
pipeline with the recognisers, the model, the vocabularies, the settings) are loaded once
per process. A failure inside one article becomes an error row for that article; the rest
of the chunk goes on. Every engine (:mod:`pipeline.executors`) calls this function.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from pipeline.checking import check_rows
from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, ErrorEntry, Prediction, Tables
from pipeline.models import LoadedModel, load_model
from pipeline.recognition import build_recogniser
from pipeline.records import (apply_intro_context, attributed_positions, attribution_pattern, build_records, error_row,
                              sentence_row, summarise_relations, summarise_topics)
from pipeline.relations.candidates import CandidateRules, load_rules
from pipeline.relations.stage import prepare, relate
from pipeline.segmentation import segment
from pipeline.tables import TopicMatcher, read_header_rules, table_rows


@dataclass
class Resources:
    nlp: object
    model: LoadedModel
    rules: list  # table header rules
    settings: Settings
    candidates: CandidateRules | None = None
    attribution: object = None  # compiled attribution words
    _topics: TopicMatcher | None = None  # table topic cells -> topics (built for the first table)
    warm: bool = False  # has a chunk been processed (outside a memory zone) yet?
    zone: ExitStack | None = None  # the open spaCy memory zone, if any
    zone_strings: int = 0  # size of the string store when that zone was opened

    @property
    def topics(self) -> TopicMatcher:
        """The table topic matcher, built when the first article with a table comes (its
        lemmatizer and alias lemmas take most of a second; most news has no tables)."""
        if self._topics is None:
            self._topics = TopicMatcher.from_settings(self.settings)
        return self._topics

    @property
    def model_id(self) -> str:
        return self.model.model_id


def load_resources(model_dir: str | Path, settings: Settings | None = None, base: str | None = None,
                   model: LoadedModel | None = None) -> Resources:
    settings = settings or load_settings()
    model = model or load_model(model_dir)
    nlp = build_recogniser(settings, base=base)
    return Resources(nlp=nlp, model=model, rules=read_header_rules(settings), settings=settings,
                     candidates=load_rules(settings), attribution=attribution_pattern(settings.path("records", "attribution")))


def _article_row(a: Article, n_sent: int, n_rec: int, model_id: str) -> dict:
    return {"article_id": a.id, "path": a.path, "line": a.line, "title": a.title or "", "date": a.date or "",
            "source": a.source or "", "url": a.url or "", "content_hash": a.content_hash, "n_sentences": n_sent,
            "n_records": n_rec, "n_tables": len(a.tables), "model_id": model_id}


def process_chunk(items: list, res: Resources) -> Tables:
    """Run segmentation, recognition, stance, records, tables and the check on a chunk."""
    # spaCy's memory zone frees the strings and lexemes added to the vocabulary while it
    # is open, so a long run does not grow with every new word it meets (spaCy >= 3.8).
    # The first chunk runs outside a zone: the common words it adds stay cached for good.
    # Later chunks share one zone until it has added `run.zone_max_strings` strings; then
    # it is closed (freeing them) and a new one opens. No Doc outlives its chunk, so closing
    # between chunks is safe; a zone per chunk would re-create the same rare words every
    # 100 articles. Memory stays bounded either way.
    if not res.warm or not hasattr(res.nlp, "memory_zone"):
        out = _process_chunk(items, res)
        res.warm = True
        return out
    strings = res.nlp.vocab.strings
    if res.zone is None:
        res.zone = ExitStack()
        res.zone.enter_context(res.nlp.memory_zone())
        res.zone_strings = len(strings)
    try:
        return _process_chunk(items, res)
    finally:
        if len(strings) - res.zone_strings >= int(res.settings.get("run", "zone_max_strings", 100_000)):
            close_zone(res)


def close_zone(res: Resources) -> None:
    """Close the open memory zone (if any), freeing the strings added since it opened."""
    if res.zone is not None:
        zone, res.zone = res.zone, None
        zone.close()


def _process_chunk(items: list, res: Resources) -> Tables:
    out = Tables()
    s = res.settings
    articles: list[Article] = []
    seen_ids: set[str] = set()
    for it in items:
        if isinstance(it, ErrorEntry):
            out.errors.append(error_row(it))
        elif it.id in seen_ids:
            out.errors.append(error_row(ErrorEntry(it.path, f"duplicate article id {it.id!r} in this chunk; skipped", line=it.line, article_id=it.id)))
        else:
            seen_ids.add(it.id)
            articles.append(it)
    if not articles:
        return out
    min_m = int(s.get("records", "min_mentions_for_main_pair", 2))
    try:
        segs = segment(articles, res.nlp, batch_size=int(s.get("segment", "batch_size", 256)))
        prepared, encode = None, None
        if getattr(res.model, "needs_encoding", False):
            # a model with a sentence encoder encodes only what needs it: sentences with a
            # candidate pair (the relation classifier reads their prediction) and table cells
            prepared = [prepare(seg, res.candidates, min_mentions=min_m) for seg in segs]
            encode = [bool(cs) or sent.block_kind == "table"
                      for seg, ar in zip(segs, prepared) for sent, cs in zip(seg.sentences, ar.candidates)]
        preds_flat = res.model.predict([sent.text for seg in segs for sent in seg.sentences], encode=encode)
    except Exception as exc:
        if len(articles) == 1:
            art = articles[0]
            out.errors.append(error_row(ErrorEntry(art.path, f"{type(exc).__name__}: {exc}", stage="process", line=art.line, article_id=art.id)))
            return out
        # one bad article must not take its chunk with it: redo the chunk one by one
        for art in articles:
            out.extend(_process_chunk([art], res))
        return out
    band = float(s.get("check", "neutral_band", 0.15))
    no_topic = str(s.get("records", "no_topic", "general"))
    per_article: list[list[Prediction]] = []
    kept, kept_prepared = [], []
    pos = 0
    for k, seg in enumerate(segs):
        n = len(seg.sentences)
        preds = preds_flat[pos : pos + n]
        pos += n
        try:
            per_article.append(apply_intro_context(seg.sentences, preds, seg.article))
            kept.append(seg)
            if prepared is not None:
                kept_prepared.append(prepared[k])
        except Exception as exc:  # this article fails; the others go on
            art = seg.article
            out.errors.append(error_row(ErrorEntry(art.path, f"{type(exc).__name__}: {exc}", stage="process",
                                                   line=art.line, article_id=art.id)))
    segs = kept
    try:  # one relation-classifier call for every candidate pair of the chunk
        relations = relate(segs, per_article, res.candidates, res.model.relation, lexicon=res.model.lexicon,
                           min_mentions=min_m, prepared=kept_prepared if prepared is not None else None)
    except Exception as exc:
        if len(segs) <= 1:
            for seg in segs:
                art = seg.article
                out.errors.append(error_row(ErrorEntry(art.path, f"{type(exc).__name__}: {exc}", stage="process",
                                                       line=art.line, article_id=art.id)))
            return out
        for seg in segs:  # find the article that fails: redo them one by one
            out.extend(_process_chunk([seg.article], res))
        return out
    for seg, preds, rel in zip(segs, per_article, relations):
        art = seg.article
        n = len(seg.sentences)
        try:
            records = build_records(seg.sentences, seg.mentions, preds, rel, model_id=res.model_id, no_topic=no_topic)
            positions = attributed_positions(art, seg.sentences, rel.actors, res.attribution)
            row_preds = {(x.table_index, x.row_index): p for x, p in zip(seg.sentences, preds) if x.block_kind == "table"}
            trows, matches = (table_rows(art, res.nlp, res.rules, row_preds, context=rel.context.main_pair,
                                         matcher=res.topics, row_model=res.model.table)
                              if art.tables else ([], {}))
            out.sentences.extend(sentence_row(x, m, p) for x, m, p in zip(seg.sentences, seg.mentions, preds))
            out.records.extend(records)
            out.relations.extend(summarise_relations(records, art, band=band))
            out.topics.extend(summarise_topics(records, positions, band=band))
            out.tables.extend(trows)
            out.check.extend(check_rows(trows, records, band=band, matches=matches, matcher=res.topics if trows else None,
                                        sentences=seg.sentences, mentions=seg.mentions))
            out.articles.append(_article_row(art, n, len(records), res.model_id))
            out.errors.extend(error_row(ErrorEntry(art.path, w, line=art.line, article_id=art.id, severity="warning"))
                              for w in tuple(art.warnings) + tuple(rel.remarks))
        except Exception as exc:  # one article's failure must not stop the batch
            out.errors.append(error_row(ErrorEntry(art.path, f"{type(exc).__name__}: {exc}", stage="process", line=art.line, article_id=art.id)))
    return out
