"""Ingestion stage: paths in, :class:`~pipeline.contracts.Article` (or error entries) out.

``ingest(paths)`` streams: one file is read at a time, and a JSONL / CSV file one record
at a time, so a corpus of any size never sits in memory. Bad input never stops the
stream: it becomes an :class:`~pipeline.contracts.ErrorEntry` with the reason.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, ErrorEntry
from pipeline.ingestion.discover import discover, format_of
from pipeline.ingestion.html import html_to_text
from pipeline.ingestion.layout import LayoutSettings, parse_layout
from pipeline.ingestion.reading import InputError, content_hash, decode, normalise, sniff_binary, sniff_encoding

__all__ = ["ingest", "build_article", "discover", "unique_articles", "Item"]

Item = Article | ErrorEntry
_META = ("id", "title", "date", "source", "url")


def _iso_date(value) -> tuple[str | None, str | None]:
    """(ISO date or None, warning or None).

    Read: ISO 8601 (``2022-12-05``, ``2022-12-05T10:00:00Z``), RFC 2822 (``Mon, 05 Dec
    2022 10:00:00 GMT``) and the common news forms (``December 5, 2022``, ``5 December
    2022``, ``Dec. 5, 2022``, ``25/12/2022``) with ``dateutil``, not fuzzy. Nothing is
    invented: a date without its day, month or year (``December 2022``, ``December 5``)
    and a numeric date whose day and month could be swapped (``05/12/2022``) are left
    empty with a warning, as is anything that is not a date. A date with a time keeps it
    (``2022-12-05T10:00:00+00:00``); one without is a day (``2022-12-05``).
    """
    if value is None or value == "":
        return None, None
    import re
    import warnings
    from datetime import date, datetime
    from email.utils import parsedate_to_datetime

    s = str(value).strip()
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(s).isoformat(), None
        except ValueError:
            continue
    if re.search(r"\d{1,2}:\d{2}", s):  # RFC 2822 (e-mail, RSS) always has a time
        try:
            return parsedate_to_datetime(s).isoformat(), None
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    unread = f"date {s[:40]!r} is not a date (ISO 8601, RFC 2822 or e.g. 'December 5, 2022'); left empty"
    year = re.compile(r"(?<!\d)\d{4}(?!\d)")
    named = re.search(r"(?i)(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?![a-z])", s)
    if len(s) > 100 or not year.search(s):  # a four-digit year, or no date
        return None, f"date {s[:40]!r} has no year; left empty" if named else unread
    from dateutil.parser import ParserError, parse as parse_date

    # two defaults that differ in every field: a field that dateutil filled in from its
    # default differs between the two parses, a field read from the text does not
    defaults = (datetime(2000, 1, 1, 0, 0, 0), datetime(2004, 2, 2, 1, 1, 1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an unknown zone name ("EST") is dropped
            if not named and year.match(s):  # 2022/12/05: year, month, day
                a, b = (parse_date(s, default=d, fuzzy=False, yearfirst=True, dayfirst=False) for d in defaults)
            else:
                a, b = (parse_date(s, default=d, fuzzy=False) for d in defaults)
                # 25/12/2022 and 12/25/2022 are clear, 05/12/2022 is not
                if not named and parse_date(s, default=defaults[0], fuzzy=False, dayfirst=True).date() != a.date():
                    return None, f"date {s[:40]!r} is ambiguous (day and month could be swapped); left empty"
    except (ParserError, ValueError, OverflowError, TypeError):
        return None, unread
    if a.date() != b.date():
        missing = [f for f in ("year", "month", "day") if getattr(a, f) != getattr(b, f)]
        return None, f"date {s[:40]!r} has no {' or '.join(missing)}; left empty"
    if f"{a.year:04d}" not in year.findall(s):  # the year read is not the four digits written
        return None, unread
    if a.hour != b.hour:  # no time in the text
        return a.date().isoformat(), None
    return a.isoformat(), None


def build_article(
    body: str,
    *,
    path: str,
    meta: dict | None = None,
    line: int | None = None,
    settings: Settings | None = None,
    warnings: Iterable[str] = (),
) -> Article:
    """Make an Article from raw text and optional metadata (id, title, date, source, url).

    When a title comes with the metadata and the body does not start with it, the
    article text is ``title + "\\n\\n" + body`` so that the title is a block with offsets.
    """
    settings = settings or load_settings()
    meta = dict(meta or {})
    warns = list(warnings)
    body = normalise(body)
    if not body.strip():
        raise InputError("empty text")
    title = meta.get("title")
    if title is not None and not isinstance(title, str):
        warns.append(f"title is {type(title).__name__}, not text; ignored")
        title = None
    title = normalise(title).strip() if title else None
    if title and "\n" in title:
        title = " ".join(title.split())
    has_title = bool(title) and not body.lstrip().startswith(title)
    text = f"{title}\n\n{body}" if has_title else body
    # memory is bounded per article: its Doc, blocks and rows are held at once
    most = int(settings.get("ingest", "max_article_chars", 500_000))
    if len(text) > most:
        raise InputError(f"article of {len(text):,} characters (limit {most:,}, see [ingest] max_article_chars)")
    lay = LayoutSettings(
        max_title_chars=int(settings.get("ingest", "max_title_chars", 150)),
        max_heading_words=int(settings.get("ingest", "max_heading_words", 16)),
    )
    blocks, tables, lay_warns = parse_layout(text, has_title=has_title, settings=lay)
    warns.extend(lay_warns)
    limit = int(settings.get("ingest", "max_block_chars", 200_000))
    longest = max((b.end - b.start for b in blocks if b.kind != "table"), default=0)  # table rows are segmented one by one
    if longest > limit:
        raise InputError(f"a paragraph of {longest:,} characters (limit {limit:,}, see [ingest] max_block_chars)")
    if not title and blocks and blocks[0].kind == "title":
        title = blocks[0].text
    date, w = _iso_date(meta.get("date"))
    if w:
        warns.append(w)
    digest = content_hash(text)
    art_id = meta.get("id")
    if art_id is None or (isinstance(art_id, str) and not art_id.strip()):
        art_id = digest
    elif not isinstance(art_id, (str, int)):
        raise InputError(f"field 'id' is {type(art_id).__name__}, expected text")
    def opt(key):
        v = meta.get(key)
        return str(v) if v not in (None, "") and isinstance(v, (str, int, float)) else None
    return Article(
        id=str(art_id),  # kept exactly as given (" x" and "x" are two ids)
        path=path,
        text=text,
        blocks=tuple(blocks),
        tables=tuple(tables),
        title=title,
        date=date,
        source=opt("source"),
        url=opt("url"),
        line=line,
        content_hash=digest,
        warnings=tuple(warns),
    )


def _read_file(path: Path, settings: Settings) -> tuple[str, str | None]:
    limit = int(settings.get("ingest", "max_file_bytes", 20_000_000))
    with open(path, "rb") as fh:  # the limit holds while reading, whatever stat says
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"file too large (over {limit:,} bytes, see [ingest] max_file_bytes)")
    if not data.strip():
        raise InputError("empty file")
    if sniff_binary(data, int(settings.get("ingest", "binary_sniff_bytes", 8192))):
        raise InputError("binary file (NUL or control bytes), not text")
    return decode(data, settings.get("ingest", "fallback_encoding", "cp1252"))


def _from_record(rec, *, path: str, line: int, settings: Settings, warnings=()) -> Article:
    if not isinstance(rec, dict):
        raise InputError(f"record is a JSON {type(rec).__name__}, expected an object")
    text = rec.get("text")
    if not isinstance(text, str):
        raise InputError("field 'text' missing" if text is None else f"field 'text' is {type(text).__name__}, expected text")
    meta = {k: rec.get(k) for k in _META}
    return build_article(text, path=path, meta=meta, line=line, settings=settings, warnings=warnings)


def _bounded_lines(fh, limit: int, block: int = 1 << 16) -> Iterator[bytes | None]:
    """The lines of a binary file, none longer than ``limit`` in memory: a longer line is
    read past in blocks and yields None (so its line number still counts)."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # skip the rest of the line without holding it
                rest = fh.readline(block)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
        else:
            yield line


