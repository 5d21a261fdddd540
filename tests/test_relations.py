"""Relations: mention rules, candidate pairs, features, the relation model's decisions."""

from __future__ import annotations

import pytest

from pipeline.contracts import Candidate, Prediction, Sentence
from pipeline.relations.candidates import (actor_mentions, article_candidates, load_rules, relation_reference,
                                           sentence_candidates)
from pipeline.relations.features import ArticleContext, context_tokens, marked_text
from pipeline.relations.model import roles
from pipeline.recognition import doc_mentions


@pytest.fixture(scope="module")
def rules(settings):
    return load_rules(settings)


def _sentence(nlp, text, kind="paragraph"):
    doc = nlp(text)
    return Sentence("a", 0, kind, "", 0, len(text), text), doc_mentions(doc, 0, text)


def _actors(nlp, rules, text):
    s, ms = _sentence(nlp, text)
    kept, dropped = actor_mentions(s, ms, rules)
    return [m.code for m in kept], [m.code for m, _ in dropped]


@pytest.mark.parametrize("text,gone", [
    ("Boats were seen in the Sea of Japan.", "JPN"),
    ("A US destroyer sailed through the Taiwan Strait on Monday.", "TWN"),
    ("Russian ships exercised in the Japan Sea.", "JPN"),
    ("An Australian diplomat met him in a London pub.", "GBR"),
    ("The Russian-born banker left.", "RUS"),
    ("She won the US Open.", "USA"),
    ("They signed the Paris Agreement.", "FRA"),
    ("She was the first Russian woman to win.", "RUS"),
    ("Talks were held in Moscow.", "RUS"),
    ("He attacked the Russia probe again.", "RUS"),
    ("Delegates of the Indian National Congress met.", "USA"),
    ("Turkey and Iran joined the Astana talks.", "KAZ"),
    ("Estonia monitors Russian-language outlets.", "RUS"),
    ("Rahul Gandhi's Congress party lost the vote.", "USA"),
])
def test_places_attributes_and_name_parts_are_not_actors(nlp, rules, text, gone):
    kept, dropped = _actors(nlp, rules, text)  # set aside by a mention rule or masked by an exclusion
    assert gone not in kept


@pytest.mark.parametrize("text,code", [
    ("London said it would expel the diplomats.", "GBR"),
    ("Russian officials rejected the plan.", "RUS"),
    ("Moscow warned Washington.", "USA"),
    ("Congress passed new sanctions on Moscow.", "USA"),
    ("Republicans in Congress opposed the deal.", "USA"),  # an organ, not a place
    ("The US Congress approved the aid.", "USA"),
])
def test_metonyms_and_demonyms_for_the_state_stay(nlp, rules, text, code):
    kept, dropped = _actors(nlp, rules, text)
    assert code in kept and not dropped


def test_every_pair_of_named_actors_is_a_candidate_with_no_silent_cap(nlp, rules):
    s, ms = _sentence(nlp, "After talks with the leaders of Jordan, Saudi Arabia, Egypt, and Israel, Obama hoped for a ceasefire in Syria.")
    actors, _ = actor_mentions(s, ms, rules)
    cands, dropped = sentence_candidates(s, actors, main_pair=None, rules=rules)
    codes = {c for x in cands for c in (x.actor_a, x.actor_b)}
    assert {"USA", "ISR", "JOR", "SAU", "EGY"} <= codes and not dropped
    assert all(c.actor_a < c.actor_b and c.pair_source == "explicit" for c in cands)
    assert len(cands) == len({(c.actor_a, c.actor_b) for c in cands})


def test_the_actor_bound_is_a_setting_and_reports_what_it_drops(nlp, rules):
    from dataclasses import replace

    small = replace(rules, max_actors=2)
    s, ms = _sentence(nlp, "Russia, China and Iran met India and Brazil.")
    actors, _ = actor_mentions(s, ms, small)
    cands, dropped = sentence_candidates(s, actors, main_pair=None, rules=small)
    assert len(cands) == 1 and dropped == ["IRN", "IND", "BRA"]


def test_implied_pair_only_when_the_sentence_refers_to_the_relation(nlp, rules):
    main = ("RUS", "USA")
    s, ms = _sentence(nlp, "The two sides agreed to meet again.")
    cands, _ = sentence_candidates(s, actor_mentions(s, ms, rules)[0], main_pair=main, rules=rules)
    assert [(c.actor_a, c.actor_b, c.pair_source) for c in cands] == [("RUS", "USA", "implied")]
    assert cands[0].trigger == "the two sides|strong"
    for text in ("Story Continued Below", "02:22", "By John Smith, Moscow correspondent"):
        s, ms = _sentence(nlp, text)
        assert sentence_candidates(s, actor_mentions(s, ms, rules)[0], main_pair=main, rules=rules)[0] == []
    s, ms = _sentence(nlp, "The two sides agreed to meet again.")
    assert sentence_candidates(s, actor_mentions(s, ms, rules)[0], main_pair=None, rules=rules)[0] == []


