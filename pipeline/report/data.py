"""What the report shows, read from a run's output folder or from a store, filtered.

Both sources become the same DuckDB views (``records``, ``articles``, ``errors``,
``tables``, ``check``, ``sentences``), so every figure of the report is one SQL query
whatever the source: a folder of CSV / JSONL / Parquet tables (or the ``NAME/part-*``
folders of a Dask run), or a store written by ``stance run --store`` (rows of one model).
The filters (actor, topic, dates) are applied once, in the views.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.export import is_formula
from pipeline.schemas import SCHEMAS

TABLES = ("records", "articles", "errors", "tables", "check", "sentences")
_FORMATS = {"csv": "read_csv", "jsonl": "read_json", "parquet": "read_parquet"}


class ReportError(RuntimeError):
    """The report cannot be built from this source (one line for the user)."""


@dataclass(frozen=True)
class Filters:
    actor: str | None = None
    topic: str | None = None
    since: str | None = None
    until: str | None = None

    def describe(self) -> str:
        parts = [f"{k} {v}" for k, v in (("actor", self.actor), ("topic", self.topic),
                                          ("since", self.since), ("until", self.until)) if v]
        return ", ".join(parts) or "none"


def _table_file(folder: Path, name: str) -> tuple[str, str] | None:
    """(reader function, path or glob) of table ``name`` in a run's output folder."""
    for fmt, reader in _FORMATS.items():
        single = folder / f"{name}.{fmt}"
        if single.is_file():
            return reader, str(single)
        parts = folder / name
        if parts.is_dir() and any(parts.glob(f"part-*.{fmt}")):
            return reader, str(parts / f"part-*.{fmt}")
    return None


def _select(name: str, available: set[str]) -> str:
    """A select list giving table ``name`` its schema's columns and types (text as
    VARCHAR with no NULLs, numbers cast), whatever types the reader guessed."""
    out = []
    for col, spec in SCHEMAS[name].columns.items():
        q = f'"{col}"'
        dtype = str(spec.dtype)
        if col not in available:
            out.append(("NULL" if dtype != "str" else "''") + f" AS {q}")
        elif dtype == "Int64":
            out.append(f"TRY_CAST({q} AS BIGINT) AS {q}")
        elif dtype.startswith("float"):
            out.append(f"TRY_CAST({q} AS DOUBLE) AS {q}")
        else:
            out.append(f"COALESCE(CAST({q} AS VARCHAR), '') AS {q}")
    return ", ".join(out)


def unneutralise(text: str) -> str:
    """Undo the CSV writer's formula guard (a ``'`` before ``=``, ``+``, ``-`` …)."""
    if isinstance(text, str) and text.startswith("'") and is_formula(text[1:]):
        return text[1:]
    return text


