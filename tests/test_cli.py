"""Command-line plumbing: help, input counting for the progress bar, progress output."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SEED, run_cli
from pipeline.cli.run import count_inputs


def test_help_lists_every_command():
    out = run_cli("--help").stdout
    for cmd in ("run", "segment", "train", "classify", "evaluate", "export", "report", "agreement"):
        assert cmd in out


def test_count_inputs(tmp_path):
    j = tmp_path / "a.jsonl"
    j.write_text('{"text": "a"}\n\n{"text": "b"}\n', encoding="utf-8")
    assert count_inputs([str(j), str(SEED)]) == 3
    assert count_inputs([str(ROOT / "corpus/articles")]) is None  # a CSV is among them
    assert count_inputs([str(tmp_path / "missing.txt")]) == 1


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script` for a pseudo-terminal")
def test_progress_bar_on_a_terminal_and_quiet_otherwise(tmp_path):
    cmd = f"{sys.executable} -m pipeline run {SEED} -o {tmp_path / 'o'}"
    tty = subprocess.run(["script", "-qec", cmd, "/dev/null"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert tty.returncode == 0 and "stance run" in tty.stdout and "articles" in tty.stdout
    plain = run_cli("run", str(SEED), "-o", str(tmp_path / "p"))
    assert "stance run:" not in plain.stderr  # no bar when not a terminal, only the summary
    assert "1 articles processed" in plain.stderr
