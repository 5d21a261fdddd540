"""Segmentation stage: blocks -> sentences, with spaCy.

The default ``nlp`` is ``spacy.blank("en")`` with (1) tokenizer special cases for the
news abbreviations in ``corpus/config/abbreviations.txt`` (one token, so never a
boundary) and (2) ``news_sentencizer``, a registered component of ours: spaCy's
rule-based ``sentencizer`` rule, applied to token arrays, plus corrections of its known
false splits (a boundary before a lower-case word, ``No. 10``) and the one it misses
(``... the U.S. The``).

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
from spacy.attrs import IDX, IS_PUNCT, ORTH, SENT_START
from spacy.tokens import Doc

from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, Mention, Sentence
from pipeline.recognition import doc_mentions

_WHOLE = {"title", "heading"}
_STARTERS_DEFAULT = [
    "The", "He", "She", "It", "They", "We", "I", "But", "In", "This", "That", "A", "An",
    "However", "Its", "His", "Her", "Their", "Officials", "On", "At", "Meanwhile", "And",
]


class NewsSentencizer:
    """Rule-based sentence boundaries for news text, read and written as token arrays.

    Step 1 is the rule of spaCy's ``sentencizer``: a sentence starts at the first token
    after a sentence-final character (``punct_chars``, spaCy's default list) that is neither
    punctuation nor such a character. spaCy's component applies it by building a ``Token``
    object for every token, which made it the most expensive step of segmentation; here it
    runs over the ``ORTH`` / ``IS_PUNCT`` arrays (a test checks both give the same
    boundaries). Step 2 corrects that rule's typical errors on news text: no boundary
    before a lower-case word ("he said" after a quote) or inside "No. 10"; an opening quote
    left at the end of the previous sentence moves to the next one; and a boundary is added
    after an abbreviation that ends a sentence ("... the U.S. The Kremlin").
    """

    def __init__(self, punct_chars: Sequence[str] | None, split_after: Sequence[str], starters: Sequence[str],
                 number_abbrevs: Sequence[str]):
        from spacy.pipeline.sentencizer import Sentencizer

        self.punct_chars = set(punct_chars or Sentencizer.default_punct_chars)
        self.split_after = set(split_after)
        self.starters = set(starters)
        self.number_abbrevs = set(number_abbrevs)
        self._ids: tuple[set[int], set[int]] | None = None

    def _hashes(self) -> tuple[set[int], set[int]]:
        if self._ids is None:
            from spacy.strings import hash_string

            self._ids = ({hash_string(c) for c in self.punct_chars}, {hash_string(a) for a in self.split_after})
        return self._ids

    def boundaries(self, orth: list[int], punct: list[int]) -> list[int]:
        """Token indices that start a sentence under spaCy's sentencizer rule."""
        final, _ = self._hashes()
        starts, seen = [0], False
        for i, o in enumerate(orth):
            if o in final:
                seen = True
            elif seen and not punct[i]:
                starts.append(i)
                seen = False
        return starts

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if n == 0:
            return doc
        arr = doc.to_array([ORTH, IS_PUNCT])
        orth = arr[:, 0].tolist()
        starts = self.boundaries(orth, arr[:, 1].tolist())
        flag = [-1] * n
        for i in starts:
            flag[i] = 1
        for i in starts[1:]:  # only the boundaries need a look at their tokens
            tok, prev = doc[i], doc[i - 1]
            # an opening quote the rule left at the end of the previous sentence
            # ('... plan. “We will ...'): the new sentence starts at the quote
            if i >= 2 and not prev.whitespace_ and (prev.text in ("“", "‘") or (
                    prev.text in ('"', "'") and doc[i - 2].whitespace_)):
                flag[i] = -1
                flag[i - 1] = 1
                continue
            # "No. 10", "Art. 5": the period belongs to an abbreviation
            if prev.text == "." and i >= 2 and doc[i - 2].text in self.number_abbrevs and tok.like_num:
                flag[i] = -1
            # a sentence does not start with a lower-case word ("he said" after a quote)
            elif tok.text[:1].islower() and tok.is_alpha:
                flag[i] = -1
        # abbreviations that may end a sentence ("... the U.S. The Kremlin")
        _, split_ids = self._hashes()
        if not split_ids.isdisjoint(orth[:-1]):
            for i, o in enumerate(orth[:-1]):
                if o in split_ids and flag[i + 1] != 1 and doc[i + 1].text in self.starters:
                    flag[i + 1] = 1
        doc.from_array([SENT_START], np.asarray(flag, dtype=np.int64).astype(np.uint64))
        return doc


@Language.factory(
    "news_sentencizer",
    default_config={
        "punct_chars": None,
        "split_after": ["U.S.", "U.K.", "U.N.", "E.U.", "U.S.S.R.", "D.C."],
        "starters": _STARTERS_DEFAULT,
        "number_abbrevs": ["No", "Nos", "Art", "Vol", "p", "pp", "Para"],
    },
    assigns=["token.is_sent_start"],
)
def make_news_sentencizer(nlp, name, punct_chars, split_after, starters, number_abbrevs):
    return NewsSentencizer(punct_chars, split_after, starters, number_abbrevs)


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
    nlp.add_pipe("news_sentencizer")
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
