"""Writing output tables: CSV (RFC 4180), JSONL or Parquet, streamed and atomic.

* CSV is UTF-8, quoted where needed (RFC 4180, ``"`` doubled), one header line; lists are
  joined with ``;`` upstream; a text cell that a spreadsheet would run as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, tab or CR, also after leading blanks or line
  breaks and in the full-width forms ``＝＋－＠``) is prefixed with ``'``.
* :func:`write_delimited` writes the same neutralised cells to a stream (``stance segment``
  on stdout).
* Rows are appended chunk by chunk to ``NAME.EXT.partial`` and renamed to ``NAME.EXT``
  only when the run finishes (:meth:`OutputSet.commit`): an interrupted run leaves no
  half-written table under the final name.
"""

from __future__ import annotations

import csv
import json
import os
import unicodedata
from pathlib import Path
from typing import IO

import pandas as pd

from pipeline.schemas import frame

FORMATS = ("csv", "jsonl", "parquet")
#: ``--format plover``: every table as JSONL, plus ``plover.jsonl`` (the records as PLOVER-style events)
RUN_FORMATS = FORMATS + ("plover",)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset("=+-@")
# cells worth a closer look: a first character that is not plain printable ASCII (blanks,
# line breaks, full-width forms, a BOM ...) or an ASCII formula character; most text cells
# start with a letter or digit and are passed by this one vectorised test
_CANDIDATE = r"^(?:[^\x21-\x7e]|[=+\-@])"


def is_formula(value) -> bool:
    """Would a spreadsheet run this cell? ``=`` ``+`` ``-`` ``@`` (or their full-width and
    other compatibility forms, folded with NFKC) after any leading blanks, line breaks or
    invisible format characters (BOM, zero-width space); or a leading tab or CR."""
    if not isinstance(value, str) or not value:
        return False
    if value.startswith(_FORMULA_START):
        return True
    for ch in value:
        if ch.isspace() or unicodedata.category(ch) == "Cf":
            continue
        return ch in _FORMULA_CHARS or (ord(ch) > 0x7F and unicodedata.normalize("NFKC", ch)[:1] in _FORMULA_CHARS)
    return False


def neutralise(value: str) -> str:
    """Make a cell safe to open in a spreadsheet (OWASP CSV-injection advice)."""
    if is_formula(value):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            s = out[col]
            # a vectorised test first; only its few candidates are checked one by one
            cand = s.str.contains(_CANDIDATE, regex=True).fillna(False).astype(bool)
            if cand.any():
                risky = pd.Series(False, index=s.index)
                risky[cand] = s[cand].map(is_formula).astype(bool)
                if risky.any():  # only the few risky cells are rewritten
                    out[col] = s.where(~risky, "'" + s.astype(str))
    return out


