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
    ],
)
def test_actor_aliases_and_metonyms(nlp, text, expected):
    assert _found(nlp, text) == expected


def test_case_us_pronoun_is_not_the_usa(nlp):
    assert _found(nlp, "Let us hope the talks go well.") == []
    assert _found(nlp, "The US hopes the talks go well.") == ["USA"]


@pytest.mark.parametrize("text", ["The Washington Post reported the story.", "According to the Washington Times, it rained."])
def test_false_friends(nlp, text):
    assert "USA" not in _found(nlp, text)


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
