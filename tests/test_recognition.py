"""Recognition: aliases, case, metonyms, false friends, topics of the seed's tables."""

from __future__ import annotations

import pytest

from pipeline.recognition import codes, mentions


def _found(nlp, text, kind="actor"):
    doc = nlp(text)
    return codes(mentions(doc[:], 0), kind)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The United States and Russia met.", ["USA", "RUS"]),
        ("The U.S. and the Kremlin disagree.", ["USA", "RUS"]),
        ("Washington warned Moscow on Tuesday.", ["USA", "RUS"]),
        ("The White House and the Pentagon said so.", ["USA"]),
        ("American and Russian officials met.", ["USA", "RUS"]),
        ("Putin called Biden.", ["RUS", "USA"]),
        ("Beijing and Kyiv signed a deal.", ["CHN", "UKR"]),
        ("NATO and the EU met at the UN.", ["NATO", "EU", "UN"]),
        ("U.S. WHEAT BONUS TO SOVIET UNION CALLED DORMANT", ["USA", "RUS"]),
        # the capitalisations and hyphenated pairs news uses
        ("Nato allies met in Brussels.", ["NATO", "EU"]),
        ("U.S.-Russia relations soured.", ["USA", "RUS"]),
        ("The U.S.-Russian summit ended.", ["USA", "RUS"]),
        ("US-Russian ties and the Russia-Ukraine war.", ["USA", "RUS", "UKR"]),
        ("Sino-US trade talks resumed.", ["CHN", "USA"]),
        ("Anglo-American relations soured.", ["GBR", "USA"]),
        ("the People’s Republic of China said", ["CHN"]),
        ("Liz Truss met Lavrov; Truss warned him.", ["GBR", "RUS"]),
        ("The North Koreans fired a missile.", ["PRK"]),
        # a state's own organs (Phoenix's GOV / MIL / SPY / COP / LEG groups)
        ("The FBI and the Central Intelligence Agency briefed the Duma.", ["USA", "RUS"]),
        ("The FSB accused Mossad.", ["RUS", "ISR"]),
    ],
)
def test_actor_aliases_and_metonyms(nlp, text, expected):
    assert _found(nlp, text) == expected


def test_case_us_pronoun_is_not_the_usa(nlp):
    assert _found(nlp, "Let us hope the talks go well.") == []
    assert _found(nlp, "The US hopes the talks go well.") == ["USA"]


@pytest.mark.parametrize("text", ["The Washington Post reported the story.", "According to the Washington Times, it rained.",
                                  "USA Today reported it.", "the National Security Council met",
                                  "The Senate voted on Tuesday.", "South American nations met.",
                                  "African Americans and Native Americans voted.", "North American markets fell."])
def test_false_friends(nlp, text):
    assert "USA" not in _found(nlp, text) and "UN" not in _found(nlp, text)


def test_surnames_of_common_words_are_not_aliases(nlp):
    assert _found(nlp, "Rice prices rose in May, Brown said.") == []


def test_mention_offsets(nlp):
    text = "Officials in Moscow and Washington agreed."
    doc = nlp(text)
    for m in mentions(doc[:], 100):
        assert text[m.start - 100 : m.end - 100] == m.text


@pytest.mark.parametrize(
    "cell,topic",
    [
        ("Regional Stability", "regional_security"),
        ("Cybersecurity", "cybersecurity"),
        ("Nuclear Policy", "arms_control"),
        ("Arms Control", "arms_control"),
        ("Regional Security", "regional_security"),
        ("Military Communication", "military_communication"),
        ("Crisis Simulations", "crisis_management"),
        ("Extend New START treaty", "arms_control"),
        ("Commitments to nuclear non-proliferation", "arms_control"),
    ],
)
def test_seed_table_topics_map_to_taxonomy(nlp, cell, topic):
    assert topic in _found(nlp, cell, "topic")


def test_vocab_matcher_equals_two_span_rulers(settings, seed_article):
    """The one-pass matcher finds exactly the spans that two SpanRulers (first-longest
    filter) find, on the seed article and on overlapping, nested and excluded aliases."""
    import spacy

    from pipeline.recognition import ACTOR_KEY, TOPIC_KEY, actor_patterns, add_recognisers, topic_patterns

    ours = add_recognisers(spacy.blank("en"), settings, set_spans=True)
    ref = spacy.blank("en")
    longest = {"@misc": "spacy.first_longest_spans_filter.v1"}
    for key, attr, pats in ((ACTOR_KEY, "ORTH", actor_patterns(settings)), (TOPIC_KEY, "LOWER", topic_patterns(settings))):
        ruler = ref.add_pipe("span_ruler", name=key, config={"spans_key": key, "phrase_matcher_attr": attr,
                                                              "spans_filter": longest, "validate": False})
        ruler.add_patterns(pats)
    texts = [b.text for b in seed_article.blocks] + [
        "The Washington Post said the United States Department of State and the Russian Federation met.",
        "U.S. President Joe Biden and Russian President Vladimir Putin discussed arms control and New START.",
        "NATO, the EU, the UN Security Council and the Kremlin; cyber security and cybersecurity talks.",
    ]
    n = 0
    for text in texts:
        a, b = ours(text), ref(text)
        for key in (ACTOR_KEY, TOPIC_KEY):
            got = [(s.start, s.end, s.label_) for s in a.spans[key]]
            assert got == [(s.start, s.end, s.label_) for s in b.spans[key]], text
            n += len(got)
    assert n > 20


def test_doc_mentions_offsets_point_at_the_text(nlp):
    from pipeline.recognition import doc_mentions

    text = "Talks between Washington and Moscow on arms control stalled."
    ms = doc_mentions(nlp(text), 100, text)
    assert [(m.kind, m.code) for m in ms] == [("topic", "diplomacy"), ("actor", "USA"), ("actor", "RUS"), ("topic", "arms_control")]
    for m in ms:
        assert text[m.start - 100 : m.end - 100] == m.text


@pytest.mark.parametrize("name,floor", [("actor_recall.csv", 0.94), ("actor_recall_2.csv", 0.92),
                                                ("actor_recall_3.csv", 0.88), ("actor_recall_4.csv", 0.81)])
def test_actor_recall_on_annotated_news_sentences(nlp, name, floor):
    """Recall of state, bloc and IGO references an annotator listed in random news sentences
    (README: actor recognition); fails if a vocabulary change loses actors."""
    from conftest import ROOT
    from pipeline.recognition.recall import actor_recall

    res = actor_recall(ROOT / "corpus" / "eval" / name, nlp)
    assert res["references"] > 250
    assert res["recall"] >= floor, res["misses"][:20]