def test_relation_reference_prefers_strong_phrases(rules):
    assert relation_reference("Talks between both countries were bilateral.", rules).endswith("|strong")
    assert relation_reference("Nothing here.", rules) == ""


def test_bullets_take_their_intro_lines_pair(nlp, rules, segmenter, settings):
    from pipeline.ingestion import ingest
    from pipeline.segmentation import segment
    import tempfile, pathlib

    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / "a.txt"
        p.write_text("Title line\nWashington and Moscow agreed on several steps:\n- Hotline upgrades: faster links.\n- Data exchange: monthly reports.\n",
                     encoding="utf-8")
        (art,) = list(ingest([p], settings))
    (seg,) = segment([art], nlp)
    per, _ = article_candidates(art, seg.sentences, seg.mentions, main_pair=None, rules=rules)
    bullets = [c for s, cs in zip(seg.sentences, per) if s.block_kind == "bullet" for c in cs]
    assert len(bullets) == 2 and all((c.actor_a, c.actor_b, c.pair_source) == ("RUS", "USA", "intro") for c in bullets)


def _features(nlp, rules, text, a, b, lexicon=None):
    s, ms = _sentence(nlp, text)
    actors, _ = actor_mentions(s, ms, rules)
    cands, _ = sentence_candidates(s, actors, main_pair=None, rules=rules)
    (c,) = [c for c in cands if (c.actor_a, c.actor_b) == (a, b)]
    ctx = context_tokens(s, actors, c, Prediction("divergence", 0.1, 0.8, 0.1), ArticleContext(None, {}), rules.alias_kinds, lexicon)
    return marked_text(s, actors, c), ctx.split()


def test_features_know_which_pair_they_judge(nlp, rules, model):
    marked, ctx = _features(nlp, rules, "The United States and Britain expelled Russian diplomats.", "GBR", "USA", model.lexicon)
    assert "acta" in marked and "actb" in marked and "actx" in marked
    assert "coord" in ctx and "coord&sent=divergence" in ctx
    marked, ctx = _features(nlp, rules, "The United States and Britain expelled Russian diplomats.", "RUS", "USA", model.lexicon)
    assert "coord" not in ctx and "cue_btw=div" in ctx
    _, ctx = _features(nlp, rules, "Relations between Washington and Moscow improved.", "RUS", "USA")
    assert "between_and" in ctx
    _, ctx = _features(nlp, rules, "Crises in areas like Syria, Libya and Ukraine continue.", "SYR", "UKR")
    assert "in_list" in ctx


def test_roles_follow_the_text_order():
    c = Candidate(0, "RUS", "USA", "explicit", ("USA", 0, 2), ("RUS", 10, 16))
    assert roles(c) == ("USA", "RUS")
    assert roles(Candidate(0, "RUS", "USA", "implied", ("RUS", 0, 6), None)) == ("RUS", "USA")


def test_relation_decisions_on_the_issue_examples(model, nlp, rules, settings):
    """Allies who act together are not adversaries; each gets its own stance."""
    from pipeline.ingestion import ingest
    from pipeline.relations.stage import relate
    from pipeline.segmentation import segment
    import pathlib, tempfile

    text = ("Allies expel Russian diplomats\n\nThe United States and Britain expelled dozens of Russian diplomats on Monday "
            "over the poisoning of a former spy.\n")
    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / "a.txt"
        p.write_text(text, encoding="utf-8")
        (art,) = list(ingest([p], settings))
    (seg,) = segment([art], nlp)
    preds = model.predict([s.text for s in seg.sentences])
    (rel,) = relate([seg], [preds], rules, model.relation, lexicon=model.lexicon)
    decided = {(c.actor_a, c.actor_b): d for cs, ds in zip(rel.candidates, rel.decisions) for c, d in zip(cs, ds)
               if c.sentence == 1}
    assert decided[("RUS", "USA")].label == "divergence"
    assert decided[("GBR", "RUS")].label == "divergence"
    assert decided[("GBR", "USA")].label != "divergence"
    for d in decided.values():
        assert abs(d.p_none + d.p_convergence + d.p_divergence + d.p_neutral - 1) < 1e-6 and -1 <= d.score <= 1