def _jsonl(path: Path, settings: Settings) -> Iterator[Item]:
    limit = int(settings.get("ingest", "max_record_bytes", 5_000_000))
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(_bounded_lines(fh, limit), start=1):
            if raw is not None and not raw.strip():
                continue
            try:
                if raw is None:
                    raise InputError(f"line too large (over {limit:,} bytes, see [ingest] max_record_bytes)")
                text, warn = decode(raw.rstrip(b"\r\n"))
                try:
                    rec = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise InputError(f"malformed JSON: {exc.msg} at column {exc.colno}") from None
                except (ValueError, RecursionError) as exc:  # e.g. a 5,000-digit number
                    raise InputError(f"malformed JSON: {exc}") from None
                item = _from_record(rec, path=str(path), line=lineno, settings=settings, warnings=[warn] if warn else [])
            except InputError as exc:
                item = ErrorEntry(str(path), str(exc), line=lineno)
            except Exception as exc:  # never let one record stop the batch
                item = ErrorEntry(str(path), f"unexpected {type(exc).__name__}: {exc}", line=lineno)
            yield item


def _csv(path: Path, settings: Settings) -> Iterator[Item]:
    limit = int(settings.get("ingest", "max_record_bytes", 5_000_000))
    csv.field_size_limit(max(limit, 131072))
    with open(path, "rb") as fb:
        head = fb.read(8192)
    if not head.strip():
        yield ErrorEntry(str(path), "empty file")
        return
    if sniff_binary(head):
        yield ErrorEntry(str(path), "binary file (NUL or control bytes), not CSV")
        return
    encoding, warn = sniff_encoding(path, settings.get("ingest", "fallback_encoding", "cp1252"))
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        try:
            fields = reader.fieldnames or []
        except csv.Error as exc:
            yield ErrorEntry(str(path), f"malformed CSV header: {exc}")
            return
        if "text" not in fields:
            yield ErrorEntry(str(path), f"no 'text' column (columns: {', '.join(fields)[:200]})")
            return
        last_line = -1
        while True:
            start_line = reader.line_num + 1  # the file line where this record starts
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield ErrorEntry(str(path), f"malformed CSV record: {exc}", line=start_line)
                if reader.line_num == last_line:  # no progress: stop rather than loop
                    break
                last_line = reader.line_num
                continue
            try:
                if None in row:
                    raise InputError(f"row has {len(fields) + len(row[None])} cells, header has {len(fields)}")
                item = _from_record(row, path=str(path), line=start_line, settings=settings, warnings=[warn] if warn else [])
            except InputError as exc:
                item = ErrorEntry(str(path), str(exc), line=start_line)
            except Exception as exc:
                item = ErrorEntry(str(path), f"unexpected {type(exc).__name__}: {exc}", line=start_line)
            yield item


