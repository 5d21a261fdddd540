"""Segmentation stage: blocks -> sentences, with spaCy.

The default ``nlp`` is ``spacy.blank("en")`` with (1) tokenizer special cases for the
news abbreviations in ``corpus/config/abbreviations.txt`` (one token, so the period is
never a boundary by itself) and (2) ``news_sentencizer``, a registered component of ours:
spaCy's rule-based ``sentencizer`` rule, applied to token arrays, plus corrections of its
known false splits (a boundary before a lower-case word, ``No. 10``, a quoted question
followed by its speaker) and of the ones it misses (a sentence ending with an abbreviation
or an initial: ``... the U.S. The``, ``... & Co. It``, ``... you and I. Did``; an
ellipsis: ``... that.... She``). The vocabularies of these rules are data files under
``corpus/config/`` (``[segment]`` in ``settings.toml``).

Sentences never cross blocks: every block is its own Doc. A heading, a title and a
table row are one segment each; paragraphs and bullets are split into sentences.
All blocks of a chunk of articles go through one ``nlp.pipe`` call.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from pipeline._spacy import spacy  # spaCy without PyTorch (see pipeline/_spacy.py)
from spacy.language import Language
from spacy.attrs import IDX, IS_PUNCT, SENT_START, SPACY
from spacy.tokens import Doc

from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, Mention, Sentence
from pipeline.recognition import raw_mentions

_WHOLE = {"title", "heading"}
SEP = "\n\n"  # between the blocks of an article in its Doc
PIECES = "segment_pieces"  # doc.user_data key: [(start char, end char, whole)] of those blocks
_CLOSERS = frozenset({"”", "’", '"', "'", ")", "]", "»"})
_OPENERS = frozenset({"“", "‘", '"', "'", "(", "«"})


def _is_ellipsis(text: str) -> bool:
    return len(text) >= 1 and set(text) <= {".", "…"} and (text.count(".") >= 3 or "…" in text)


def _ends_with_abbreviation(text: str) -> bool:
    """A token that ends with a period it keeps (an abbreviation, an initial, "p.m."),
    as opposed to a full stop or an ellipsis."""
    return len(text) >= 2 and text[-1] == "." and text[-2] != "." and any(c.isalpha() for c in text)


class NewsSentencizer:
    """Rule-based sentence boundaries for news text, read and written as token arrays.

    Step 1 is the rule of spaCy's ``sentencizer``: a sentence starts at the first token
    after a sentence-final character (``punct_chars``, spaCy's default list) that is neither
    punctuation nor such a character. spaCy's component applies it by building a ``Token``
    object for every token, which made it the most expensive step of segmentation; here it
    runs over the ``ORTH`` / ``IS_PUNCT`` arrays (a test checks both give the same
    boundaries). Step 2 corrects that rule's typical errors on news text: no boundary
    before a lower-case word ("he said" after a quote) or inside "No. 10", nor between a
    quoted question or exclamation and its speaker ('“Why?” Smith asked.', with a verb of
    ``speech_verbs``); an opening quote left at the end of the previous sentence moves to
    the next one. Step 3 adds the boundaries the rule cannot see, before a sentence starter
    (``starters``: "The", "It", "How" ...), possibly after a closing quote or bracket:

    * after a token that keeps its final period (an abbreviation, an initial, "p.m.")
      unless it is one that never ends a sentence (``nonfinal``: "Mr.", "St.", "No." ...):
      "... the U.S. How about", "... & Co. It closed", "... at 6 p.m. Mr. Smith",
      "... you and I. Did"; an initial before a surname ("John F. Kennedy") or "U.S." before
      a noun ("U.S. Pacific Command") stays inside the sentence;
    * after an ellipsis ("... that... She left"); after four periods (a full stop and an
      ellipsis: "that.... The"), before any capitalised word.
    """

    def __init__(self, vocab, punct_chars: Sequence[str] | None, split_after: Sequence[str] = (),
                 starters: Sequence[str] = (), number_abbrevs: Sequence[str] = (), nonfinal: Sequence[str] = (),
                 speech_verbs: Sequence[str] = ()):
        from spacy.pipeline.sentencizer import Sentencizer

        self.punct_chars = frozenset(punct_chars or Sentencizer.default_punct_chars)
        self.split_after = frozenset(split_after)
        self.starters = frozenset(starters)
        self.number_abbrevs = frozenset(number_abbrevs)
        self.nonfinal = frozenset(nonfinal) | frozenset(a.upper() for a in nonfinal)
        self.speech_verbs = frozenset(speech_verbs)

        def may_end(text: str) -> bool:
            # "split_after" (older configurations) always may end a sentence
            return text in self.split_after or (_ends_with_abbreviation(text) and text not in self.nonfinal)

        # lexeme flags, computed once per word type, so that one to_array call reads them
        # for a whole Doc (spaCy's Vocab.add_flag)
        self.flag_final = vocab.add_flag(self.punct_chars.__contains__)
        self.flag_split = vocab.add_flag(may_end)
        self.flag_starter = vocab.add_flag(self.starters.__contains__)
        self.flag_ellipsis = vocab.add_flag(_is_ellipsis)
        self.flag_full_ellipsis = vocab.add_flag(lambda t: _is_ellipsis(t) and len(t) >= 2 and t.count(".") in (1, 4))
        self.flag_closer = vocab.add_flag(_CLOSERS.__contains__)
        self.flag_opener = vocab.add_flag(_OPENERS.__contains__)
        self.flag_cap = vocab.add_flag(lambda t: t[:1].isupper())

    @staticmethod
    def boundaries(final, punct) -> list[int]:
        """Token indices that start a sentence under spaCy's sentencizer rule, given which
        tokens are sentence-final characters and which are punctuation: token 0, and every
        token that is neither and has a sentence-final token between it and the previous
        such token."""
        final = np.asarray(final, dtype=bool)
        if not len(final):
            return []
        words = np.flatnonzero((np.asarray(punct) == 0) & ~final)
        seen = np.concatenate([[0], np.cumsum(final)])  # sentence-final tokens before index i
        since = np.concatenate([[0], words[:-1] + 1])  # just after the previous word token
        starts = words[seen[words] - seen[since] > 0]
        return [0, *starts[starts > 0].tolist()]

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if n == 0:
            return doc
        pieces = doc.user_data.get(PIECES)
        cols = [self.flag_final, IS_PUNCT, self.flag_split, self.flag_starter, self.flag_ellipsis,
                self.flag_full_ellipsis, self.flag_closer, self.flag_cap, self.flag_opener, SPACY]
        arr = doc.to_array(cols + ([IDX] if pieces else []))
        flag = np.full(n, -1, dtype=np.int64)
        starts = self.boundaries(arr[:, 0], arr[:, 1])
        flag[starts] = 1
        if pieces is None:
            first = np.array([0])
            end = np.array([n])
            whole = [False]
        else:
            # a Doc made of several blocks (see segment()): each block is segmented as if
            # it were its own Doc; the whitespace tokens between blocks stand alone, so no
            # sentence crosses a block
            first = np.searchsorted(arr[:, 10], np.array([p[0] for p in pieces], dtype=np.uint64))
            end = np.searchsorted(arr[:, 10], np.array([p[1] for p in pieces], dtype=np.uint64))
            whole = [p[2] for p in pieces]
        # the piece of every token (-1 between pieces), and where that piece starts
        pid = np.full(n, -1, dtype=np.int64)
        for k, (a, b) in enumerate(zip(first.tolist(), end.tolist())):
            pid[a:b] = k
        piece_first = np.where(pid >= 0, first[np.maximum(pid, 0)], -1).tolist()
        pid_l = pid.tolist()
        # corrections, looked at only where the rule put a boundary inside a block
        for i in starts:
            k, a = pid_l[i], piece_first[i]
            if k < 0 or i == a or whole[k]:
                continue
            tok, prev = doc[i], doc[i - 1]
            # an opening quote the rule left at the end of the previous sentence
            # ('... plan. “We will ...'): the new sentence starts at the quote
            if i - a >= 2 and not prev.whitespace_ and (prev.text in ("“", "‘") or (
                    prev.text in ('"', "'") and doc[i - 2].whitespace_)):
                flag[i] = -1
                flag[i - 1] = 1
                continue
            # "No. 10", "Art. 5": the period belongs to an abbreviation
            if prev.text == "." and i - a >= 2 and doc[i - 2].text in self.number_abbrevs and tok.like_num:
                flag[i] = -1
            # a sentence does not start with a lower-case word ("he said" after a quote)
            elif tok.text[:1].islower() and tok.is_alpha:
                flag[i] = -1
            # a quoted question and its speaker: '“Why?” President Smith asked.'
            elif (self.speech_verbs and prev.text in _CLOSERS and i - a >= 2 and doc[i - 2].text in ("?", "!")
                  and self._speaker_follows(doc, i, end[k])):
                flag[i] = -1
        # sentences that end with an abbreviation or an ellipsis, before a sentence starter
        # ("... the U.S. The Kremlin", "... & Co.) It", "... that... She left"): the end
        # token may be followed by closing quotes or brackets attached to it, the starter may
        # follow an opening quote (the sentence then starts at the quote)
        starter = arr[:, 3] == 1
        spaced = arr[:, 9] == 1  # followed by whitespace
        closer = arr[:, 6] == 1
        ends = (arr[:, 2] == 1) | (arr[:, 4] == 1)
        full = arr[:, 5] == 1  # four periods: a full stop and an ellipsis
        end_at = np.zeros(n, dtype=bool)  # token i follows an end token, directly or after closers
        full_at = np.zeros(n, dtype=bool)
        end_at[1:] = ends[:-1] & spaced[:-1]
        full_at[1:] = full[:-1] & spaced[:-1]
        end_at[2:] |= ends[:-2] & ~spaced[:-2] & closer[1:-1] & spaced[1:-1]
        full_at[2:] |= full[:-2] & ~spaced[:-2] & closer[1:-1] & spaced[1:-1]
        if n > 1:
            end_at[1:] |= (arr[:-1, 4] == 1) & ~spaced[:-1] & starter[1:]  # "in '29...They choked"
        add = end_at & starter
        add |= full_at & (arr[:, 7] == 1) & (arr[:, 1] == 0)  # "that.... The", "that.... Moscow"
        quoted = np.zeros(n, dtype=bool)  # 'the U.S. “We will ...': at the quote
        quoted[:-1] = end_at[:-1] & (arr[:-1, 8] == 1) & ~spaced[:-1] & (starter[1:] | (full_at[:-1] & (arr[1:, 7] == 1)))
        add |= quoted
        add &= pid >= 0
        add[first[first < n]] = False
        flag[add] = 1
        # the block structure wins: every block starts a sentence, titles, headings and
        # table rows are one sentence each, and the tokens between blocks stand alone
        flag[pid < 0] = 1
        flag[first[first < end]] = 1
        for k, w in enumerate(whole):
            if w and end[k] - first[k] > 1:
                flag[first[k] + 1 : end[k]] = -1
        doc.from_array([SENT_START], flag.astype(np.uint64))
        return doc

    def _speaker_follows(self, doc: Doc, i: int, stop: int) -> bool:
        """Tokens ``i`` ... are one to four capitalised words and then a verb of saying."""
        for j in range(i, min(i + 5, stop)):
            t = doc[j].text
            if j > i and t in self.speech_verbs:
                return True
            if not t[:1].isupper():
                return False
        return False


@Language.factory(
    "news_sentencizer",
    default_config={
        "punct_chars": None,
        "split_after": [],
        "starters": [],
        "number_abbrevs": ["No", "Nos", "Art", "Vol", "p", "pp", "Para"],
        "nonfinal": [],
        "speech_verbs": [],
    },
    assigns=["token.is_sent_start"],
)
def make_news_sentencizer(nlp, name, punct_chars, split_after, starters, number_abbrevs, nonfinal, speech_verbs):
    return NewsSentencizer(nlp.vocab, punct_chars, split_after, starters, number_abbrevs, nonfinal, speech_verbs)


def read_abbreviations(path: Path) -> list[str]:
    """The entries of a one-per-line word list (blank lines and ``#`` comments skipped)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


read_word_list = read_abbreviations


def _segment_list(settings: Settings, key: str) -> list[str]:
    """A word list named in ``[segment]`` (empty if the setting is absent)."""
    if settings.get("segment", key) is None:
        return []
    return read_word_list(settings.path("segment", key))


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
    extra = list(settings.get("segment", "extra_infixes", []) or [])
    if extra:  # e.g. split "U.S.-Russia" at the hyphen, as spaCy already splits "US-Russia"
        from spacy.util import compile_infix_regex

        nlp.tokenizer.infix_finditer = compile_infix_regex(list(nlp.Defaults.infixes) + extra).finditer
    for abbr in read_abbreviations(settings.path("segment", "abbreviations")):
        nlp.tokenizer.add_special_case(abbr, [{"ORTH": abbr}])
        if abbr[0].isupper() and abbr.upper() != abbr:  # "GEN." in all-caps headlines
            nlp.tokenizer.add_special_case(abbr.upper(), [{"ORTH": abbr.upper()}])
    nlp.add_pipe("news_sentencizer", config={
        "starters": _segment_list(settings, "sentence_starters"),
        "nonfinal": _segment_list(settings, "nonfinal_abbreviations"),
        "speech_verbs": _segment_list(settings, "speech_verbs"),
    })
    return nlp


@dataclass
class Segmented:
    """An article with its sentences and, for each, the actor and topic mentions in it."""

    article: Article
    sentences: list[Sentence] = field(default_factory=list)
    mentions: list[list[Mention]] = field(default_factory=list)


def _bounds(doc: Doc, n_chars: int) -> list[tuple[int, int]]:
    """Character ranges of a Doc's sentences, read from token arrays rather than from Span
    objects (``doc.text`` and ``doc.sents`` build a Python object per token)."""
    if len(doc) < 2:
        return [(0, n_chars)] if len(doc) else []
    arr = doc.to_array([IDX, SENT_START])
    starts = arr[1:, 0][arr[1:, 1] == 1].tolist()
    return list(zip([0, *starts], starts + [n_chars]))


def _pieces(art: Article) -> list[tuple[str, int, int | None, int, bool]]:
    """The units of an article that sentences may not cross, in order: every block, and
    every table row, as ``(text, block index, row index, offset in the article, whole)``;
    ``whole`` units (titles, headings, rows) are one segment each."""
    out = []
    for bi, block in enumerate(art.blocks):
        if block.kind == "table":
            for row in art.tables[block.table_index].rows:
                out.append((row.text, bi, row.index, row.start, True))
        else:
            out.append((block.text, bi, None, block.start, block.kind in _WHOLE))
    return out


def segment(articles: Sequence[Article], nlp: Language, *, batch_size: int = 256) -> list[Segmented]:
    """Split the blocks of a chunk of articles into sentences (one ``nlp.pipe`` call).

    Returns one :class:`Segmented` per article, in input order. For every sentence,
    ``article.text[s.start:s.end] == s.text``. Mentions found by the recognisers (if the
    ``nlp`` has them) are attached per sentence, with article offsets.

    An article's blocks and table rows go into one Doc, separated by a blank line and
    listed in ``doc.user_data[PIECES]``, so that the sentencizer keeps each of them apart
    (as if it were its own Doc) at a fraction of the cost of one Doc per block. An article
    longer than ``nlp.max_length`` gets one Doc per block instead.
    """
    groups: list[tuple[int, list]] = []
    for ai, art in enumerate(articles):
        pieces = _pieces(art)
        if sum(len(p[0]) + len(SEP) for p in pieces) <= nlp.max_length:
            groups.append((ai, pieces))
        else:
            groups.extend((ai, [p]) for p in pieces)

    def docs():
        for ai, pieces in groups:
            text = SEP.join(p[0] for p in pieces)
            offs, pos = [], 0
            for p in pieces:
                offs.append(pos)
                pos += len(p[0]) + len(SEP)
            doc = nlp.make_doc(text)
            doc.user_data[PIECES] = [(o, o + len(p[0]), p[4]) for o, p in zip(offs, pieces)]
            yield doc, (ai, pieces, offs, text)

    out = [Segmented(a) for a in articles]
    for doc, (ai, pieces, offs, text) in nlp.pipe(docs(), as_tuples=True, batch_size=batch_size):
        art = articles[ai]
        seg = out[ai]
        found = raw_mentions(doc)
        k = 0  # found is sorted by start: walk it along the sentences
        for s, e in _bounds(doc, len(text)):
            piece = text[s:e]
            stripped = piece.strip()
            if not stripped:
                continue
            pi = bisect_right(offs, s) - 1
            _, bi, ri, base, _ = pieces[pi]
            shift = base - offs[pi]  # doc offset -> article offset
            block = art.blocks[bi]
            lo = s + (len(piece) - len(piece.lstrip()))
            while k < len(found) and found[k][0] < s:
                k += 1
            j = k
            ms = []
            while j < len(found) and found[j][0] < e:
                ms_, me, kind, code = found[j]
                if me <= e:
                    ms.append(Mention(kind, code, ms_ + shift, me + shift, text[ms_:me]))
                j += 1
            seg.sentences.append(Sentence(
                article_id=art.id,
                index=len(seg.sentences),
                block_kind=block.kind,
                section=block.section,
                start=lo + shift,
                end=lo + shift + len(stripped),
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
