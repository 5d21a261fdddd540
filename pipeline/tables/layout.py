"""Table layout: which column is the topic, which belongs to which actor.

A header cell is read with the rules in ``corpus/config/table_headers.csv`` (a topic
column such as "Strategic Element" / "Policy Area" / "Dialogue Focus"; a column of no
actor such as "Potential Outcome"); any other header names its actor through the actor
vocabulary ("US Approach" -> USA, "Russian Response" -> RUS).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pipeline._spacy  # noqa: F401  (spaCy without PyTorch)
from spacy.language import Language

from pipeline.config import Settings, load_settings
from pipeline.contracts import Table
from pipeline.recognition import ACTOR_KEY, EXCLUDE, doc_matches


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
