"""Dask on a real cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1, `stance run --engine dask --scheduler ... --store ...` against them, and one
worker killed (SIGKILL, for good: no nanny to restart it) while the run is under way.
The run must still finish, with every article processed and stored exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

# 300 real articles: the 97 Kremlin readouts of the bundled corpus and 203 more (CC BY 4.0)
KREMLIN = [ROOT / "corpus/articles/kremlin_us_relations.jsonl", ROOT / "tests/data/kremlin_more.jsonl"]
RECORD_KEY = ("article_id", "sentence_id", "actor_a", "actor_b", "topic")  # one record per (sentence, pair, topic)
RUN_TIMEOUT = 300
WATCHDOG = RUN_TIMEOUT + 240  # the whole test, in seconds


def _wait(pred, timeout: float, what: str, procs=(), step: float = 0.1):
    """Poll ``pred`` until it returns something truthy; fail after ``timeout`` seconds or
    as soon as one of ``procs`` (name, Popen, log path) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        for name, proc, log in procs:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited ({proc.returncode}) while waiting for {what}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-n:]
    except OSError:
        return ""


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (started in a session of its own) and reap it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:  # children left in the group (none expected: no nanny)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class _Procs:
    """Every process the test starts; all killed (by process group) at teardown."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, cmd: list[str]) -> tuple[str, subprocess.Popen, Path]:
        log = self.tmp / f"{name}.log"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(log, "wb") as fh:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
        self.started.append(proc)
        return name, proc, log

    def close(self) -> None:
        for proc in reversed(self.started):  # run first, then workers, scheduler last
            _kill_group(proc)


@pytest.fixture
def procs(tmp_path):
    """The test's processes, killed whatever happens; and a watchdog: should anything hang
    (a call to the scheduler included), the test fails after ``WATCHDOG`` seconds."""

    def expired(signum, frame):
        raise TimeoutError(f"test_dask_cluster: still running after {WATCHDOG} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(WATCHDOG)
    p = _Procs(tmp_path)
    try:
        yield p
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        p.close()


def _dask(*args: str) -> list[str]:
    # the `dask` command of this interpreter's environment (the package is installed there)
    return [sys.executable, "-m", "dask", *args]


@pytest.mark.slow
def test_run_survives_a_killed_worker(tmp_path, procs):
    from distributed import Client

    n_articles = sum(1 for f in KREMLIN for line in f.read_text(encoding="utf-8").splitlines() if line.strip())
    assert n_articles == 300

    # the scheduler picks a free port itself (--port 0) and prints it
    sched = procs.start("scheduler", _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                           "--idle-timeout", "600"))  # a safety net only: teardown kills it
    address = _wait(lambda: (m := re.search(r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", _tail(sched[2], 100_000)))
                    and m.group(1), 60, "the scheduler's address", [sched])
    workers = {}
    for i in range(2):
        workers[f"w{i}"] = procs.start(f"w{i}", _dask(
            "worker", address, "--name", f"w{i}", "--nthreads", "1", "--no-nanny", "--no-dashboard",
            "--local-directory", str(tmp_path / f"w{i}"), "--death-timeout", "60"))

    with Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
        client.get_task_stream()  # starts the scheduler's task-stream record: who computed what

        out, store = tmp_path / "out", tmp_path / "store.duckdb"
        run = procs.start("run", [sys.executable, "-m", "pipeline", "run", *map(str, KREMLIN), "-o", str(out),
                                  "--engine", "dask", "--scheduler", address, "--store", str(store),
                                  "--chunk-size", "10", "-q"])
        watched = [sched, run, *workers.values()]

        # the first chunk is back (its part files are written) and others are being processed
        _wait(lambda: any((out / "articles").glob("part-*.csv")), 120, "the first results", watched)

        # kill a worker just after it has started a new task (a chunk takes seconds), so the
        # task is surely lost with it rather than finished in the meantime
        seen: dict = {addr: set(keys) for addr, keys in client.processing().items()}

        def busy_worker():
            info = client.scheduler_info()["workers"]
            for addr, keys in client.processing().items():
                new = set(keys) - seen.setdefault(addr, set())
                seen[addr] |= set(keys)
                if new and addr in info:
                    return info[addr]["name"], addr, set(keys)
            return None

        name, victim_addr, victim_keys = _wait(busy_worker, 60, "a worker starting a task", watched, step=0.05)
        assert run[1].poll() is None, "the run finished before a worker could be killed"
        _kill_group(workers[name][1])  # SIGKILL, no nanny: the worker is gone for good
        watched = [sched, run, *(w for k, w in workers.items() if k != name)]

        # the scheduler notices and hands the lost task(s) to the survivor
        _wait(lambda: victim_addr not in client.scheduler_info()["workers"], 60, "the scheduler to drop the worker",
              watched)
        assert len(client.scheduler_info()["workers"]) == 1

        try:
            rc = run[1].wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"stance run did not finish within {RUN_TIMEOUT} s after a worker was killed:\n{_tail(run[2])}")
        assert rc == 0, f"stance run failed ({rc}):\n{_tail(run[2])}"
        log = _tail(sched[2], 1_000_000)
        assert re.search(rf"Remove worker addr: {re.escape(victim_addr)}", log), log[-3000:]
        # the chunk(s) the dead worker was computing were computed again, by the survivor
        stream = [t for t in client.get_task_stream() if "_dask_task" in str(t["key"])]
        finished = {t["key"]: t["worker"] for t in stream if t["status"] == "OK"}
        assert victim_keys <= set(finished), (victim_keys, finished)
        assert all(finished[k] != victim_addr for k in victim_keys)
        assert len(finished) == -(-n_articles // 10)  # one task per chunk, none failed

    counts = json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]
    assert counts["articles_processed"] == n_articles
    assert counts["inputs_failed"] == 0 and counts["articles_skipped_in_store"] == 0

    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        assert con.execute("select article_id, count(*) from articles group by 1 having count(*) > 1").fetchall() == []
        assert con.execute("select count(distinct article_id), count(*) from articles").fetchone() == (n_articles, n_articles)
        key = ", ".join(RECORD_KEY)
        n_records = con.execute("select count(*) from records").fetchone()[0]
        assert n_records == counts["records"] > 0
        assert con.execute(f"select {key}, count(*) from records group by all having count(*) > 1").fetchall() == []
        assert con.execute("select article_id, sentence_id, count(*) from sentences group by all having count(*) > 1"
                           ).fetchall() == []
        assert con.execute("select count(*) from sentences").fetchone()[0] == counts["sentences"]
        # every article's rows are there: its stored record count is the one it announces
        assert con.execute("""select count(*) from articles a
                              left join (select article_id, count(*) n from records group by 1) r using (article_id)
                              where a.n_records <> coalesce(r.n, 0)""").fetchone()[0] == 0
    finally:
        con.close()

    # the partitioned output too: one part per chunk, each article in exactly one part
    import pandas as pd

    parts = sorted((out / "articles").glob("part-*.csv"))
    assert len(parts) == -(-n_articles // 10)
    arts = pd.concat([pd.read_csv(p, keep_default_na=False) for p in parts])
    assert len(arts) == n_articles and arts.article_id.is_unique
