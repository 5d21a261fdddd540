"""Sentence boundaries on real news: the cases the issue lists, general rules rather than
listed cases, and the boundary accuracy on the test set read by hand
(``corpus/eval/sentence_boundaries/``), next to spaCy's plain sentencizer."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import sbd_eval  # noqa: E402


@pytest.fixture(scope="module")
def split():
    seg = sbd_eval.ours()

    def run(text: str) -> list[str]:
        return [text[s:e] for s, e in seg(text)]

    return run


@pytest.mark.parametrize("text, first", [
    # a sentence that ends with an abbreviation, before a sentence starter
    ("Prices are high in the U.S. How about Europe?", "Prices are high in the U.S."),
    ("The shares were sold to Pitt, Briggs & Co. It closed at 12 dollars.", "The shares were sold to Pitt, Briggs & Co."),
    ("The talks ended at 6 P.M. Mr. Smith left at once.", "The talks ended at 6 P.M."),
    ("It was between you and I. Did he know?", "It was between you and I."),
    # an ellipsis and a full stop
    ("He said that.... She left the room.", "He said that...."),
    # the same rules on words the issue does not list
    ("They met at Smith & Sons Ltd. They signed the deal.", "They met at Smith & Sons Ltd."),
    ("The vote is at 9 a.m. We will see.", "The vote is at 9 a.m."),
    ("Moscow wanted more... They refused.", "Moscow wanted more..."),
])
def test_sentence_ending_with_an_abbreviation_or_ellipsis(split, text, first):
    got = split(text)
    assert len(got) == 2 and got[0] == first, got


@pytest.mark.parametrize("text", [
    "U.S. Pacific Command spokesman Cmdr. Dave Benham said the missile flew east.",
    "John F. Kennedy met Nikita Khrushchev in Vienna.",
    "Mr. Smith and Dr. Jones went to St. Petersburg on Jan. 5 to see No. 10.",
    "The U.S. Navy and the U.K. Royal Navy sailed together.",
    "“Why now?” Lavrov asked reporters.",
    "He said the talks were, as he put it … very difficult.",
])
def test_no_boundary_inside_a_sentence(split, text):
    assert split(text) == [text]


@pytest.fixture(scope="module")
def passages():
    return sbd_eval.load_passages()


def test_the_test_set_is_real_news_read_by_hand(passages):
    assert len(passages) >= 100
    assert sum(len(p["sentences"]) for p in passages) >= 300
    assert len({p["source"] for p in passages}) >= 5
    for p in passages:  # the gold sentences are the text, cut at the boundaries
        assert [p["text"][s:e] for s, e in sbd_eval.gold_spans(p)] == p["sentences"], p["id"]


def test_boundary_accuracy_on_the_test_set(passages):
    ours = sbd_eval.evaluate("ours", passages, repeat=1)
    plain = sbd_eval.evaluate("sentencizer", passages, repeat=1)
    # measured: ours F1 0.987, sentence accuracy 0.969; spaCy's sentencizer 0.843 / 0.778
    assert ours["f1"] >= 0.97 and ours["sentence_accuracy"] >= 0.95, ours
    assert ours["f1"] > plain["f1"] + 0.10, (ours, plain)


def test_segment_uses_the_same_rules(seed_article, settings):
    """The pipeline's segment() splits a paragraph block the way the evaluation does."""
    from pipeline.ingestion import build_article
    from pipeline.segmentation import build_segmenter, segment

    text = "Prices are high in the U.S. How about Europe? Moscow wanted more... They refused."
    (seg,) = segment([build_article(text, path="p.txt")], build_segmenter(settings))
    assert [s.text for s in seg.sentences] == ["Prices are high in the U.S.", "How about Europe?",
                                               "Moscow wanted more...", "They refused."]
