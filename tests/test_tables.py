"""Table rows: topic cells (alias, similarity, ad hoc), the row classifier, the layout."""

from __future__ import annotations

import pytest

from pipeline.tables.model import cell_action, row_context
from pipeline.tables.topics import TopicMatcher


@pytest.fixture(scope="module")
def matcher(settings):
    return TopicMatcher.from_settings(settings)


@pytest.fixture(scope="module")
def model():
    from pipeline.cli._util import resolve_model
    from pipeline.models import load_model

    m = load_model(resolve_model(None))
    if m.table is None:
        pytest.fail("the default model has no table-row classifier (train it with `make train`)")
    return m


def test_alias_wins(matcher):
    m = matcher.match("Nuclear Policy", "arms_control")
    assert (m.topic, m.method, m.score) == ("arms_control", "alias", 1.0)


@pytest.mark.parametrize("cell, topic", [("Counter-terror cooperation", "counterterrorism"),
                                         ("Hot-lines", "military_communication"), ("Sanction relief", "sanctions")])
def test_similar_cells_reach_the_taxonomy(matcher, cell, topic):
    m = matcher.match(cell, None)
    assert (m.topic, m.method) == (topic, "similarity") and m.score >= matcher.min_similarity


def test_space_is_a_topic_of_its_own_not_cyberspace(matcher):
    assert matcher.match("Space", None).topic == "space"  # (None: the topic ruler found no alias)
    assert matcher.match("Anti-satellite weapons", None).topic == "space"


@pytest.mark.parametrize("cell", ["Airspace", "Food Security", "ISS cooperation", "Search and Rescue"])
def test_unrelated_cells_get_an_adhoc_topic_not_a_lookalike(matcher, cell):
    m = matcher.match(cell, None)
    assert m.method == "adhoc" and m.topic.startswith("adhoc:"), m


def test_adhoc_topic_is_found_in_the_prose_by_lemma(matcher):
    m = matcher.match("Search and Rescue", None)
    assert m.keywords == ("search", "rescue")
    assert matcher.mentions(m, "Moscow pulled its rescue crews from the exercise.")
    ship = matcher.match("Shipping", None)
    assert matcher.mentions(ship, "Two ships were stopped near Dover.")
    pilgrims = matcher.match("Pilgrimages", None)
    assert matcher.mentions(pilgrims, "India let 2,000 Sikh pilgrims cross.")
    assert not matcher.mentions(m, "The two sides met in Geneva.")


def test_general_words_alone_do_not_make_a_topic_but_are_kept_when_alone(matcher):
    assert matcher.match("Military Activity", None).keywords == ("military", "activity")
    assert matcher.match("Military exercises", None).keywords == ("exercise",)
    assert matcher.match("---", None).method == "none"


def test_row_features_are_symmetric():
    a, b = "Resume New START inspections", "Suspends the treaty talks"
    assert row_context(a, b) == row_context(b, a)
    assert "refuse_one" in row_context(a, b)
    assert "shared_refuse_one" in row_context("Share intelligence on ISIS", "Refuses to share")


def test_cell_actions_from_the_vocabulary():
    assert cell_action("Suspends inspections and treaty talks") == "close"
    assert cell_action("Will not resume the talks") == "close"  # a negated open word
    assert cell_action("Pledges not to close the canal") == "open"
    assert cell_action("Seeks the lifting of the embargo") == "open"  # the first action word
    assert cell_action("Demands a seat at the table") == "want"
    assert cell_action("Calls the drills provocative") == "none"  # "call" only as "call for"
    assert cell_action("Calls for new elections") == "want"
    # the CAMEO verbs of the cue vocabulary: "curb" (17, coerce) closes, "propose" (02) asks
    assert cell_action("Presses for curbs on precursor exports") == "close"
    assert cell_action("Proposes a summit") == "want"
    # a participle after a determiner or preposition describes, it does not act
    assert cell_action("Seeks consular access to detained Briton") == "want"
    assert "act=close_open" in row_context("Halted the ferry service", "Wants the ferries restarted")
    assert "act=open_open" in row_context("Reopened the crossing", "Wants the crossing reopened")


def test_row_classifier_reads_two_positions(model):
    """The issue's rows: read as one sentence they came out convergence and neutral."""
    (p, q, r) = model.table.predict([("Resume New START inspections", "Suspends the treaty talks"),
                                     ("Share intelligence on ISIS", "Refuses to share"),
                                     ("Extend the treaty", "Supports an extension")])
    assert p.stance == "divergence" and q.stance == "divergence", (p, q)
    assert r.stance == "convergence", r
    (x, y) = model.table.predict([("Suspends the treaty talks", "Resume New START inspections"),
                                  ("Resume New START inspections", "Suspends the treaty talks")])
    assert x.p_divergence == pytest.approx(y.p_divergence)


def test_card_reports_the_table_classifier_next_to_its_baselines(model):
    t = model.card["table"]
    held = t["metrics"]["heldout"]
    assert held["n"] >= 50 and t["data"]["rows"] >= 300
    assert held["model"]["macro_f1"] > held["baseline_row_as_one_sentence"]["macro_f1"]
    assert "cross_source" in t["metrics"]
