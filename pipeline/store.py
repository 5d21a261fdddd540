"""Incremental store: the tables of successive runs accumulated in DuckDB.

Each chunk's rows are inserted in one transaction, articles last, so an article counts
as done only once all its rows are in. A re-run with the same model skips articles whose
(id, content hash) are already done; after a crash (even ``kill -9``) it finishes the
rest, and rows of a partly inserted chunk are replaced, never duplicated.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from pipeline.contracts import Tables
from pipeline.errors import DiskFull, is_disk_full
from pipeline.schemas import frame

# the run's tables, articles last: an article counts as done only once all its rows are in
TABLES = ("sentences", "records", "relations", "topics", "tables", "check", "errors", "articles")
_NEEDS_MODEL = ("sentences", "relations", "topics", "tables", "check")  # tables whose rows do not carry model_id


class StoreError(RuntimeError):
    """A store that this version cannot add to (its tables have other columns)."""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def ctrl_c_deferred():
    """Ctrl-C held back until the block has ended, then delivered as usual.

    DuckDB checks for SIGINT while a query runs and turns it into ``RuntimeError: Query
    interrupted`` inside our transaction; the next statement then fails with "transaction
    is aborted", and the run ended on a traceback (seen under load: Ctrl-C during a chunk's
    insert). A chunk's transaction lasts well under a second, so the interrupt waits for
    its commit or rollback and then stops the run as it would anywhere else. Outside the
    main thread, or where SIGINT is ignored, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.getsignal(signal.SIGINT)
    if not callable(old):  # SIG_IGN or SIG_DFL: no Python handler to defer
        yield
        return
    got: list = []
    signal.signal(signal.SIGINT, lambda signum, frame: got.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if got:
        old(signal.SIGINT, got[0])


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():  # DuckDB: one process may write a database file
                raise StoreError(f"{self.path}: the store is in use by another process (one run at a time may write "
                                 "to a store); wait for it to finish or use another --store") from None
            raise StoreError(f"{self.path}: cannot open the store ({_first_line(exc)})") from None
        except duckdb.Error as exc:  # not a DuckDB file, a newer storage version ...
            raise StoreError(f"{self.path}: not a store this version can open ({_first_line(exc)})") from None
        self._ready: set[str] = {r[0] for r in self.con.execute("select table_name from information_schema.tables").fetchall()}
        self._checked: set[str] = set()
        self.con.execute("create table if not exists models (model_id varchar primary key, last_added timestamp)")

    def close(self) -> None:
        self.con.close()

    def _frame(self, name: str, rows: list[dict], model_id: str) -> pd.DataFrame:
        df = frame(name, rows)
        if name in _NEEDS_MODEL:
            df["model_id"] = model_id
        return df

    def _ensure(self, name: str, df: pd.DataFrame) -> None:
        if name in self._ready and name not in self._checked:
            have = [r[0] for r in self.con.execute(
                "select column_name from information_schema.columns where table_name = ? order by ordinal_position", [name]).fetchall()]
            if have != list(df.columns):
                raise StoreError(f"{self.path}: table {name!r} has the columns of another version of stance-pipeline "
                                 f"({len(have)} columns, this version writes {len(df.columns)}); use a new --store file")
            self._checked.add(name)
        if name not in self._ready:
            self.con.register("_new", df)
            self.con.execute(f'create table if not exists "{name}" as select * from _new limit 0')
            self.con.unregister("_new")
            self._ready.add(name)

    def done_keys(self, model_id: str) -> set[tuple[str, str]]:
        """(article id, content hash) of articles fully stored for ``model_id``."""
        if "articles" not in self._ready:
            return set()
        return set(self.con.execute("select article_id, content_hash from articles where model_id = ?", [model_id]).fetchall())

    def add(self, tables: Tables, model_id: str) -> None:
        """Insert one chunk's rows atomically, replacing rows of the same articles; a
        Ctrl-C meanwhile takes effect once the chunk is committed (:func:`ctrl_c_deferred`)."""
        with ctrl_c_deferred():
            self._add(tables, model_id)

    def _add(self, tables: Tables, model_id: str) -> None:
        ids = [a["article_id"] for a in tables.articles]
        frames = {name: self._frame(name, getattr(tables, name), model_id) for name in TABLES}
        for name, df in frames.items():
            self._ensure(name, df)
        self.con.execute("begin transaction")
        try:
            if ids:
                self.con.register("_ids", pd.DataFrame({"article_id": ids}))
                for name in TABLES:
                    if name == "errors":
                        continue
                    self.con.execute(f'delete from "{name}" where model_id = ? and article_id in (select article_id from _ids)', [model_id])
                self.con.unregister("_ids")
            err = frames["errors"]
            if len(err):
                self.con.register("_err", err)
                self.con.execute('delete from errors where (path, coalesce(line, -1), reason) in (select path, coalesce(line, -1), reason from _err)')
                self.con.unregister("_err")
            self.con.execute("insert or replace into models values (?, current_timestamp)", [model_id])
            for name in TABLES:  # articles last: an article is "done" only with all its rows
                if len(frames[name]):
                    self._insert(name, frames[name])
            self.con.execute("commit")
        except BaseException as exc:
            try:
                self.con.execute("rollback")
            except duckdb.Error:  # a failed write (disk full) may have ended the transaction already
                pass
            if is_disk_full(exc):
                raise DiskFull(f"disk full while adding to the store {self.path}; it keeps the "
                               f"{self.n_articles(model_id)} articles stored before (this chunk was rolled back)") from None
            raise

    def _insert(self, name: str, df: pd.DataFrame) -> None:
        self.con.register("_new", df)
        try:
            self.con.execute(f'insert into "{name}" select * from _new')
        finally:
            self.con.unregister("_new")

    def n_articles(self, model_id: str | None = None) -> int:
        """Articles fully stored (for ``model_id``, or for every model)."""
        if "articles" not in self._ready:
            return 0
        try:
            if model_id is None:
                return self.con.execute("select count(*) from articles").fetchone()[0]
            return self.con.execute("select count(*) from articles where model_id = ?", [model_id]).fetchone()[0]
        except duckdb.Error:
            return 0

    def models(self) -> list[str]:
        """Model ids in the store, most recently used first."""
        return [r[0] for r in self.con.execute("select model_id from models order by last_added desc").fetchall()]

    def counts(self) -> dict[str, int]:
        return {n: self.con.execute(f'select count(*) from "{n}"').fetchone()[0] for n in TABLES if n in self._ready}

    def query(self, name: str, *, since: str | None = None, until: str | None = None, actor: str | None = None,
              topic: str | None = None, model_id: str | None = None, batch_rows: int = 50_000) -> Iterator[pd.DataFrame]:
        """Stream a table, filtered by model, article date (its day), actor code and topic id."""
        if name not in self._ready:
            return
        cols = [r[0] for r in self.con.execute("select column_name from information_schema.columns where table_name = ? order by ordinal_position", [name]).fetchall()]
        where, params = [], []
        if model_id and "model_id" in cols:
            where.append("t.model_id = ?")
            params.append(model_id)
        if since or until:
            if name == "errors":
                where.append("false")
            else:
                cond = "1=1"
                # dates may carry a time (2024-03-01T10:00:00): compare the day
                if since:
                    cond += " and substr(a.date, 1, 10) >= ?"
                    params.append(since)
                if until:
                    cond += " and substr(a.date, 1, 10) <= ?"
                    params.append(until)
                where.append(f"t.article_id in (select a.article_id from articles a where a.date <> '' and {cond})")
        if actor:
            if "actor_a" in cols:
                where.append("(t.actor_a = ? or t.actor_b = ?)")
                params += [actor, actor]
            elif "actors" in cols:
                where.append("list_contains(string_split(t.actors, ';'), ?)")
                params.append(actor)
            else:
                where.append("t.article_id in (select article_id from records where actor_a = ? or actor_b = ?)")
                params += [actor, actor]
        if topic:
            if "topic" in cols:
                where.append("t.topic = ?")
                params.append(topic)
            elif "topics" in cols:
                where.append("list_contains(string_split(t.topics, ';'), ?)")
                params.append(topic)
            else:
                where.append("t.article_id in (select article_id from records where topic = ?)")
                params.append(topic)
        order = {"errors": "path, line"}.get(name, "article_id")
        sql = f'select * from "{name}" t' + (" where " + " and ".join(where) if where else "") + f" order by {order}"
        rel = self.con.sql(sql, params=params)
        # a relation streams Arrow batches without an extra copy; DuckDB >= 1.4 names the
        # method to_arrow_reader, older releases record_batch
        reader = rel.to_arrow_reader(batch_rows) if hasattr(rel, "to_arrow_reader") else rel.record_batch(batch_rows)
        for batch in reader:
            df = batch.to_pandas()
            if name in _NEEDS_MODEL and "model_id" in df.columns:
                df = df.drop(columns=["model_id"])
            yield df
