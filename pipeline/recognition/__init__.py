"""Recognition stage: actors and topics in sentences, with spaCy's ``PhraseMatcher``.

Actors (``corpus/vocab/actors.csv``) match case-sensitively on ``ORTH`` (so ``US`` the
country is not ``us`` the pronoun), with an upper-case variant of every alias except
person names for all-caps headlines; exclusions (``actor_exclusions.csv``: "Washington Post" …) are
matched too and win as the longer span, then dropped. Topics (``topics.csv``) match
case-insensitively on ``LOWER``. One ``vocab_matcher`` component holding both matchers is
added to the segmentation ``nlp``, so that one ``nlp.pipe`` pass segments and recognises.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pipeline._spacy  # noqa: F401  (spaCy without PyTorch)
from spacy.language import Language
from spacy.attrs import IDX, LENGTH
from spacy.matcher import PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span

from pipeline.config import Settings, load_settings
from pipeline.contracts import Mention

EXCLUDE = "_NOT_ACTOR"
MATCHES = "vocab_matches"  # doc.user_data key of the raw matches
ACTOR_KEY, TOPIC_KEY = "actors", "topics"


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(row for row in fh if not row.startswith("#"))]


def actor_patterns(settings: Settings) -> list[dict]:
    """Phrase patterns (label, text) for actors and their exclusions."""
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
        if "'" in alias:  # news writes the apostrophe curly as often as straight
            add(code, alias.replace("'", "’"))
        # all-caps variants for headlines ("U.S. WHEAT BONUS TO SOVIET"); person names
        # from the 2014 dictionary (19k of them) are left out, which halves the patterns to
        # load at start-up; the hand-listed office holders keep theirs ("TRUMP")
        if alias.upper() != alias and (row.get("kind") != "person" or row.get("source") == "manual"):
            add(code, alias.upper())
        # British and wire style writes organisation acronyms in title case: "Nato", "Opec"
        if row.get("kind") == "igo" and len(alias) >= 4 and alias.isalpha() and alias.isupper():
            add(code, alias.title())
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


class VocabMatcher:
    """Actors and topics in one pass: a ``PhraseMatcher`` per span key (actors on ``ORTH``,
    topics on ``LOWER``), overlaps resolved like ``SpanRuler``'s first-longest filter.

    The kept matches are stored as ``(label hash, start token, end token)`` tuples in
    ``doc.user_data[MATCHES]`` (read them with :func:`doc_matches` / :func:`doc_mentions`),
    and also as ``doc.spans[key]`` when ``set_spans`` is true. This does what two
    ``span_ruler`` components configured that way do, with less work per Doc: no empty token
    ``Matcher`` under a warnings guard, and no ``Span`` object per match unless asked for (on
    news text, building the spans cost as much as the matching). A test checks that both
    give the same spans.
    """

    def __init__(self, nlp: Language, name: str = "vocab_matcher", set_spans: bool = False):
        self.name = name
        self.vocab = nlp.vocab
        self.set_spans = set_spans
        self.matchers: dict[str, PhraseMatcher] = {}

    def add_patterns(self, key: str, attr: str, patterns: list[dict], make_doc) -> None:
        matcher = self.matchers.get(key)
        if matcher is None:
            matcher = self.matchers[key] = PhraseMatcher(self.vocab, attr=attr, validate=False)
        by_label: dict[str, list[str]] = {}
        for pat in patterns:
            by_label.setdefault(pat["label"], []).append(pat["pattern"])
        for label, texts in by_label.items():
            matcher.add(label, list(make_doc(texts)))

    def __call__(self, doc: Doc) -> Doc:
        found = {key: _first_longest(matcher(doc)) for key, matcher in self.matchers.items()}
        doc.user_data[MATCHES] = found
        if self.set_spans:
            for key, kept in found.items():
                doc.spans[key] = [Span(doc, start, end, label=lid) for lid, start, end in kept]
        return doc


def _first_longest(matches: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """spaCy's ``filter_spans`` on raw matches: longest first, then earliest (ties between
    labels in ``Span`` order); a match is kept if neither its first nor its last token is
    taken; the result is sorted by start."""
    if len(matches) < 2:
        return [m for m in matches if m[1] != m[2]]
    cands = sorted({m for m in matches if m[1] != m[2]}, key=lambda m: (m[1], m[2], m[0]))
    cands.sort(key=lambda m: (m[1] - m[2], m[1]))
    taken: set[int] = set()
    kept = []
    for m in cands:
        if m[1] not in taken and m[2] - 1 not in taken:
            kept.append(m)
            taken.update(range(m[1], m[2]))
    kept.sort(key=lambda m: m[1])
    return kept


@Language.factory("vocab_matcher", default_config={"set_spans": False}, requires=[], assigns=["doc.spans"])
def make_vocab_matcher(nlp: Language, name: str, set_spans: bool):
    return VocabMatcher(nlp, name, set_spans)


def add_recognisers(nlp: Language, settings: Settings | None = None, *, set_spans: bool = False) -> Language:
    """Add the actor and topic matcher to a segmentation pipeline (``set_spans``: also fill
    ``doc.spans["actors"]`` / ``doc.spans["topics"]``, for use outside the pipeline)."""
    settings = settings or load_settings()
    matcher = nlp.add_pipe("vocab_matcher", config={"set_spans": set_spans})
    make_doc = nlp.tokenizer.pipe  # pattern texts only need the tokenizer
    matcher.add_patterns(ACTOR_KEY, "ORTH", actor_patterns(settings), make_doc)
    matcher.add_patterns(TOPIC_KEY, "LOWER", topic_patterns(settings), make_doc)
    # Tokenising ~40k pattern strings leaves the tokenizer's cache in a state that makes
    # every later call several times slower (measured: 1.3 s instead of 0.2 s on the same
    # text); a fresh tokenizer with the same rules and special cases does not have it.
    fresh = Tokenizer(nlp.vocab)
    fresh.from_bytes(nlp.tokenizer.to_bytes())
    nlp.tokenizer = fresh
    return nlp


def build_recogniser(settings: Settings | None = None, base: str | None = None) -> Language:
    """The run's segmentation pipeline with the actor and topic matcher added: the one
    tokenizer and vocabulary that ``stance run``, training, evaluation and the report share."""
    from pipeline.segmentation import build_segmenter  # segmentation imports this module

    settings = settings or load_settings()
    return add_recognisers(build_segmenter(settings, base=base), settings)


def doc_matches(doc: Doc, key: str) -> list[tuple[str, int, int]]:
    """The kept matches of one key as ``(label, start token, end token)``, exclusions included."""
    strings = doc.vocab.strings
    return [(strings[lid], start, end) for lid, start, end in doc.user_data.get(MATCHES, {}).get(key, ())]


def raw_mentions(doc: Doc) -> list[tuple[int, int, str, str]]:
    """Every actor and topic mention of a Doc as ``(start char, end char, kind, code)``,
    sorted by position (exclusions dropped)."""
    found = doc.user_data.get(MATCHES)
    if not found or not any(found.values()):
        return []
    arr = doc.to_array([IDX, LENGTH])
    idx, length = arr[:, 0].tolist(), arr[:, 1].tolist()
    strings = doc.vocab.strings
    out = []
    for key, kind in ((ACTOR_KEY, "actor"), (TOPIC_KEY, "topic")):
        for lid, start, end in found.get(key, ()):
            label = strings[lid]
            if label != EXCLUDE:
                out.append((idx[start], idx[end - 1] + length[end - 1], kind, label))
    out.sort(key=lambda m: (m[0], m[2]))
    return out


def doc_mentions(doc: Doc, base: int = 0, text: str | None = None) -> list[Mention]:
    """Every actor and topic mention of a Doc, sorted by position (exclusions dropped).

    ``base`` is the Doc's start offset in the article text, so that mention offsets point
    into the article text like every other offset. ``text`` is the Doc's text when the
    caller has it (``doc.text`` joins every token).
    """
    found = raw_mentions(doc)
    if not found:
        return []
    if text is None:
        text = doc.text
    return [Mention(kind, code, base + s, base + e, text[s:e]) for s, e, kind, code in found]


def mentions(span: Span, base: int) -> list[Mention]:
    """The mentions inside ``span`` (a sentence of a Doc), with article offsets."""
    lo, hi = base + span.start_char, base + span.end_char
    return [m for m in doc_mentions(span.doc, base) if m.start >= lo and m.end <= hi]


def codes(ms: list[Mention], kind: str) -> list[str]:
    """Distinct codes of one kind, in order of first mention."""
    seen: dict[str, None] = {}
    for m in ms:
        if m.kind == kind:
            seen.setdefault(m.code, None)
    return list(seen)
