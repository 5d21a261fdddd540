"""`stance agreement` (pipeline/agreement.py): κ and α against published values and
independent computations, on fixed data and on the project's doubly annotated subsets."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from conftest import ROOT, run_cli
from pipeline.agreement import AgreementError, cohen_kappa, compare, krippendorff_alpha, pair_files, side_by_side


def _alpha_by_hand(a, b):
    """Nominal α for two coders with no missing values, from the coincidence matrix
    (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability")."""
    labels = sorted(set(a) | set(b))
    o = {(c, k): 0 for c in labels for k in labels}
    for x, y in zip(a, b):
        o[(x, y)] += 1
        o[(y, x)] += 1
    n_c = {c: sum(o[(c, k)] for k in labels) for c in labels}
    n = sum(n_c.values())
    observed = sum(v for (c, k), v in o.items() if c != k)
    expected = sum(n_c[c] * n_c[k] for c in labels for k in labels if c != k)
    return 1 - (n - 1) * observed / expected


def test_published_binary_example():
    """Krippendorff (2011), section A: two observers, ten units, binary data: α = 0.095.
    Cohen's κ by hand: p_o = 0.6, p_e = 0.2·0.4 + 0.8·0.6 = 0.56, κ = 0.04 / 0.44."""
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    a, b = [str(x) for x in a], [str(x) for x in b]
    assert krippendorff_alpha(a, b) == pytest.approx(0.095, abs=0.0005)
    assert cohen_kappa(a, b) == pytest.approx(0.04 / 0.44)


def test_alpha_and_kappa_equal_independent_computations():
    from sklearn.metrics import cohen_kappa_score

    rng = random.Random(5)
    labs = ["convergence", "divergence", "neutral"]
    for _ in range(20):
        a = [rng.choice(labs) for _ in range(60)]
        b = [x if rng.random() < 0.7 else rng.choice(labs) for x in a]
        assert krippendorff_alpha(a, b) == pytest.approx(_alpha_by_hand(a, b))
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_project_subsets_give_the_readme_figures():
    items = side_by_side(pd.read_csv(ROOT / "corpus/annotations/pairs_agreement.csv", dtype=str, keep_default_na=False), "p")
    t = compare(items)
    assert (t["relevance"].n, round(t["relevance"].kappa, 3)) == (379, 0.925)
    assert (t["stance"].n, round(t["stance"].kappa, 3)) == (129, 0.976)
    assert t["relevance"].confusion.values.sum() == 379
    assert len(t["relevance"].disagreements) == t["relevance"].n - round(t["relevance"].observed * t["relevance"].n)
    s = compare(side_by_side(pd.read_csv(ROOT / "corpus/annotations/agreement.csv", dtype=str, keep_default_na=False), "s"))
    assert set(s) == {"stance"} and s["stance"].n == 180 and round(s["stance"].kappa, 2) == 0.97
    e = compare(side_by_side(pd.read_csv(ROOT / "corpus/eval/agreement.csv", dtype=str, keep_default_na=False), "e"))
    assert (round(e["relevance"].kappa, 3), round(e["stance"].kappa, 3)) == (0.792, 0.949)


def test_two_files_through_the_command_line(tmp_path):
    both = pd.read_csv(ROOT / "corpus/annotations/pairs_agreement.csv", dtype=str, keep_default_na=False)
    a = both[["uid", "text", "source", "pair", "label_first"]].rename(columns={"label_first": "label"})
    b = both[["uid", "text", "pair", "label_second"]].rename(columns={"label_second": "label"})
    b = b.sample(frac=1, random_state=1)  # another order: items are matched on uid + pair
    a.to_csv(tmp_path / "a.csv", index=False)
    b.iloc[:-3].to_csv(tmp_path / "b.csv", index=False)  # three items only the first annotator did
    proc = run_cli("agreement", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--json", str(tmp_path / "k.json"),
                   "--disagreements", str(tmp_path / "d.csv"))
    assert "only in the first file: 3" in proc.stdout
    data = {t["task"]: t for t in json.loads((tmp_path / "k.json").read_text())["tasks"]}
    kept = both[both.set_index(["uid", "pair"]).index.isin(b.iloc[:-3].set_index(["uid", "pair"]).index)]
    from sklearn.metrics import cohen_kappa_score

    rel = cohen_kappa_score(kept.label_first != "none", kept.label_second != "none")
    assert data["relevance"]["n"] == len(kept) and data["relevance"]["cohen_kappa"] == round(rel, 4)
    d = pd.read_csv(tmp_path / "d.csv", keep_default_na=False)
    assert len(d) == data["relevance"]["disagreements"] + data["stance"]["disagreements"]
    assert (d["label_first"] != d["label_second"]).all()


def test_sentence_files_and_errors(tmp_path):
    a = pd.DataFrame({"uid": ["1", "2", "3", "4"], "text": list("abcd"), "stance": ["convergence", "divergence", "neutral", "neutral"]})
    b = pd.DataFrame({"uid": ["4", "3", "2", "1"], "stance": ["Neutral ", "neutral", "divergence", "divergence"]})
    t = compare(pair_files(a, b, ("a", "b")))
    assert t["stance"].n == 4 and t["stance"].observed == 0.75
    with pytest.raises(AgreementError, match="appear twice"):
        pair_files(pd.concat([a, a.iloc[:1]]), b, ("a", "b"))
    with pytest.raises(AgreementError, match="no item in common"):
        pair_files(a, b.assign(uid=["9", "8", "7", "6"]), ("a", "b"))
    with pytest.raises(AgreementError, match="outside"):
        compare(pair_files(a, b.assign(stance=["yes", "no", "neutral", "neutral"]), ("a", "b")))
    a.to_csv(tmp_path / "a.csv", index=False)
    for args, message in ((["agreement", str(tmp_path / "a.csv")], "must hold both annotations"),
                          (["agreement", str(tmp_path / "a.csv"), str(tmp_path / "none.csv")], "no such file")):
        proc = run_cli(*args, check=False)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
