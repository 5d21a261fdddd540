"""Typed records passed between the stages.

Small frozen dataclasses, one per thing a stage hands to the next. Offsets are
character offsets into :attr:`Article.text` (the article's normalised text), so
``article.text[x.start:x.end] == x.text`` holds for every block, sentence and mention.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BLOCK_KINDS = ("title", "heading", "paragraph", "bullet", "table")


@dataclass(frozen=True)
class Block:
    """A layout unit of an article: title, heading, paragraph, bullet or table."""

    kind: str
    text: str
    start: int
    end: int
    section: str = ""
    label: str | None = None  # a bullet "Label: description" keeps its label
    table_index: int | None = None  # for kind == "table"


@dataclass(frozen=True)
class TableRow:
    """One data row of a hand-made table, with the offsets of the row's line."""

    index: int
    cells: tuple[str, ...]
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Table:
    """A markdown / HTML table: header cells and data rows."""

    index: int
    header: tuple[str, ...]
    rows: tuple[TableRow, ...]
    section: str
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    """One input article after ingestion."""

    id: str
    path: str
    text: str
    blocks: tuple[Block, ...]
    tables: tuple[Table, ...] = ()
    title: str | None = None
    date: str | None = None
    source: str | None = None
    url: str | None = None
    line: int | None = None  # line (JSONL) or row (CSV) number in its file
    content_hash: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorEntry:
    """An input (or part of one) that failed, or a warning about one that did not."""

    path: str
    reason: str
    stage: str = "ingest"
    line: int | None = None
    article_id: str | None = None
    severity: str = "error"  # "error": the input was not processed; "warning": it was


@dataclass(frozen=True)
class Sentence:
    """A segment: a sentence of a paragraph, or a whole heading, bullet or table row."""

    article_id: str
    index: int
    block_kind: str
    section: str
    start: int
    end: int
    text: str
    block_index: int = 0
    label: str | None = None  # bullet label, carried from the block
    table_index: int | None = None
    row_index: int | None = None


@dataclass(frozen=True)
class Mention:
    """An actor or topic found in a sentence (offsets into the article text)."""

    kind: str  # "actor" | "topic"
    code: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Prediction:
    """Stance of one text, with its probabilities and the cues that fired."""

    stance: str
    p_convergence: float
    p_divergence: float
    p_neutral: float
    cues: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return self.p_convergence - self.p_divergence


@dataclass(frozen=True)
class Candidate:
    """A pair of actors whose relation a sentence may be about (see CODEBOOK.md, "Pairs").

    ``actor_a < actor_b``. ``first`` / ``second`` are the article offsets of the two
    mentions chosen to stand for the pair (the closest mention of each actor), in text
    order; an actor that the sentence does not name (an implied pair) has ``None``.
    ``pair_source`` is ``explicit`` (both named), ``implied`` (the sentence refers to the
    relation, "the two sides", and the article's main pair fills what it does not name) or
    ``intro`` (a bullet takes the pair of its intro line).
    """

    sentence: int  # index of the sentence in its article
    actor_a: str
    actor_b: str
    pair_source: str
    first: tuple[str, int, int] | None = None  # (code, start, end) of the earlier mention
    second: tuple[str, int, int] | None = None
    trigger: str = ""  # the sentence's relation reference ("the two sides|strong"), which makes an implied pair
    n_actors: int = 0  # distinct actors named in the sentence (after the mention rules)


@dataclass(frozen=True)
class RelationDecision:
    """The relation classifier's decision on one candidate pair."""

    label: str  # none | convergence | divergence | neutral
    p_none: float
    p_convergence: float
    p_divergence: float
    p_neutral: float
    source_actor: str = ""  # who does or says something to whom; "" when symmetric or unknown
    target_actor: str = ""

    @property
    def score(self) -> float:
        """P(convergence) - P(divergence) given that the pair is related (renormalised
        without ``none``), in [-1, 1]."""
        rel = self.p_convergence + self.p_divergence + self.p_neutral
        return (self.p_convergence - self.p_divergence) / rel if rel > 0 else 0.0


@dataclass(frozen=True)
class RelationRecord:
    """One (sentence, actor pair, topic) relation record: the product's main output row
    (the columns of ``records.csv``)."""

    article_id: str
    sentence_id: int
    actor_a: str
    actor_b: str
    pair_source: str  # "explicit" | "implied" | "intro"
    source_actor: str  # "" when symmetric or unknown
    target_actor: str
    topic: str
    stance: str
    score: float
    p_convergence: float
    p_divergence: float
    p_neutral: float
    p_none: float
    cues: str
    evidence: str
    section: str
    block_kind: str
    start: int
    end: int
    model_id: str


StanceRecord = RelationRecord  # the earlier name


@dataclass
class Tables:
    """The rows a chunk of articles produces, one list per output table."""

    sentences: list[dict] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)
    topics: list[dict] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)
    check: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    articles: list[dict] = field(default_factory=list)


    NAMES = ("articles", "sentences", "records", "relations", "topics", "tables", "check", "errors")

    def extend(self, other: "Tables") -> None:
        for name in self.NAMES:
            getattr(self, name).extend(getattr(other, name))
