"""Segmentation stage: blocks -> sentences, with spaCy.

The default ``nlp`` is ``spacy.blank("en")`` with (1) tokenizer special cases for the
news abbreviations in ``corpus/config/abbreviations.txt`` (one token, so never a
boundary), (2) spaCy's rule-based ``sentencizer`` and (3) ``news_sentence_fixes``, a
small component of ours that undoes the sentencizer's known false splits (a boundary
before a lower-case word, ``No. 10``) and adds the one it misses (``... the U.S. The``).

Sentences never cross blocks: every block is its own Doc. A heading, a title and a
table row are one segment each; paragraphs and bullets are split into sentences.
All blocks of a chunk of articles go through one ``nlp.pipe`` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, Sentence

_WHOLE = {"title", "heading"}
_STARTERS_DEFAULT = [
    "The", "He", "She", "It", "They", "We", "I", "But", "In", "This", "That", "A", "An",
    "However", "Its", "His", "Her", "Their", "Officials", "On", "At", "Meanwhile", "And",
]


class NewsSentenceFixes:
    """Correct the rule-based sentencizer's typical errors on news text."""

    def __init__(self, split_after: Sequence[str], starters: Sequence[str], number_abbrevs: Sequence[str]):
        self.split_after = set(split_after)
        self.starters = set(starters)
        self.number_abbrevs = set(number_abbrevs)
        self._split_ids = None

    def __call__(self, doc: Doc) -> Doc:
        # only boundaries and abbreviation tokens need a look: no loop over every token
        n = len(doc)
        if n < 2:
            return doc
        starts = [i for i in (doc.to_array("SENT_START") == 1).nonzero()[0].tolist() if i > 0]
        for i in starts:
            tok, prev = doc[i], doc[i - 1]
            # an opening quote the sentencizer left at the end of the previous sentence
            # ('... plan. “We will ...'): the new sentence starts at the quote
            if i >= 2 and not prev.whitespace_ and (prev.text in ("“", "‘") or (
                    prev.text in ('"', "'") and doc[i - 2].whitespace_)):
                tok.is_sent_start = False
                prev.is_sent_start = True
                continue
            # "No. 10", "Art. 5": the period belongs to an abbreviation
            if prev.text == "." and i >= 2 and doc[i - 2].text in self.number_abbrevs and tok.like_num:
                tok.is_sent_start = False
            # a sentence does not start with a lower-case word ("he said" after a quote)
            elif tok.text[:1].islower() and tok.is_alpha:
                tok.is_sent_start = False
        # abbreviations that may end a sentence ("... the U.S. The Kremlin"): find them with
        # one array lookup rather than a loop over every token
        if self._split_ids is None:
            from spacy.strings import hash_string

            self._split_ids = np.array([hash_string(a) for a in self.split_after], dtype=np.uint64)
        orth = doc.to_array("ORTH")
        for i in np.nonzero(np.isin(orth[:-1], self._split_ids))[0].tolist():
            nxt = doc[i + 1]
            if nxt.text in self.starters and not nxt.is_sent_start:
                nxt.is_sent_start = True
        return doc


@Language.factory(
    "news_sentence_fixes",
    default_config={
        "split_after": ["U.S.", "U.K.", "U.N.", "E.U.", "U.S.S.R.", "D.C."],
        "starters": _STARTERS_DEFAULT,
        "number_abbrevs": ["No", "Nos", "Art", "Vol", "p", "pp", "Para"],
    },
    requires=["token.is_sent_start"],
    assigns=["token.is_sent_start"],
)
def make_news_sentence_fixes(nlp, name, split_after, starters, number_abbrevs):
    return NewsSentenceFixes(split_after, starters, number_abbrevs)


def read_abbreviations(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def build_segmenter(settings: Settings | None = None, base: str | None = None) -> Language:
    """The segmentation pipeline: blank English (or an installed model) + our rules.

    Parameters
    ----------
    base:
        Name of an installed spaCy pipeline to start from (optional); the default is
        ``spacy.blank("en")`` so nothing has to be downloaded.
    """
    settings = settings or load_settings()
    if base:
        nlp = spacy.load(base, exclude=["lemmatizer", "ner", "textcat"])
        if "parser" in nlp.pipe_names:
            nlp.remove_pipe("parser")
    else:
        nlp = spacy.blank("en")
    for abbr in read_abbreviations(settings.path("segment", "abbreviations")):
        nlp.tokenizer.add_special_case(abbr, [{"ORTH": abbr}])
        if abbr[0].isupper() and abbr.upper() != abbr:  # "GEN." in all-caps headlines
            nlp.tokenizer.add_special_case(abbr.upper(), [{"ORTH": abbr.upper()}])
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("news_sentence_fixes")
    return nlp


@dataclass
class Segmented:
    """An article with its sentences and, for each, the spaCy span it came from."""

    article: Article
    sentences: list[Sentence] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    bases: list[int] = field(default_factory=list)  # offset of each span's Doc in the article text


def _trimmed(span: Span) -> tuple[int, int]:
    text = span.text
    lead = len(text) - len(text.lstrip())
    return span.start_char + lead, span.start_char + len(text.rstrip())


def segment(articles: Sequence[Article], nlp: Language, *, batch_size: int = 256) -> list[Segmented]:
    """Split the blocks of a chunk of articles into sentences (one ``nlp.pipe`` call).

    Returns one :class:`Segmented` per article, in input order. For every sentence,
    ``article.text[s.start:s.end] == s.text``.
    """
    jobs: list[tuple[str, tuple[int, int, int | None]]] = []
    for ai, art in enumerate(articles):
        for bi, block in enumerate(art.blocks):
            if block.kind == "table":
                table = art.tables[block.table_index]
                for row in table.rows:
                    jobs.append((row.text, (ai, bi, row.index)))
            else:
                jobs.append((block.text, (ai, bi, None)))
    out = [Segmented(a) for a in articles]
    counters = [0] * len(articles)
    for doc, (ai, bi, ri) in nlp.pipe(jobs, as_tuples=True, batch_size=batch_size):
        art = articles[ai]
        block = art.blocks[bi]
        if ri is not None:
            row = art.tables[block.table_index].rows[ri]
            pieces, base = [doc[:]], row.start
        else:
            base = block.start
            pieces = [doc[:]] if block.kind in _WHOLE else list(doc.sents)
        for span in pieces:
            s, e = _trimmed(span)
            if s >= e:
                continue
            sent = Sentence(
                article_id=art.id,
                index=counters[ai],
                block_kind=block.kind,
                section=block.section,
                start=base + s,
                end=base + e,
                text=art.text[base + s : base + e],
                block_index=bi,
                label=block.label,
                table_index=block.table_index,
                row_index=ri,
            )
            counters[ai] += 1
            out[ai].sentences.append(sent)
            out[ai].spans.append(span)
            out[ai].bases.append(base)
    return out


def iter_chunks(items: Iterable, size: int):
    """Group an iterable into lists of at most ``size`` items (streaming)."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
