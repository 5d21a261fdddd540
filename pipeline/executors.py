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
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
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


def lost_chunk(chunk: list, reason: str) -> Tables:
    """The tables of a chunk that could not be processed: one error row per input."""
    from pipeline.contracts import ErrorEntry
    from pipeline.records import error_row

    out = Tables()
    for it in chunk:
        if isinstance(it, ErrorEntry):
            out.errors.append(error_row(it))
        else:
            out.errors.append(error_row(ErrorEntry(it.path, reason, stage="process", line=it.line, article_id=it.id)))
    return out


@contextmanager
def _sigint_ignored():
    """SIGINT ignored while worker processes start: the forkserver (and so every worker)
    inherits the disposition, so Ctrl-C reaches only the main process, which ends the
    run with one line instead of a traceback per worker."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _terminate(ex) -> None:
    """Stop a pool now: queued chunks cancelled, running workers terminated."""
    procs = list(getattr(ex, "_processes", {}).values())  # ProcessPoolExecutor keeps them there
    ex.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(5)


def quiet_pool_exit() -> None:
    """Make the interpreter's exit hook for process pools harmless once a run is ending
    on an error or Ctrl-C. The hook (``concurrent.futures.process._python_exit``) writes
    to each pool's wake-up pipe; for a pool torn down by the interrupt that pipe's file
    descriptor can already be gone, and the hook then prints "Exception ignored …
    OSError: [Errno 9] Bad file descriptor" after our one-line message (seen under load,
    Ctrl-C while workers start). A failed wake-up there means nothing is left to wake."""
    import concurrent.futures.process as cfp

    for wakeup in list(getattr(cfp, "_threads_wakeups", {}).values()):
        def safe(orig=wakeup.wakeup):
            try:
                orig()
            except (OSError, ValueError):
                pass

        wakeup.wakeup = safe


def run_pool(chunks: Iterable[list], model_dir: str, workers: int, base: str | None = None, *,
             task=None, init=None, initargs: tuple | None = None) -> Iterator[Tables]:
    """Process chunks in ``workers`` processes; results come back in input order and at
    most ``2 * workers`` chunks are in flight, so memory stays bounded.

    A worker that dies (killed, out of memory, a crash in native code) breaks the pool:
    the chunks already finished are kept, a fresh pool is started, and the chunks that were
    in flight are run again one at a time (so that the one that kills its worker is found
    and the others are not blamed). A chunk whose worker dies twice is reported, one error
    row per input, and the run goes on. ``task`` / ``init`` replace the worker functions
    (tests use them to kill a worker on purpose).
    """
    import multiprocessing as mp
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    task = task or _worker_run
    init = init or _worker_init
    initargs = initargs if initargs is not None else (str(model_dir), None, base)
    ctx = mp.get_context("spawn" if os.name == "nt" else "forkserver")

    def new_pool() -> ProcessPoolExecutor:
        with _sigint_ignored():
            pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=init, initargs=initargs)
            for _ in range(workers):  # start the workers now, while SIGINT is ignored
                pool.submit(int)
        return pool

    def submit(entry: list) -> None:
        try:
            entry[1] = ex.submit(task, entry[0])
        except BrokenProcessPool as exc:  # the pool broke since the last look
            entry[1] = Future()
            entry[1].set_exception(exc)

    def finished(entry: list) -> bool:
        f = entry[1]
        return f is not None and f.done() and not f.cancelled() and f.exception() is None

    ex = new_pool()
    pending: deque = deque()  # [chunk, future or None (to run again, alone), times started], in input order
    source = iter(chunks)
    exhausted = False
    try:
        while True:
            retrying = any(e[1] is None for e in pending)
            while not retrying and not exhausted and len(pending) < 2 * workers:
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                else:
                    pending.append([chunk, None, 1])
                    submit(pending[-1])
            if not pending:
                return
            head = pending[0]
            if head[1] is None:  # after a break: one chunk at a time
                head[2] += 1
                submit(head)
            try:
                result = head[1].result()
            except BrokenProcessPool:
                _terminate(ex)
                ex = new_pool()
                for e in pending:
                    if not finished(e):
                        e[1] = None
                if head[2] >= 2:  # its worker died twice: report it, go on
                    pending.popleft()
                    yield lost_chunk(head[0], "a worker process died twice while processing this input's chunk "
                                              "(killed, or out of memory?); not processed")
                continue
            pending.popleft()
            yield result
    except BaseException:
        _terminate(ex)
        raise
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


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


