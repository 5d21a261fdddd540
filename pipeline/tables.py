"""Hand-made tables: which column is the topic, which belongs to which actor.

A header cell is read with the rules in ``corpus/config/table_headers.csv`` (a topic
column such as "Strategic Element" / "Policy Area" / "Dialogue Focus"; a column of no
actor such as "Potential Outcome"); any other header names its actor through the actor
vocabulary ("US Approach" -> USA, "Russian Response" -> RUS). The row's topic cell is
mapped to the taxonomy with the topic ruler.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language

from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, Prediction, Table
from pipeline.recognition import ACTOR_KEY, EXCLUDE, TOPIC_KEY, doc_matches


@dataclass(frozen=True)
class HeaderRule:
    pattern: re.Pattern
    role: str


def read_header_rules(settings: Settings | None = None) -> list[HeaderRule]:
    settings = settings or load_settings()
    path: Path = settings.path("vocab", "table_headers")
    rules = []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            rules.append(HeaderRule(re.compile(row["pattern"], re.I), row["role"].strip()))
    return rules


@dataclass(frozen=True)
class TableLayout:
    topic_column: int | None
    actor_columns: tuple[tuple[int, str], ...]  # (column index, actor code)
    other_columns: tuple[int, ...]


def _first(doc, key: str) -> str | None:
    return next((label for label, _, _ in doc_matches(doc, key) if label != EXCLUDE), None)


def read_layout(table: Table, nlp: Language, rules: list[HeaderRule]) -> TableLayout:
    """Decide the role of each column of a table from its header cells."""
    topic_col, actors, others = None, [], []
    docs = list(nlp.pipe(table.header))
    for i, (cell, doc) in enumerate(zip(table.header, docs)):
        actor = _first(doc, ACTOR_KEY)
        role = next((r.role for r in rules if r.pattern.search(cell)), "actor")
        if actor and role != "none":
            actors.append((i, actor))  # "US Focus", "Russian Response": the actor wins
        elif role == "topic" and topic_col is None:
            topic_col = i
        else:
            others.append(i)
    if topic_col is None and 0 in others and len(table.header) > 1:
        # by convention the first column names what the row is about
        topic_col = 0
        others.remove(0)
    return TableLayout(topic_col, tuple(actors), tuple(others))


def table_rows(
    article: Article,
    nlp: Language,
    rules: list[HeaderRule],
    row_predictions: dict[tuple[int, int], Prediction],
    *,
    context: tuple[str, str] | None,
) -> list[dict]:
    """Rows of ``tables.csv`` for one article."""
    out = []
    for table in article.tables:
        layout = read_layout(table, nlp, rules)
        actors = list(layout.actor_columns)
        if len(actors) < 2 and context:
            # a table with one or no actor column speaks about the article's main pair
            named = {code for _, code in actors}
            fill = [c for c in context if c not in named]
            actors += [(-1, c) for c in fill][: 2 - len(actors)]
        (ca, a), (cb, b) = (actors + [(-1, ""), (-1, "")])[:2]
        if a and b and b < a:
            (ca, a), (cb, b) = (cb, b), (ca, a)
        topic_cells = [row.cells[layout.topic_column] if layout.topic_column is not None and layout.topic_column < len(row.cells) else "" for row in table.rows]
        topic_docs = list(nlp.pipe(topic_cells))
        for row, tcell, tdoc in zip(table.rows, topic_cells, topic_docs):
            p = row_predictions.get((table.index, row.index))
            cell = lambda i: row.cells[i] if 0 <= i < len(row.cells) else ""  # noqa: E731
            others = "; ".join(f"{table.header[i]}: {cell(i)}" for i in layout.other_columns if i < len(table.header) and cell(i))
            out.append({
                "article_id": article.id, "table_index": table.index, "row_index": row.index, "section": table.section,
                "header": ";".join(table.header), "topic_cell": tcell, "topic": _first(tdoc, TOPIC_KEY) or "",
                "actor_a": a, "actor_b": b,
                "column_a": table.header[ca] if ca >= 0 else "", "column_b": table.header[cb] if cb >= 0 else "",
                "position_a": cell(ca) if ca >= 0 else "", "position_b": cell(cb) if cb >= 0 else "",
                "other_cells": others,
                "stance": p.stance if p else "neutral", "score": round(p.score, 6) if p else 0.0,
                "p_convergence": round(p.p_convergence, 6) if p else 0.0, "p_divergence": round(p.p_divergence, 6) if p else 0.0,
                "p_neutral": round(p.p_neutral, 6) if p else 1.0, "text": row.text,
            })
    return out
