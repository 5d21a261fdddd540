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
from spacy.attrs import IDX, ORTH, SENT_START
from spacy.tokens import Doc

from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, Mention, Sentence
from pipeline.recognition import doc_mentions

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
        # only boundaries and abbreviation tokens need a look: one array read, no loop
        # over every token
        n = len(doc)
        if n < 2:
            return doc
        if self._split_ids is None:
            from spacy.strings import hash_string

            self._split_ids = {hash_string(a) for a in self.split_after}
        arr = doc.to_array([SENT_START, ORTH])
        starts = (np.flatnonzero(arr[1:, 0] == 1) + 1).tolist()
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
        # abbreviations that may end a sentence ("... the U.S. The Kremlin")
        orth = arr[:-1, 1].tolist()
        if not self._split_ids.isdisjoint(orth):
            for i, o in enumerate(orth):
                if o in self._split_ids:
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
    """An article with its sentences and, for each, the actor and topic mentions in it."""

    article: Article
    sentences: list[Sentence] = field(default_factory=list)
    mentions: list[list[Mention]] = field(default_factory=list)


def _bounds(doc: Doc, n_chars: int, whole: bool) -> list[tuple[int, int]]:
    """Character ranges of a Doc's sentences (the whole Doc for titles, headings and rows),
    read from token arrays rather than from Span objects (``doc.text`` and ``doc.sents``
    build a Python object per token)."""
    if whole or len(doc) < 2:
        return [(0, n_chars)] if len(doc) else []
    arr = doc.to_array([IDX, SENT_START])
    starts = arr[1:, 0][arr[1:, 1] == 1].tolist()
    return list(zip([0, *starts], starts + [n_chars]))


def segment(articles: Sequence[Article], nlp: Language, *, batch_size: int = 256) -> list[Segmented]:
    """Split the blocks of a chunk of articles into sentences (one ``nlp.pipe`` call).

    Returns one :class:`Segmented` per article, in input order. For every sentence,
    ``article.text[s.start:s.end] == s.text``. Mentions found by the recognisers (if the
    ``nlp`` has them) are attached per sentence, with article offsets.
    """
    jobs: list[tuple[str, tuple[int, int, int | None, str]]] = []
    for ai, art in enumerate(articles):
        for bi, block in enumerate(art.blocks):
            if block.kind == "table":
                table = art.tables[block.table_index]
                for row in table.rows:
                    jobs.append((row.text, (ai, bi, row.index, row.text)))
            else:
                jobs.append((block.text, (ai, bi, None, block.text)))
    out = [Segmented(a) for a in articles]
    for doc, (ai, bi, ri, text) in nlp.pipe(jobs, as_tuples=True, batch_size=batch_size):
        art = articles[ai]
        block = art.blocks[bi]
        seg = out[ai]
        if ri is not None:
            base = art.tables[block.table_index].rows[ri].start
        else:
            base = block.start
        found = doc_mentions(doc, base, text)
        k = 0  # found is sorted by start: walk it along the sentences
        for s, e in _bounds(doc, len(text), ri is not None or block.kind in _WHOLE):
            piece = text[s:e]
            stripped = piece.strip()
            if not stripped:
                continue
            lo = base + s + (len(piece) - len(piece.lstrip()))
            hi = lo + len(stripped)
            while k < len(found) and found[k].start < base + s:
                k += 1
            j = k
            ms = []
            while j < len(found) and found[j].start < base + e:
                if found[j].end <= base + e:
                    ms.append(found[j])
                j += 1
            seg.sentences.append(Sentence(
                article_id=art.id,
                index=len(seg.sentences),
                block_kind=block.kind,
                section=block.section,
                start=lo,
                end=hi,
                text=stripped,
                block_index=bi,
                label=block.label,
                table_index=block.table_index,
                row_index=ri,
            ))
            seg.mentions.append(ms)
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
