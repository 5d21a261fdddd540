"""Layout of plain-text / markdown articles: title, headings, paragraphs, bullets, tables.

Works line by line on the normalised text and records the character offsets of every
block, so ``text[block.start:block.end] == block.text``. The rules follow how articles
like the seed are written:

* the first short line without final punctuation is the title (when the input has no
  title of its own); later such standalone lines are section headings;
* ``- `` / ``* `` / ``• `` / ``1.`` lines are bullets; ``Label: description`` keeps the label;
* a markdown pipe table is a header line, a ``|---|`` separator line and rows;
* other lines are paragraphs. Hard-wrapped lines (a line that does not end a sentence,
  or a next line that starts in lower case) continue the paragraph, as in wire copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.contracts import Block, Table, TableRow

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")  # markdown "## Heading"
_BOLD = re.compile(r"^(\*\*|__)(?=\S)(.+?)(?<=\S)\1$")  # a line that is all bold: "**Reactions**"
_BULLET = re.compile(r"^(\s*)(?:[-*•‣◦▪]|\d{1,3}[.)])\s+(?=\S)")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LABEL = re.compile(r"^([^:.!?]{1,80}?):\s+(?=\S)")
_FINAL = re.compile(r"[.!?:;,…]['\"”’)\]]*$")
_SENTENCE_END = re.compile(r"[.!?…]['\"”’)\]]*$|:$")


@dataclass(frozen=True)
class LayoutSettings:
    max_title_chars: int = 150
    max_heading_words: int = 16


@dataclass(frozen=True)
class _Line:
    start: int  # offset of first non-space character
    end: int  # offset after last non-space character
    text: str  # stripped line

    @property
    def blank(self) -> bool:
        return not self.text


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        start = pos + lead
        out.append(_Line(start, start + len(stripped), stripped))
        pos += len(raw) + 1
    return out


def split_cells(line: str) -> list[str]:
    """Cells of a markdown table line; escaped pipes (``\\|``) stay inside a cell."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [c.strip().replace("\\|", "|") for c in cells]


def _is_table_start(lines: list[_Line], i: int) -> bool:
    return (
        "|" in lines[i].text
        and i + 1 < len(lines)
        and "|" in lines[i + 1].text  # a bare "---" line is a rule, not a table separator
        and bool(_SEPARATOR.match(lines[i + 1].text))
        and "-" in lines[i + 1].text
    )


_OPEN_END = {"a", "an", "the", "to", "of", "by", "and", "or", "in", "on", "at", "for", "with", "from", "as",
             "that", "which", "who", "its", "their", "his", "her", "was", "were", "is", "are", "be", "has", "have", "said"}


def _headingish(line: _Line, settings: LayoutSettings) -> bool:
    t = line.text
    if not t or _FINAL.search(t) or _BULLET.match(t) or "|" in t:
        return False
    if t.rsplit(None, 1)[-1] in _OPEN_END:  # "... the provision for loan losses jumped to": a wrapped line
        return False
    if not (t[0].isupper() or t[0].isdigit() or t[0] in "\"“‘'"):
        return False
    return len(t.split()) <= settings.max_heading_words


