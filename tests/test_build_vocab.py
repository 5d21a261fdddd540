"""corpus/build/build_vocab.py: the committed actor vocabulary is what the builder makes
from the raw event-coding dictionaries, and its rules (a state's own organs)."""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def bv():
    spec = importlib.util.spec_from_file_location("build_vocab", ROOT / "corpus" / "build" / "build_vocab.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_actors_csv_is_the_builders_output(bv, tmp_path, monkeypatch):
    for f in (ROOT / "corpus" / "vocab").glob("*.csv"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "actors.csv").unlink()
    monkeypatch.setattr(bv, "VOCAB", tmp_path)
    stats = Counter()
    bv.build_actors(stats)
    assert (tmp_path / "actors.csv").read_bytes() == (ROOT / "corpus" / "vocab" / "actors.csv").read_bytes()
    assert stats["phoenix state-organ groups (GOV, MIL, SPY, COP, LEG) added"] > 40


def test_state_organs_are_groups_coded_only_as_one_states_organs(bv):
    countries = {"USA": {}, "RUS": {}}
    organ = bv.state_organ
    assert organ([("USAGOVLEG", 0, 99999999, False)], countries) == "USA"  # the US Congress
    assert organ([("RUSSPY", 0, 99999999, False)], countries) == "RUS"  # the FSB
    assert organ([("USAGOVJUD", 0, 99999999, False)], countries) is None  # a court is not an actor
    assert organ([("USAOPP", 0, 99999999, False)], countries) is None
    assert organ([("USAGOV", 0, 20010120, True)], countries) is None  # dated: a person (office holders)
    assert organ([("USAGOV", 0, 99999999, False), ("RUSGOV", 0, 99999999, False)], countries) is None
    assert organ([("USA", 0, 99999999, False)], countries) is None  # the country block itself


def test_acronym_spellings_are_kept_beside_the_name(bv):
    rows = {(r["code"], r["alias"]) for r in bv.read_csv("actors.csv")}
    for code, alias in (("USA", "FBI"), ("USA", "CIA"), ("RUS", "FSB"), ("RUS", "DUMA"), ("RUS", "Duma"),
                        ("USA", "Federal Bureau of Investigation")):
        assert (code, alias) in rows
    # generic names many states share are removed by actors_manual.csv
    assert not {a for c, a in rows if a in ("National Security Council", "Senate", "Secretary of State")}


def test_igo_acronyms_and_both_spellings_are_aliases(bv):
    rows = {(r["code"], r["alias"]): r["kind"] for r in bv.read_csv("actors.csv")}
    for code, alias in (("OECD", "OECD"), ("GCC", "GCC"), ("OAS", "Organisation of American States"),
                        ("OAS", "Organization of American States"), ("OPEC", "OPEC+")):
        assert rows.get((code, alias)) == "igo", (code, alias)
    assert ("QUAD", "QUAD") not in rows  # a code news does not write as an acronym is not an alias
    # a state's organs keep their own spelling ("Department of Defence" is Australia's)
    assert ("USA", "Department of Defence") not in rows
    assert rows[("USA", "FBI")] == "organ" and rows[("USA", "Congress")] == "legislature"
