"""Small helpers shared by the commands."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def fail(message: str, code: int = 2) -> "typer.Exit":
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def info(message: str, quiet: bool = False) -> None:
    if not quiet:
        typer.echo(message, err=True)


def is_tty() -> bool:
    return sys.stderr.isatty()


def resolve_model(model: Path | None) -> Path:
    from pipeline.config import load_settings

    return model if model is not None else load_settings().path("run", "default_model")
