"""Recognition stage: actors and topics in sentences, with spaCy ``SpanRuler``.

Actors (``corpus/vocab/actors.csv``) match case-sensitively on ``ORTH`` (so ``US`` the
country is not ``us`` the pronoun), with an upper-case variant of every alias except
person names for all-caps headlines; exclusions (``actor_exclusions.csv``: "Washington Post" …) are
matched too and win as the longer span, then dropped. Topics (``topics.csv``) match
case-insensitively on ``LOWER``. Both rulers are added to the segmentation ``nlp`` so
that one ``nlp.pipe`` pass segments and recognises.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span

from pipeline.config import Settings, load_settings
from pipeline.contracts import Mention

EXCLUDE = "_NOT_ACTOR"
ACTOR_KEY, TOPIC_KEY = "actors", "topics"


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(row for row in fh if not row.startswith("#"))]


def actor_patterns(settings: Settings) -> list[dict]:
    """SpanRuler phrase patterns for actors (and their exclusions)."""
    seen, patterns = set(), []

    def add(label: str, text: str) -> None:
        text = text.strip()
        if text and (label, text) not in seen:
            seen.add((label, text))
            patterns.append({"label": label, "pattern": text})

    for row in _read_csv(settings.path("vocab", "actors")):
        alias, code = row.get("alias", ""), row.get("code", "").strip()
        if not alias or not code:
            continue
        add(code, alias)
        # all-caps variants for headlines ("U.S. WHEAT BONUS TO SOVIET"); person names
        # (19k of them) are left out, which halves the patterns to load at start-up
        if alias.upper() != alias and row.get("kind") != "person":
            add(code, alias.upper())
        if alias.startswith("the ") and alias[4:5].isupper():
            add(code, "The " + alias[4:])
    excl = settings.path("vocab", "actor_exclusions")
    if excl.exists():
        for row in _read_csv(excl):
            phrase = row.get("phrase", "")
            add(EXCLUDE, phrase)
            if phrase.upper() != phrase:
                add(EXCLUDE, phrase.upper())
    return patterns


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    aliases: tuple[str, ...]


def read_topics(settings: Settings) -> list[Topic]:
    out = []
    for row in _read_csv(settings.path("vocab", "topics")):
        aliases = tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip())
        label = (row.get("label") or "").strip()
        tid = row["topic"].strip()
        out.append(Topic(tid, label, aliases + ((label,) if label else ()) + (tid.replace("_", " "),)))
    return out


def topic_patterns(settings: Settings) -> list[dict]:
    seen, patterns = set(), []
    for topic in read_topics(settings):
        for alias in topic.aliases:
            key = (topic.id, alias.lower())
            if key not in seen:
                seen.add(key)
                patterns.append({"label": topic.id, "pattern": alias.lower()})
    return patterns


def add_recognisers(nlp: Language, settings: Settings | None = None) -> Language:
    """Add the actor and topic rulers to a segmentation pipeline."""
    settings = settings or load_settings()
    longest = {"@misc": "spacy.first_longest_spans_filter.v1"}
    actors = nlp.add_pipe("span_ruler", name="actor_ruler",
                          config={"spans_key": ACTOR_KEY, "phrase_matcher_attr": "ORTH", "spans_filter": longest, "validate": False})
    with nlp.select_pipes(enable=[]):  # pattern texts only need the tokenizer
        actors.add_patterns(actor_patterns(settings))
    topics = nlp.add_pipe("span_ruler", name="topic_ruler",
                          config={"spans_key": TOPIC_KEY, "phrase_matcher_attr": "LOWER", "spans_filter": longest, "validate": False})
    with nlp.select_pipes(enable=[]):
        topics.add_patterns(topic_patterns(settings))
    # Tokenising ~40k pattern strings leaves the tokenizer's cache in a state that makes
    # every later call several times slower (measured: 1.3 s instead of 0.2 s on the same
    # text); a fresh tokenizer with the same rules and special cases does not have it.
    fresh = Tokenizer(nlp.vocab)
    fresh.from_bytes(nlp.tokenizer.to_bytes())
    nlp.tokenizer = fresh
    return nlp


def mentions(span: Span, base: int) -> list[Mention]:
    """Actor and topic mentions inside ``span`` (a sentence of a block Doc).

    ``base`` is the block's start offset in the article text, so that mention offsets
    point into the article text like every other offset.
    """
    doc: Doc = span.doc
    out = []
    for key, kind in ((ACTOR_KEY, "actor"), (TOPIC_KEY, "topic")):
        if key not in doc.spans:
            continue
        for m in doc.spans[key]:
            if m.label_ == EXCLUDE or m.start < span.start or m.end > span.end:
                continue
            out.append(Mention(kind, m.label_, base + m.start_char, base + m.end_char, m.text))
    out.sort(key=lambda m: (m.start, m.kind))
    return out


def codes(ms: list[Mention], kind: str) -> list[str]:
    """Distinct codes of one kind, in order of first mention."""
    seen: dict[str, None] = {}
    for m in ms:
        if m.kind == kind:
            seen.setdefault(m.code, None)
    return list(seen)
