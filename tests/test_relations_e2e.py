"""The relations issue's examples, through the real command line: records only where a
sentence is about two actors' relation, with a stance per pair."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import SEED, run_cli

EXAMPLES = """Western allies expel Russian diplomats

By John Smith, Moscow correspondent

02:22

The United States and Britain expelled dozens of Russian diplomats on Monday over the poisoning of a former spy.

Story Continued Below

Maria Sharapova became the first Russian woman to win the US Open after beating an American rival in the final.

The FBI interviewed Flynn in January as part of a domestic investigation into his finances.

Japanese fishing boats were seen in the Sea of Japan on Tuesday.

After talks with the leaders of Jordan, Saudi Arabia, Egypt, and Israel, Obama hoped the region would back a ceasefire in Syria.

An Australian diplomat met a Trump campaign adviser in a London pub in 2016.
"""


@pytest.fixture(scope="module")
def examples_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("examples")
    (d / "examples.txt").write_text(EXAMPLES, encoding="utf-8")
    run_cli("run", str(d / "examples.txt"), "-o", str(d / "out"), "-q")
    read = lambda name: pd.read_csv(d / "out" / f"{name}.csv", keep_default_na=False)  # noqa: E731
    return read("sentences"), read("records"), read("relations")


def _sid(sentences, start):
    (sid,) = sentences[sentences.text.str.startswith(start)].sentence_id
    return sid


def _pairs(records, sid):
    r = records[records.sentence_id == sid]
    return {(a, b): s for a, b, s in zip(r.actor_a, r.actor_b, r.stance)}


def test_expulsion_gives_each_pair_its_own_stance(examples_run):
    sentences, records, _ = examples_run
    pairs = _pairs(records, _sid(sentences, "The United States and Britain expelled"))
    assert pairs.get(("RUS", "USA")) == "divergence"
    assert pairs.get(("GBR", "RUS")) == "divergence"
    assert pairs.get(("GBR", "USA")) != "divergence"  # allies are not adversaries because they share a sentence


@pytest.mark.parametrize("start", ["By John Smith", "02:22", "Story Continued Below", "Maria Sharapova",
                                   "The FBI interviewed Flynn", "An Australian diplomat"])
def test_sentences_about_no_relation_give_no_record(examples_run, start):
    sentences, records, _ = examples_run
    assert _pairs(records, _sid(sentences, start)) == {}


def test_sea_of_japan_is_no_actor(examples_run):
    sentences, records, _ = examples_run
    sid = _sid(sentences, "Japanese fishing boats")
    assert not any("JPN" in p for p in _pairs(records, sid))


def test_five_actor_sentence_keeps_usa_and_israel(examples_run):
    sentences, records, _ = examples_run
    row = sentences[sentences.text.str.startswith("After talks with the leaders")].iloc[0]
    assert {"USA", "ISR", "JOR", "SAU", "EGY"} <= set(row.actors.split(";"))
    pairs = _pairs(records, row.sentence_id)
    assert pairs and all("USA" in p for p in pairs)  # Obama's talks relate the US to the others, not them to each other


def test_relations_table_agrees_with_records(examples_run):
    _, records, relations = examples_run
    assert len(relations) == len(records.groupby(["actor_a", "actor_b"]))
    for r in relations.itertuples():
        rs = records[(records.actor_a == r.actor_a) & (records.actor_b == r.actor_b)].drop_duplicates("sentence_id")
        assert r.n_sentences == len(rs) and r.n_divergence == (rs.stance == "divergence").sum()
        if r.net_stance == "divergence":
            assert r.n_divergence > r.n_convergence
        if r.net_stance == "convergence":
            assert r.n_convergence > r.n_divergence


def test_plover_format(tmp_path):
    out = tmp_path / "p"
    run_cli("run", str(SEED), "-o", str(out), "--format", "plover", "-q")
    events = [json.loads(line) for line in (out / "plover.jsonl").read_text(encoding="utf-8").splitlines()]
    records = pd.read_json(out / "records.jsonl", lines=True)
    assert len(events) == len(records.drop_duplicates(["sentence_id", "actor_a", "actor_b"]))
    assert len({e["id"] for e in events}) == len(events)
    for e in events:
        assert {e["actor"], e["recipient"]} == {"RUS", "USA"} and e["quad_code"] in (0, 1, 3)
        assert e["coder"].startswith("stance-pipeline default-") and e["text"]
    again = tmp_path / "q"
    run_cli("run", str(SEED), "-o", str(again), "--format", "plover", "-q")
    assert [e["id"] for e in events] == [json.loads(l)["id"] for l in (again / "plover.jsonl").read_text().splitlines()]
