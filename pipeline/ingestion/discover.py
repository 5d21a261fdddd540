"""Finding input files: files, folders (recursive, symlink loops detected) and globs."""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
from pathlib import Path
from typing import Iterator

from pipeline.contracts import ErrorEntry

SUFFIXES = {".txt": "text", ".md": "text", ".markdown": "text", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".csv": "csv"}


def format_of(path: Path) -> str | None:
    """The input format a file's suffix selects, or None when unsupported."""
    return SUFFIXES.get(path.suffix.lower())


#: Files inside a folder that document the folder rather than being articles.
DOC_FILES = ("README*", "PROVENANCE*", "LICENSE*", "LICENCE*", "CHANGELOG*")


#: A file ``stance run`` writes into its output folder: a folder holding it is never read
#: as input (an output folder inside the input folder would otherwise be read back).
OUTPUT_MARKER = ".stance-output"


def is_output_folder(folder: Path) -> bool:
    """An output folder of ``stance run`` (its marker, or the run.json + articles.csv that
    older versions left without one)."""
    return (folder / OUTPUT_MARKER).exists() or ((folder / "run.json").is_file() and
                                                 any((folder / f"articles.{ext}").exists() for ext in ("csv", "jsonl", "parquet")))


def not_regular(path: Path) -> str:
    """Why a path cannot be read as an input file ("" when it is a regular file): only
    regular files are read; a FIFO would block for ever, a device never ends."""
    try:
        mode = os.stat(path).st_mode  # follows symlinks: a link to /dev/zero is a device
    except OSError as exc:
        return f"cannot stat ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return ""
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"{kind}, not a regular file; skipped"


def _walk(folder: Path) -> Iterator[Path | ErrorEntry]:
    seen: set[tuple[int, int]] = set()
    errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True, onerror=errors.append):
        while errors:  # a folder that cannot be listed is an error row, not silence
            exc = errors.pop(0)
            yield ErrorEntry(str(exc.filename or dirpath), f"cannot read directory ({exc.strerror or exc})", stage="discover")
        if is_output_folder(Path(dirpath)):
            dirnames[:] = []
            yield ErrorEntry(dirpath, "output folder of a stance run; not read as input", stage="discover", severity="warning")
            continue
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            dirnames[:] = []
            yield ErrorEntry(dirpath, f"cannot read directory ({exc.strerror or exc})", stage="discover")
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            dirnames[:] = []
            yield ErrorEntry(dirpath, "directory already visited (symlink loop); skipped", stage="discover", severity="warning")
            continue
        seen.add(key)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            p = Path(dirpath) / name
            if any(fnmatch.fnmatch(name.upper(), pat) for pat in DOC_FILES):
                yield ErrorEntry(str(p), "documentation file (README, PROVENANCE, LICENSE …), not an article; skipped "
                                 "(name it explicitly to read it)", stage="discover", severity="warning")
            elif format_of(p) is None:
                yield ErrorEntry(str(p), f"unsupported file type {p.suffix or '(none)'!r}; skipped", stage="discover", severity="warning")
            elif why := not_regular(p):
                yield ErrorEntry(str(p), why, stage="discover")
            else:
                yield p
    while errors:
        exc = errors.pop(0)
        yield ErrorEntry(str(exc.filename or folder), f"cannot read directory ({exc.strerror or exc})", stage="discover")


def discover(paths: list[str | os.PathLike]) -> Iterator[Path | ErrorEntry]:
    """Yield input files in a stable order, each real file once, or an error entry for
    what cannot be used (see :func:`_discover`)."""
    seen: set[tuple[int, int]] = set()
    for found in _discover(paths):
        if isinstance(found, Path):
            try:
                st = found.stat()
                key = (st.st_dev, st.st_ino)
            except OSError:
                key = None
            if key is not None:
                if key in seen:
                    continue  # the same file named twice (path and glob, or a symlink)
                seen.add(key)
        yield found


def _discover(paths: list[str | os.PathLike]) -> Iterator[Path | ErrorEntry]:
    """Yield input files in a stable order, or an error entry for what cannot be used.

    A folder is walked recursively (hidden entries skipped, each real directory visited
    once, so a symlink loop ends); a string with ``*``, ``?`` or ``[`` is a glob.
    """
    for raw in paths:
        s = str(raw)
        if any(ch in s for ch in "*?[") and not os.path.exists(s):
            matches = sorted(glob.glob(s, recursive=True))
            if not matches:
                yield ErrorEntry(s, "pattern matched no file", stage="discover")
            for m in matches:
                yield from _discover([m])
            continue
        p = Path(s)
        if p.is_dir():
            if not os.access(p, os.R_OK | os.X_OK):
                yield ErrorEntry(s, "cannot read directory (permission denied)", stage="discover")
            elif is_output_folder(p):
                yield ErrorEntry(s, "output folder of a stance run; not read as input", stage="discover")
            else:
                yield from _walk(p)
        elif p.exists() and (why := not_regular(p)):
            yield ErrorEntry(s, why, stage="discover")
        elif p.is_file():
            if format_of(p) is None:
                yield ErrorEntry(s, f"unsupported file type {p.suffix or '(none)'!r} (expected one of {', '.join(sorted(SUFFIXES))})", stage="discover")
            else:
                yield p
        elif p.is_symlink():
            yield ErrorEntry(s, "broken symbolic link", stage="discover")
        else:
            yield ErrorEntry(s, "no such file or directory", stage="discover")
