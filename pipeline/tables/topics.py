"""A table's topic cell -> a topic: by the taxonomy's aliases, by similarity to them, or ad hoc.

Three steps, the first that answers wins:

1. ``alias``: the topic ruler (the taxonomy's aliases, ``corpus/vocab/topics.csv``) finds
   an alias in the cell ("Nuclear Policy" -> arms_control). Score 1.
2. ``similarity``: the cell's specific words (lemmas, general words such as "security" or
   "cooperation" left out) are compared with every label and alias of the taxonomy, also
   as lemmas, by rapidfuzz's normalised edit-distance ratio; the best topic is taken when
   its score reaches ``[check] topic_similarity_min``. This catches spelling variants and
   word forms the ruler misses ("Counter-terror" -> counterterrorism, "Hot-lines",
   "Deconflicting" -> military_communication, "Sanction relief" -> sanctions), and not
   unrelated words that share letters ("Airspace" is not "cyberspace": ratio 0.67). A character n-gram
   TF-IDF cosine was tried first and rejected for that reason ("Food Security" ->
   cybersecurity 0.80, "Space" -> cybersecurity 0.61).
3. ``adhoc``: otherwise the row gets a topic of its own, ``adhoc:<words of the cell>``, and
   the prose is searched for the cell's content words as lemmas (spaCy's English lookup
   lemmatizer from ``spacy-lookups-data``): "Search and Rescue" finds "rescue crews",
   "Shipping" finds "ships". Words too general to stand for a topic on their own
   (``corpus/config/topic_generic_words.txt``: "military", "cooperation", …) are searched for
   only when the cell has no other word.

A cell with no content word at all gets no topic (method ``none``): the check says
``unknown topic``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Settings, load_settings

ADHOC = "adhoc:"


@dataclass(frozen=True)
class TopicMatch:
    topic: str  # a taxonomy id, "adhoc:<slug>", or "" (no topic)
    method: str  # alias / similarity / adhoc / none
    score: float
    keywords: tuple[str, ...] = ()  # lemmas the prose is searched for (ad-hoc topics)

    @property
    def adhoc(self) -> bool:
        return self.topic.startswith(ADHOC)


def _strings(topics_csv: Path) -> tuple[list[str], list[str]]:
    """(topic id, string) for every label and alias of the taxonomy."""
    ids, strings = [], []
    with open(topics_csv, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            topic = row["topic"].strip()
            names = [topic.replace("_", " "), row.get("label", "")] + (row.get("aliases") or "").split(";")
            for s in dict.fromkeys(n.strip().lower() for n in names if n and n.strip()):
                ids.append(topic)
                strings.append(s)
    return ids, strings


def _read_words(path: Path) -> frozenset[str]:
    if not path.is_file():
        return frozenset()
    return frozenset(w.strip().lower() for w in path.read_text(encoding="utf-8").splitlines()
                     if w.strip() and not w.startswith("#"))


def lemmatizer():
    """spaCy's English lookup lemmatizer on a blank pipeline (tables from spacy-lookups-data,
    installed with the package; nothing is downloaded)."""
    from pipeline._spacy import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    try:
        nlp.initialize()
    except Exception as exc:  # the lookup tables are a dependency of this package
        raise RuntimeError(f"spaCy's lookup lemmatizer cannot load its tables ({exc}); "
                           "install spacy-lookups-data (pip install -e .)") from None
    return nlp


@dataclass
class TopicMatcher:
    """Matches table topic cells to the taxonomy (see the module docstring)."""

    topics_csv: Path
    min_similarity: float = 0.85
    generic: frozenset[str] = frozenset()
    _lemma_nlp: object = field(default=None, repr=False)

    def __post_init__(self):
        self._lemma_nlp = self._lemma_nlp or lemmatizer()
        self._lemma_cache: dict[str, tuple[str, ...]] = {}
        ids, strings = _strings(self.topics_csv)
        self._ids, self._choices = [], []
        for topic, text in zip(ids, strings):
            lemmas = " ".join(self.keywords(text)) or text
            self._ids.append(topic)
            self._choices.append(lemmas)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "TopicMatcher":
        settings = settings or load_settings()
        generic = settings.get("check", "topic_generic_words")
        return cls(settings.path("vocab", "topics"), float(settings.get("check", "topic_similarity_min", 0.85)),
                   _read_words(settings.root / generic) if generic else frozenset())

    # --- the three steps -------------------------------------------------------------
    def similar(self, cell: str) -> tuple[str, float]:
        """The taxonomy topic whose label or alias is most similar to a text (already
        reduced to its specific lemmas), and the ratio in [0, 1]."""
        from rapidfuzz import fuzz, process

        text = " ".join(cell.lower().split())
        if len(text) < 5 or not self._choices:  # "ISS" is not "isis"
            return "", 0.0
        best = process.extractOne(text, self._choices, scorer=fuzz.ratio)
        return (self._ids[best[2]], best[1] / 100.0) if best else ("", 0.0)

    def keywords(self, cell: str) -> tuple[str, ...]:
        """The cell's content lemmas, general words last (used only when alone)."""
        words = [w for w in self.lemmas(cell) if len(w) >= 3 and w.isalpha()]
        stop = self._lemma_nlp.Defaults.stop_words
        content = [w for w in dict.fromkeys(words) if w not in stop]
        specific = [w for w in content if w not in self.generic]
        return tuple(specific or content)

    def match(self, cell: str, alias_topic: str | None) -> TopicMatch:
        """``alias_topic``: what the topic ruler found in the cell (or None)."""
        if alias_topic:
            return TopicMatch(alias_topic, "alias", 1.0)
        kw = self.keywords(cell)
        # similarity on the cell's specific words: "security" in "Food Security" must not
        # make it cybersecurity
        topic, score = self.similar(" ".join(kw))
        if topic and score >= self.min_similarity:
            return TopicMatch(topic, "similarity", round(score, 4))
        if not kw:
            return TopicMatch("", "none", round(score, 4))
        return TopicMatch(ADHOC + "_".join(kw), "adhoc", round(score, 4), kw)

    # --- lemmas of the prose ---------------------------------------------------------
    def lemmas(self, text: str) -> tuple[str, ...]:
        """Lower-cased lookup lemmas of a text (memoised)."""
        got = self._lemma_cache.get(text)
        if got is None:
            doc = self._lemma_nlp(text.lower().replace("’", "'"))
            got = tuple(t.lemma_ or t.text for t in doc if not t.is_punct and not t.is_space)
            if len(self._lemma_cache) > 50_000:
                self._lemma_cache.clear()
            self._lemma_cache[text] = got
        return got

    def mentions(self, match: TopicMatch, text: str) -> bool:
        """Does a sentence discuss the ad-hoc topic? At least one of its keywords for a cell
        of one or two, two of them for a longer cell."""
        if not match.keywords:
            return False
        have = set(self.lemmas(text))
        stems = {w[:6] for w in have if len(w) >= 6}
        need = 1 if len(match.keywords) <= 2 else 2
        # a lemma, or the same first six letters ("pilgrimage" / "pilgrims")
        return sum(1 for k in match.keywords if k in have or (len(k) >= 6 and k[:6] in stems)) >= need
