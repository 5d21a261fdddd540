"""Engines: the same pure chunk function, run locally, in a process pool or on Dask.

``process_chunk(items, resources) -> Tables`` takes a chunk of ingested items (articles
and ingestion errors) and returns the rows of every output table. ``resources`` (the
spaCy pipeline with the recognisers, the stance model, the table header rules and the
settings) are loaded once per process. A failure inside one article becomes an error
row for that article; the rest of the chunk goes on.
"""

from __future__ import annotations

import gc
import os
import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from pipeline.checking import check_rows
from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, ErrorEntry, Prediction, Tables
from pipeline.models import LoadedModel, load_model, model_fingerprint  # noqa: F401  (re-exported)
from pipeline.recognition import add_recognisers
from pipeline.records import (apply_intro_context, attributed_positions, attribution_pattern, build_records, error_row,
                              sentence_row, summarise_relations, summarise_topics)
from pipeline.relations.candidates import CandidateRules, load_rules
from pipeline.relations.stage import relate
from pipeline.segmentation import build_segmenter, segment
from pipeline.tables import read_header_rules, table_rows


@dataclass
class Resources:
    nlp: object
    model: LoadedModel
    rules: list  # table header rules
    settings: Settings
    candidates: CandidateRules | None = None
    attribution: object = None  # compiled attribution words
    warm: bool = False  # has a chunk been processed (outside a memory zone) yet?
    zone: ExitStack | None = None  # the open spaCy memory zone, if any
    zone_strings: int = 0  # size of the string store when that zone was opened

    @property
    def model_id(self) -> str:
        return self.model.model_id


def load_resources(model_dir: str | Path, settings: Settings | None = None, base: str | None = None,
                   model: LoadedModel | None = None) -> Resources:
    settings = settings or load_settings()
    model = model or load_model(model_dir)
    nlp = add_recognisers(build_segmenter(settings, base=base), settings)
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
    try:
        segs = segment(articles, res.nlp, batch_size=int(s.get("segment", "batch_size", 256)))
        preds_flat = res.model.predict([sent.text for seg in segs for sent in seg.sentences])
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
    min_m = int(s.get("records", "min_mentions_for_main_pair", 2))
    per_article: list[list[Prediction]] = []
    kept = []
    pos = 0
    for seg in segs:
        n = len(seg.sentences)
        preds = preds_flat[pos : pos + n]
        pos += n
        try:
            per_article.append(apply_intro_context(seg.sentences, preds, seg.article))
            kept.append(seg)
        except Exception as exc:  # this article fails; the others go on
            art = seg.article
            out.errors.append(error_row(ErrorEntry(art.path, f"{type(exc).__name__}: {exc}", stage="process",
                                                   line=art.line, article_id=art.id)))
    segs = kept
    try:  # one relation-classifier call for every candidate pair of the chunk
        relations = relate(segs, per_article, res.candidates, res.model.relation, lexicon=res.model.lexicon,
                           min_mentions=min_m)
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
            trows = table_rows(art, res.nlp, res.rules, row_preds, context=rel.context.main_pair)
            out.sentences.extend(sentence_row(x, m, p) for x, m, p in zip(seg.sentences, seg.mentions, preds))
            out.records.extend(records)
            out.relations.extend(summarise_relations(records, art, band=band))
            out.topics.extend(summarise_topics(records, positions, band=band))
            out.tables.extend(trows)
            out.check.extend(check_rows(trows, records, band=band))
            out.articles.append(_article_row(art, n, len(records), res.model_id))
            out.errors.extend(error_row(ErrorEntry(art.path, w, line=art.line, article_id=art.id, severity="warning"))
                              for w in tuple(art.warnings) + tuple(rel.remarks))
        except Exception as exc:  # one article's failure must not stop the batch
            out.errors.append(error_row(ErrorEntry(art.path, f"{type(exc).__name__}: {exc}", stage="process", line=art.line, article_id=art.id)))
    return out


# -- executors ----------------------------------------------------------------------
_WORKER: dict = {}


def _worker_init(model_dir: str, settings_path: str | None, base: str | None) -> None:
    with paused_gc():
        _WORKER["res"] = res = load_resources(model_dir, load_settings(settings_path), base)
    _WORKER["gc"] = tuned_gc(res.settings)  # a worker process of ours: tuned for its life
    _WORKER["gc"].__enter__()


def _worker_run(chunk: list) -> Tables:
    return process_chunk(chunk, _WORKER["res"])


@contextmanager
def paused_gc():
    """No cyclic garbage collection while loading (imports, the model, 25k patterns):
    everything built there lives for the whole run, so collecting would find nothing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def tuned_gc(settings: Settings):
    """Python's cyclic garbage collector, tuned for a batch run, then restored.

    A run allocates millions of short-lived objects (tokens, rows, n-grams) next to a few
    million long-lived ones (the vocabulary, 25k patterns, the model). By default every
    full collection walks the long-lived ones again: 18% of a run's time on real news.
    ``gc.freeze()`` after loading moves them out of the collector's sight, and a higher
    first-generation threshold (``run.gc_threshold``) collects less often. Reference
    counting still frees almost everything at once, so memory is not affected.
    """
    old = gc.get_threshold()
    threshold = settings.get("run", "gc_threshold", None)
    freeze = gc.get_freeze_count() == 0  # a host that froze objects itself is left as it is
    if freeze:
        gc.collect()
        gc.freeze()
    if threshold:
        gc.set_threshold(*[int(x) for x in threshold])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        if freeze:
            gc.unfreeze()


def run_local(chunks: Iterable[list], res: Resources) -> Iterator[Tables]:
    with tuned_gc(res.settings):
        for chunk in chunks:
            yield process_chunk(chunk, res)


def run_pool(chunks: Iterable[list], model_dir: str, workers: int, base: str | None = None) -> Iterator[Tables]:
    """Process chunks in ``workers`` processes; results come back in input order and at
    most ``2 * workers`` chunks are in flight, so memory stays bounded."""
    import multiprocessing as mp
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("spawn" if os.name == "nt" else "forkserver")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init, initargs=(str(model_dir), None, base)) as ex:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(ex.submit(_worker_run, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_TASK_LOCK = threading.Lock()


def _dask_task(chunk: list, model_dir: str, base: str | None) -> Tables:
    # a Dask worker may run several tasks in threads; the spaCy pipeline and its memory
    # zone are not thread-safe, so the tasks of one worker process take turns
    with _TASK_LOCK:
        key = ("res", model_dir, base)
        if key not in _WORKER:
            _WORKER[key] = load_resources(model_dir, load_settings(), base)
        return process_chunk(chunk, _WORKER[key])


def run_dask(chunks: Iterable[list], model_dir: str, scheduler: str | None = None, workers: int = 2,
             base: str | None = None) -> Iterator[Tables]:
    """Process chunks on a Dask cluster (a LocalCluster when no scheduler address is given).

    Chunks are submitted as they are read, with a bounded number in flight, and results
    are yielded in input order.
    """
    from collections import deque

    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        pending: deque = deque()
        limit = 2 * max(1, len(client.scheduler_info().get("workers", {})) or workers)
        for chunk in chunks:
            pending.append(client.submit(_dask_task, chunk, str(Path(model_dir).resolve()), base, pure=False))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


