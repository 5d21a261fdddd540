"""The ``stance`` command line: one Typer app, one module per command.

Each command only parses arguments, validates paths and calls a plain function that
the tests import too.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="stance",
    help="Convergence / divergence records between states from news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from pipeline.cli import agreement, annotate, classify, evaluate, export, report, run, segment, train  # noqa: F401


def main() -> None:
    _register()
    app()
