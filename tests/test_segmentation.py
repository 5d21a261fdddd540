"""Segmentation: the seed's 34 segments, abbreviations, quotes, block boundaries, offsets."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from pipeline.ingestion import build_article
from pipeline.segmentation import segment


def _sentences(nlp, text):
    a = build_article(text, path="t")
    return a, segment([a], nlp)[0].sentences


def test_seed_has_34_segments_outside_tables(segmenter, seed_article):
    sents = segment([seed_article], segmenter)[0].sentences
    prose = [s for s in sents if s.block_kind != "table"]
    assert len(prose) == 34
    kinds = [s.block_kind for s in prose]
    assert kinds.count("heading") == 4 and kinds.count("bullet") == 10 and kinds.count("paragraph") == 20
    assert [s.text[:20] for s in prose[:3]] == ["The United States ha", "In a statement repor", "This development com"]
    rows = [s for s in sents if s.block_kind == "table"]
    assert len(rows) == 10 and [s.row_index for s in rows[:3]] == [0, 1, 2]
    assert [s.index for s in sents] == list(range(len(sents)))


def test_offsets_point_at_segment_text(segmenter, seed_article):
    for s in segment([seed_article], segmenter)[0].sentences:
        assert seed_article.text[s.start:s.end] == s.text


def test_news_abbreviations_do_not_split(segmenter):
    _, s = _sentences(segmenter, "The U.S. and the U.K. met Gen. Smith and Sen. Jones on Jan. 5 at No. 10 Downing St. in London. Mr. Lavrov left.")
    assert [x.text for x in s] == [
        "The U.S. and the U.K. met Gen. Smith and Sen. Jones on Jan. 5 at No. 10 Downing St. in London.",
        "Mr. Lavrov left.",
    ]


def test_quotations_do_not_split(segmenter):
    _, s = _sentences(segmenter, "“We will not back down,” he said. The talks ended. He said: \"No. We will not.\" Then he left.")
    assert [x.text for x in s] == ["“We will not back down,” he said.", "The talks ended.", "He said: \"No. We will not.\"", "Then he left."]


def test_sentence_ending_with_abbreviation_splits(segmenter):
    _, s = _sentences(segmenter, "Officials left the U.S. The Kremlin said so.")
    assert len(s) == 2


def test_sentences_never_cross_blocks(segmenter):
    a, s = _sentences(segmenter, "First line without stop\n\nSecond paragraph here. Another one.\n- a bullet item. with two parts")
    for x in s:
        block = a.blocks[x.block_index]
        assert block.start <= x.start and x.end <= block.end


_word = st.text(alphabet=st.sampled_from(list("abcdefgXYZ .,;:!?\"“”’-|*•1\n\t")), min_size=0, max_size=400)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_word)
def test_property_offsets_and_no_lost_text(segmenter, text):
    """For any text: offsets point at the segment text, segments do not overlap, and every
    non-space character of every non-table block is inside exactly one segment."""
    if not text.strip():
        return
    a = build_article(text, path="p")
    sents = segment([a], segmenter)[0].sentences
    covered = set()
    for s in sents:
        assert a.text[s.start:s.end] == s.text and s.text.strip() == s.text and s.text
        span = set(range(s.start, s.end))
        assert not (span & covered)
        covered |= span
    for b in a.blocks:
        if b.kind == "table":
            for r in a.tables[b.table_index].rows:
                assert set(range(r.start, r.end)) <= covered
            continue
        for i in range(b.start, b.end):
            if not a.text[i].isspace():
                assert i in covered, (b, i)


_PIECES = ["Hello", "world", ".", "!", "?", "...", "\n\n", " ", "U.S.", "said", "(", ")", "“", "”", '"', "'", ",", ";",
           "No", "10", "the", "The", "—", "。", "a", "!?", "e.g."]


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.lists(st.booleans(), max_size=40))
def test_sentence_rule_equals_spacys_sentencizer(pieces, spaces):
    """The array version of the sentencizer rule gives spaCy's sentencizer's boundaries."""
    import spacy
    from spacy.pipeline.sentencizer import Sentencizer

    from pipeline.segmentation import NewsSentencizer

    text = "".join(p + (" " if sp else "") for p, sp in zip(pieces, spaces + [False] * len(pieces)))
    ref = spacy.blank("en")
    ref.add_pipe("sentencizer")
    doc = ref(text)
    want = [t.i for t in doc if t.is_sent_start]
    final = [t.text in Sentencizer.default_punct_chars for t in doc]
    assert NewsSentencizer.boundaries(final, [t.is_punct for t in doc]) == want


def test_one_doc_per_article_equals_one_doc_per_block(nlp, seed_article):
    """segment() puts an article's blocks into one Doc; every block must come out exactly
    as it would from a Doc of its own (sentences, offsets and mentions)."""

    from pipeline.ingestion import ingest
    from pipeline.recognition import doc_mentions
    from pipeline.contracts import Article
    from conftest import ROOT

    src = ROOT / "corpus/articles/kremlin_us_relations.jsonl"
    arts = [seed_article] + [a for a in ingest([str(src), str(ROOT / "corpus/articles/sample_page.html")]) if isinstance(a, Article)][:40]
    for art, seg in zip(arts, segment(arts, nlp)):
        want = []
        for bi, block in enumerate(art.blocks):
            units = ([(r.text, r.start) for r in art.tables[block.table_index].rows] if block.kind == "table"
                     else [(block.text, block.start)])
            for text, base in units:
                doc = nlp(text)
                whole = block.kind in ("title", "heading", "table")
                spans = [doc[:]] if whole else list(doc.sents)
                found = doc_mentions(doc, base, text)
                for sp in spans:
                    t = sp.text
                    if not t.strip():
                        continue
                    lo = base + sp.start_char + len(t) - len(t.lstrip())
                    hi = lo + len(t.strip())
                    ms = [(m.kind, m.code, m.start, m.end) for m in found
                          if m.start >= base + sp.start_char and m.end <= base + sp.end_char]
                    want.append((bi, lo, hi, ms))
        got = [(s.block_index, s.start, s.end, [(m.kind, m.code, m.start, m.end) for m in ms])
               for s, ms in zip(seg.sentences, seg.mentions)]
        assert got == want, art.id
        assert all(art.text[s.start:s.end] == s.text for s in seg.sentences)