def parse_layout(
    text: str,
    *,
    has_title: bool = False,
    settings: LayoutSettings = LayoutSettings(),
) -> tuple[list[Block], list[Table], list[str]]:
    """Split a normalised article text into blocks and tables.

    Parameters
    ----------
    text:
        The normalised article text.
    has_title:
        True when the text already starts with a title taken from metadata: the first
        line is then the title block and no other title is looked for.

    Returns
    -------
    (blocks, tables, warnings)
    """
    lines = _lines(text)
    blocks: list[Block] = []
    tables: list[Table] = []
    warnings: list[str] = []
    section = ""
    i, n = 0, len(lines)
    # hard-wrapped wire copy (many lines continue in lower case on the next line): there a
    # heading must be followed by a blank line, or every wrapped line before a name would be one
    nonblank = [k for k in range(n) if not lines[k].blank]
    wraps = sum(1 for k in nonblank if k + 1 < n and lines[k + 1].text[:1].islower() and not _SENTENCE_END.search(lines[k].text))
    hard_wrapped = len(nonblank) >= 5 and wraps / len(nonblank) >= 0.15

    def starts_block(j: int) -> bool:
        return (
            lines[j].blank
            or bool(_BULLET.match(lines[j].text))
            or _is_table_start(lines, j)
        )

    while i < n:
        line = lines[i]
        if line.blank:
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < n else None
        first = not blocks
        # -- tables ---------------------------------------------------------------
        if _is_table_start(lines, i):
            header = tuple(split_cells(line.text))
            j, rows = i + 2, []
            while j < n and not lines[j].blank and "|" in lines[j].text:
                cells = split_cells(lines[j].text)
                if len(cells) != len(header):
                    warnings.append(
                        f"table {len(tables)} row {len(rows)}: {len(cells)} cells, header has {len(header)}"
                    )
                    cells = (cells + [""] * len(header))[: max(len(header), len(cells))]
                rows.append(TableRow(len(rows), tuple(cells), lines[j].start, lines[j].end, lines[j].text))
                j += 1
            end = lines[j - 1].end
            tables.append(Table(len(tables), header, tuple(rows), section, line.start, end))
            blocks.append(Block("table", text[line.start:end], line.start, end, section, table_index=len(tables) - 1))
            i = j
            continue
        # -- bullets --------------------------------------------------------------
        m = _BULLET.match(line.text)
        if m:
            start = line.start + m.end()
            end, j = line.end, i + 1
            # an indented, non-bullet next line continues the bullet (soft wrap)
            while j < n and not starts_block(j) and text[lines[j].start - 1] in " \t" and not _headingish(lines[j], settings):
                end, j = lines[j].end, j + 1
            body = text[start:end]
            lm = _LABEL.match(body)
            blocks.append(Block("bullet", body, start, end, section, label=lm.group(1).strip() if lm else None))
            i = j
            continue
        # -- markdown headings ("# Title", "## Section", "**Section**") ----------------
        m = _ATX.match(line.text) or _BOLD.match(line.text)
        if m and m.group(2).strip():
            inner = m.group(2).strip()
            start = line.start + line.text.index(inner)
            end = start + len(inner)
            if first and not has_title and (m.group(1).startswith("#") and len(m.group(1)) == 1):
                blocks.append(Block("title", inner, start, end, ""))
            else:
                section = inner
                blocks.append(Block("heading", inner, start, end, section))
            i += 1
            continue
        # -- title and headings ---------------------------------------------------
        # a heading stands alone: what follows is a blank line, a new block or a capitalised
        # line; a next line in lower case or starting with a digit continues wrapped prose
        standalone = nxt is None or nxt.blank or starts_block(i + 1) or not (nxt.text[:1].islower() or nxt.text[:1].isdigit())
        if hard_wrapped and not (nxt is None or nxt.blank):
            standalone = False
        if standalone and _headingish(line, settings):
            if first and has_title:
                blocks.append(Block("title", line.text, line.start, line.end, ""))
            elif first and not has_title and len(line.text) <= settings.max_title_chars:
                blocks.append(Block("title", line.text, line.start, line.end, ""))
            else:
                section = line.text
                blocks.append(Block("heading", line.text, line.start, line.end, section))
            i += 1
            continue
        if first and has_title:
            # metadata title that looks like prose (e.g. ends with '?'): still the title
            blocks.append(Block("title", line.text, line.start, line.end, ""))
            i += 1
            continue
        # -- paragraphs -----------------------------------------------------------
        end, j = line.end, i + 1
        while j < n and not starts_block(j):
            prev_ends = bool(_SENTENCE_END.search(lines[j - 1].text))
            if prev_ends and not lines[j].text[:1].islower():
                break
            end, j = lines[j].end, j + 1
        blocks.append(Block("paragraph", text[line.start:end], line.start, end, section))
        i = j
    return blocks, tables, warnings
