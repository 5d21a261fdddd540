"""The repository's top level and packaging metadata: nothing undocumented at the top, and
metadata that installs without setuptools' deprecation warnings."""

from __future__ import annotations

import subprocess
import tomllib

import pytest

from conftest import ROOT

# the layout the owner fixed, plus the folders the README documents
TOP_LEVEL = {".ci", ".gitignore", "Makefile", "README.md", "benchmarks", "corpus", "docs", "models", "pipeline",
             "pyproject.toml", "tests"}


def test_top_level_holds_only_documented_entries():
    """Before: a stray `labels_1.csv` that nothing read or documented."""
    try:
        files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    top = {f.split("/", 1)[0] for f in files.splitlines() if f}
    assert top <= TOP_LEVEL, sorted(top - TOP_LEVEL)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for entry in sorted(TOP_LEVEL - {".gitignore", "README.md"}):
        assert f"{entry}" in readme, f"{entry} is not mentioned in the README"


def test_licence_is_an_spdx_expression():
    """Before: `license = { text = "MIT" }`, which setuptools >= 77 reports with a
    deprecation warning (twice) at every install."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["license"] == "MIT"
    assert not any(k.startswith("License ::") for k in meta["project"].get("classifiers", []))
    (req,) = [r for r in meta["build-system"]["requires"] if r.startswith("setuptools")]
    assert ">=" in req and int(req.split(">=")[1].split(".")[0].split(",")[0]) >= 77, req