@dataclass
class ReportData:
    """An in-memory DuckDB connection whose views hold the filtered tables."""

    con: duckdb.DuckDBPyConnection
    source: str
    filters: Filters
    run_info: dict = field(default_factory=dict)
    model_id: str = ""
    neutralised: bool = False  # CSV input: text cells may carry the formula guard

    @classmethod
    def from_outdir(cls, folder: Path, filters: Filters) -> "ReportData":
        folder = Path(folder)
        if not folder.is_dir():
            raise ReportError(f"{folder}: no such output folder")
        found = {name: _table_file(folder, name) for name in TABLES}
        if not found["records"] or not found["articles"]:
            raise ReportError(f"{folder}: not a stance run output folder (no records / articles table)")
        con = duckdb.connect()
        for name, spec in found.items():
            if spec is None:
                con.execute(f'create view "raw_{name}" as select {_select(name, set())} where false')
                continue
            reader, path = spec
            opts = ", all_varchar = true, header = true" if reader == "read_csv" else ""
            if reader == "read_json":
                opts = ", format = 'newline_delimited'"
            src = f"{reader}('{path.replace(chr(39), chr(39) * 2)}'{opts})"
            try:
                cols = {r[0] for r in con.execute(f"describe select * from {src}").fetchall()}
            except duckdb.Error as exc:
                raise ReportError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from None
            con.execute(f'create view "raw_{name}" as select {_select(name, cols)} from {src}')
        info = {}
        if (folder / "run.json").is_file():
            try:
                info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
        model_id = str((info.get("model") or {}).get("id", "")) if isinstance(info, dict) else ""
        self = cls(con, str(folder), filters, info if isinstance(info, dict) else {}, model_id,
                   neutralised=any(s and s[0] == "read_csv" for s in found.values()))
        self._filter()
        return self

    @classmethod
    def from_store(cls, path: Path, filters: Filters, model_id: str | None = None) -> "ReportData":
        path = Path(path)
        if not path.is_file():
            raise ReportError(f"{path}: no such store")
        con = duckdb.connect()
        try:
            con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as store (read_only)")
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            if "lock" in first.lower():
                raise ReportError(f"{path}: the store is in use by another process (a run writing to it); try again when it ends") from None
            raise ReportError(f"{path}: not a readable stance store ({first})") from None
        have = {r[0] for r in con.execute("select table_name from information_schema.tables where table_catalog = 'store'").fetchall()}
        if "records" not in have or "articles" not in have:
            raise ReportError(f"{path}: not a stance store (no records / articles table)")
        if not model_id and "models" in have:
            row = con.execute("select model_id from store.models order by last_added desc limit 1").fetchone()
            model_id = row[0] if row else ""
        for name in TABLES:
            if name not in have:
                con.execute(f'create view "raw_{name}" as select {_select(name, set())} where false')
                continue
            cols = {r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_catalog = 'store' and table_name = ?", [name]).fetchall()}
            where = " where model_id = $m" if "model_id" in cols and model_id else ""
            sql = f'create view "raw_{name}" as select {_select(name, cols)} from store."{name}"{where}'
            con.execute(sql.replace("$m", "'" + model_id.replace("'", "''") + "'"))
        self = cls(con, str(path), filters, {}, model_id or "")
        self._filter()
        return self

    # -- filtered views ----------------------------------------------------------------
    def _filter(self) -> None:
        """The filtered tables, materialised once (a view over a CSV file would re-read
        the file on every query); the sentence table stays a view over its file, read
        once for the article pages (:meth:`load_sentences`)."""
        f, con = self.filters, self.con
        date_cond = ["1=1"]
        if f.since:
            date_cond.append(f"substr(date, 1, 10) >= '{f.since}'")
        if f.until:
            date_cond.append(f"substr(date, 1, 10) <= '{f.until}'")
        dated = " and ".join(date_cond)
        if f.since or f.until:
            dated = f"date <> '' and {dated}"
        con.execute(f"create temp table art_dated as select * from raw_articles where {dated}")
        rec_cond = ["1=1"]
        if f.actor:
            a = f.actor.replace("'", "''")
            rec_cond.append(f"(r.actor_a = '{a}' or r.actor_b = '{a}')")
        if f.topic:
            rec_cond.append(f"r.topic = '{f.topic.replace(chr(39), chr(39) * 2)}'")
        con.execute(
            "create temp table records as select r.*, a.date as date, substr(a.date, 1, 7) as month, "
            "r.actor_a || '–' || r.actor_b as pair from raw_records r "
            "join art_dated a using (article_id) where " + " and ".join(rec_cond))
        if f.actor or f.topic:
            con.execute("create temp table articles as select * from art_dated where article_id in (select article_id from records)")
        else:
            con.execute("create temp table articles as select * from art_dated")
        con.execute("create temp table tables as select * from raw_tables where article_id in (select article_id from articles)")
        topic = f" and topic = '{f.topic.replace(chr(39), chr(39) * 2)}'" if f.topic else ""
        con.execute(f"create temp table check_rows as select * from raw_check where article_id in (select article_id from articles){topic}")
        # errors have no date, actor or topic: a failed input is always shown
        con.execute("create temp table errors as select * from raw_errors")
        con.execute("create temp table sentences as select * from raw_sentences where false")

    def load_sentences(self, article_ids: list[str]) -> None:
        """Read the sentences of these articles (one pass over the sentence table)."""
        self.con.execute("insert into sentences select * from raw_sentences where article_id in (select unnest(?))",
                         [list(article_ids)])

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        out = self.con.execute(sql, params or []).df()
        if self.neutralised and len(out):
            for col in out.columns:
                if out[col].dtype == object or str(out[col].dtype).startswith("str"):
                    guarded = out[col].str.startswith("'", na=False)
                    if guarded.any():
                        out.loc[guarded, col] = out.loc[guarded, col].map(unneutralise)
        return out

    def scalar(self, sql: str, params: list | None = None):
        return self.con.execute(sql, params or []).fetchone()[0]

    def close(self) -> None:
        self.con.close()
