"""Executors: the same chunk function run locally, in a process pool or on Dask.

All three call :func:`pipeline.chunk.process_chunk` on the same chunks and yield its
results in input order, so outputs are identical whatever the engine; the resources are
loaded once per worker process. Python's garbage collector is tuned for a batch run here
(see :func:`tuned_gc`).
"""

from __future__ import annotations

import gc
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from pipeline.chunk import Resources, load_resources, process_chunk
from pipeline.config import Settings, load_settings
from pipeline.contracts import Tables


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