def write_delimited(df: pd.DataFrame, stream: IO[str], *, header: bool = True, delimiter: str = "\t") -> None:
    """Write a (validated) frame as delimited text to a text stream, its cells neutralised
    as in the CSV files; quoted only where needed (RFC 4180: a cell with the delimiter, a
    quote or a line break is quoted, inner quotes doubled); lines end with LF."""
    w = csv.writer(stream, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    if header:
        w.writerow(df.columns)
    clean = neutralise_frame(df).astype(object).where(df.notna(), "")
    w.writerows(clean.itertuples(index=False, name=None))


def csv_text(df: pd.DataFrame) -> str:
    """A frame as the text of a user-facing CSV: cells neutralised against formulas,
    minimal quoting, CRLF line ends (classify, annotate, agreement files)."""
    return neutralise_frame(df).to_csv(index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class TableWriter:
    """Append validated chunks of one table to a partial file; commit renames it.

    Row dicts are buffered and validated and written as one frame once ``buffer_rows`` rows
    or ``buffer_writes`` calls have accumulated (and at commit): building, validating and
    writing a frame has a fixed cost per call that, per 100-article chunk, was as large as
    the work on the rows themselves.
    """

    def __init__(self, folder: Path, name: str, fmt: str = "csv", schema: str | None = None,
                 buffer_rows: int = 5_000, buffer_writes: int = 20):
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        self.name, self.fmt, self.schema = name, fmt, schema or name
        self.final = Path(folder) / f"{name}.{fmt}"
        self.partial = self.final.with_name(self.final.name + ".partial")
        self.final.parent.mkdir(parents=True, exist_ok=True)
        if self.partial.exists():
            self.partial.unlink()
        self.rows = 0
        self._parquet = None
        self._csv = None
        self._started = False
        self.buffer_rows, self.buffer_writes = buffer_rows, buffer_writes
        self._buffer: list[dict] = []
        self._writes = 0

    def write(self, rows: list[dict] | pd.DataFrame) -> None:
        if isinstance(rows, pd.DataFrame):
            self.flush()
            self._write(rows)
            return
        self._buffer.extend(rows)
        self._writes += 1
        if len(self._buffer) >= self.buffer_rows or self._writes >= self.buffer_writes:
            self.flush()

    def flush(self) -> None:
        """Validate and write the buffered rows."""
        self._writes = 0
        if self._buffer:
            rows, self._buffer = self._buffer, []
            self._write(frame(self.schema, rows))

    def _write(self, df: pd.DataFrame) -> None:
        if self.fmt == "csv":
            # Arrow's CSV writer (C++) is ~10x faster than DataFrame.to_csv; it quotes every
            # text cell, doubles embedded quotes and ends lines with CRLF (RFC 4180)
            import pyarrow as pa
            import pyarrow.csv as pacsv

            table = pa.Table.from_pandas(neutralise_frame(df), preserve_index=False)
            if self._csv is None:
                self._csv_schema = table.schema
                self._csv = pacsv.CSVWriter(str(self.partial), table.schema, write_options=pacsv.WriteOptions(
                    quoting_style="needed", quoting_header="none", eol="\r\n"))
            self._csv.write_table(table.cast(self._csv_schema))
        elif self.fmt == "jsonl":
            with open(self.partial, "a" if self._started else "w", encoding="utf-8") as fh:
                for rec in df.to_dict(orient="records"):
                    clean = {k: (None if v is pd.NA or (isinstance(v, float) and v != v) else v) for k, v in rec.items()}
                    fh.write(json.dumps(clean, ensure_ascii=False, default=str, allow_nan=False) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(df, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.partial, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self._started = True
        self.rows += len(df)

    def _close(self) -> None:
        for attr in ("_parquet", "_csv"):
            w = getattr(self, attr)
            if w is not None:
                w.close()
                setattr(self, attr, None)

    def commit(self) -> Path:
        self.flush()
        if not self._started:
            self._write(frame(self.schema, []))
        self._close()
        os.replace(self.partial, self.final)
        return self.final

    def abort(self) -> None:
        self._buffer = []
        self._close()
        if self.partial.exists():
            self.partial.unlink()


class JsonlWriter:
    """Lines of JSON objects (no schema) to ``NAME.jsonl.partial``, renamed on commit."""

    def __init__(self, folder: Path, name: str):
        self.final = Path(folder) / f"{name}.jsonl"
        self.partial = self.final.with_name(self.final.name + ".partial")
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.partial, "w", encoding="utf-8")
        self.rows = 0

    def write(self, rows: list[dict]) -> None:
        for r in rows:
            self._fh.write(json.dumps(r, ensure_ascii=False, allow_nan=False, default=str) + "\n")
        self.rows += len(rows)

    def commit(self) -> Path:
        self._fh.close()
        os.replace(self.partial, self.final)
        return self.final

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        if self.partial.exists():
            self.partial.unlink()


class OutputSet:
    """The writers of one run: one :class:`TableWriter` per table name."""

    def __init__(self, folder: Path, names: tuple[str, ...], fmt: str = "csv", schemas: dict[str, str] | None = None):
        self.folder = Path(folder)
        self.writers = {n: TableWriter(self.folder, n, fmt, (schemas or {}).get(n)) for n in names}

    def write(self, name: str, rows) -> None:
        self.writers[name].write(rows)

    def commit(self) -> dict[str, Path]:
        # validate and write every table's buffer before renaming any of them: a schema
        # error in one table must leave no final file of the others
        for w in self.writers.values():
            w.flush()
        return {n: w.commit() for n, w in self.writers.items()}

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()

    def counts(self) -> dict[str, int]:
        return {n: w.rows for n, w in self.writers.items()}


class PartitionedOutputSet:
    """One file per chunk and table (``OUT/NAME/part-00000.EXT``), each written atomically:
    the layout Dask, Spark and Arrow readers expect for partitioned data."""

    def __init__(self, folder: Path, names: tuple[str, ...], fmt: str = "csv"):
        self.folder, self.names, self.fmt = Path(folder), names, fmt
        self.rows = dict.fromkeys(names, 0)
        self.parts = 0
        for n in names:
            d = self.folder / n
            if d.is_dir():  # a previous run's parts would mix with this run's
                for old in d.glob("part-*"):
                    old.unlink()

    def write_part(self, index: int, tables) -> None:
        for n in self.names:
            w = TableWriter(self.folder / n, f"part-{index:05d}", self.fmt, schema=n)
            w.write(getattr(tables, n))
            w.commit()
            self.rows[n] += w.rows
        self.parts += 1

    def commit(self) -> dict[str, Path]:
        return {n: self.folder / n for n in self.names}

    def abort(self) -> None:
        pass  # finished parts are complete files; an unfinished part was never renamed

    def counts(self) -> dict[str, int]:
        return dict(self.rows)