def _single(path: Path, fmt: str, settings: Settings) -> Item:
    try:
        text, warn = _read_file(path, settings)
        title = None
        if fmt == "html":
            title, text = html_to_text(text)
            if not text.strip():
                raise InputError("no article text found in the HTML")
        meta = {"title": title} if title else {}
        return build_article(text, path=str(path), meta=meta, settings=settings, warnings=[warn] if warn else [])
    except InputError as exc:
        return ErrorEntry(str(path), str(exc))
    except OSError as exc:
        return ErrorEntry(str(path), f"cannot read: {exc.strerror or exc}")
    except (ValueError, RecursionError) as exc:  # e.g. HTML nested too deeply
        return ErrorEntry(str(path), f"cannot parse: {exc}")
    except Exception as exc:  # never let one file stop the batch
        return ErrorEntry(str(path), f"unexpected {type(exc).__name__}: {exc}")


def ingest(paths: Iterable[str | os.PathLike], settings: Settings | None = None) -> Iterator[Item]:
    """Stream the articles (and error entries) of the given files, folders and globs.

    Every input is accounted for: each file yields at least one Article or ErrorEntry,
    and each non-blank line of a JSONL file (row of a CSV file) exactly one.
    """
    settings = settings or load_settings()
    for found in discover(list(paths)):
        if isinstance(found, ErrorEntry):
            yield found
            continue
        fmt = format_of(found)
        try:
            if fmt == "jsonl":
                yield from _jsonl(found, settings)
            elif fmt == "csv":
                yield from _csv(found, settings)
            else:
                yield _single(found, fmt, settings)
        except OSError as exc:
            yield ErrorEntry(str(found), f"cannot read: {exc.strerror or exc}")


def unique_articles(items: Iterable[Item]) -> Iterator[Item]:
    """Let each article id through once per run: a repeat with the same text is skipped
    with a warning, a repeat with other text is an error (ids must identify articles)."""
    seen: dict[str, str] = {}
    for it in items:
        if isinstance(it, Article):
            first = seen.get(it.id)
            if first is not None:
                if first == it.content_hash:
                    yield ErrorEntry(it.path, f"duplicate of an earlier article with id {it.id!r}; skipped",
                                     line=it.line, article_id=it.id, severity="warning")
                else:
                    yield ErrorEntry(it.path, f"article id {it.id!r} already used by an earlier article with other text; skipped",
                                     line=it.line, article_id=it.id)
                continue
            seen[it.id] = it.content_hash
        yield it
