"""Errors that end a run with one line for the user (the CLI prints ``error: <message>``).

Bad *inputs* never raise: they become rows of ``errors.csv`` and the run goes on. These are
the faults of the run itself: where it writes, the disk, the user stopping it.
"""

from __future__ import annotations

import errno


class RunError(RuntimeError):
    """A run that cannot go on; its message is the whole story, in one line."""

    exit_code = 2


class OutputInUse(RunError):
    """Another run holds the output folder's lock."""


class DiskFull(RunError):
    """No space left while writing the outputs or the store."""


class Interrupted(RunError):
    """Ctrl-C (SIGINT): the run stopped; what was kept is in the message."""

    exit_code = 130


def is_disk_full(exc: BaseException) -> bool:
    """An OSError with ENOSPC / EDQUOT, or a DuckDB I/O error that reports one."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    text = str(exc).lower()
    return type(exc).__name__ == "IOException" and ("no space left" in text or "disk quota" in text)
