"""HTML pages: the article body and its ``<table>`` elements, via selectolax (lexbor).

Scripts, styles, navigation, headers, footers, asides and forms are dropped. The body
is taken from ``<article>``, else ``<main>``, else ``<body>``. Block elements become
lines of a text whose layout the text parser reads: ``h1``-``h6`` become headings,
``li`` bullets, ``p`` paragraphs and each outermost ``table`` a markdown table (a table
nested in a cell contributes its text to that cell).
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

_DROP = "script, style, noscript, template, nav, header, footer, aside, form, iframe, svg, button"
_BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "table", "blockquote", "pre", "dd", "dt", "figcaption"}
_CONTAINERS = {"div", "section", "article", "main", "ul", "ol", "dl", "figure", "body", "center", "details", "summary", "address"}
_WS = re.compile(r"\s+")


def _clean(s: str) -> str:
    return _WS.sub(" ", s or "").strip()


def _cell(text: str) -> str:
    return _clean(text).replace("|", "\\|")


def _table_lines(table) -> list[str]:
    rows = []
    for tr in table.css("tr"):
        # only rows of this table, not of a table nested inside it
        owner = tr.parent
        while owner is not None and owner.tag != "table":
            owner = owner.parent
        if owner is not None and owner.mem_id != table.mem_id:
            continue
        cells = [_cell(c.text(separator=" ")) for c in tr.iter() if c.tag in ("td", "th")]
        if any(cells):
            rows.append(cells)
    if not rows:
        return []
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return out


def html_to_text(html: str) -> tuple[str | None, str]:
    """Return (title, layout text) of an HTML page."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _clean(title_node.text()) if title_node else None
    for node in tree.css(_DROP):
        node.decompose()
    root = tree.css_first("article") or tree.css_first("main") or tree.body or tree.root
    if root is None:
        return title, ""
    h1 = root.css_first("h1")
    if h1 is not None and _clean(h1.text()):
        title = _clean(h1.text())
    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        t = _clean(" ".join(buf))
        buf.clear()
        if t:
            lines.extend(["", t, ""])

    def walk(node, depth: int = 0) -> None:
        if depth > 400:
            raise ValueError("HTML nested more than 400 levels deep")
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":  # text directly inside a container: part of a paragraph
                buf.append(child.text(deep=False))
                continue
            if tag == "br":
                flush()
                continue
            if tag == "table":
                flush()
                lines.extend([""] + _table_lines(child) + [""])
                continue
            inner = {g.tag for g in child.traverse(include_text=False)} - {tag}
            if tag in _BLOCKS:
                flush()
                if tag == "h1" and _clean(child.text()) == title:
                    continue
                # a block that holds other blocks (blockquote > p, li > ul): descend;
                # a list item that only wraps a paragraph stays one bullet
                nested = {"li", "table"} if tag == "li" else _BLOCKS | _CONTAINERS
                if inner & nested:
                    walk(child, depth + 1)
                    continue
                t = _clean(child.text(separator=" "))
                if not t:
                    continue
                if tag == "li":
                    lines.append("- " + t)
                elif tag.startswith("h"):
                    lines.extend(["", t.rstrip(".:"), ""])
                else:
                    lines.extend(["", t, ""])
            elif tag in _CONTAINERS or inner & (_BLOCKS | _CONTAINERS | {"table"}):
                flush()
                walk(child, depth + 1)
                flush()
            else:  # inline element (a, span, b, em ...): its text joins the paragraph
                buf.append(child.text(separator=" "))

    walk(root)
    flush()
    if not any(l.strip() for l in lines):
        text = _clean(root.text(separator=" "))
        return title, text
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return title, text
