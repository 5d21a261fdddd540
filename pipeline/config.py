"""Settings: read once from ``corpus/config/settings.toml``.

The repository root is found from this file's location, or from ``$STANCE_HOME``
when the package is installed elsewhere. Paths in the settings are relative to it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any


def project_root() -> Path:
    env = os.environ.get("STANCE_HOME")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    root: Path
    values: dict[str, Any]

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.values.get(section, {}).get(key, default)

    def path(self, section: str, key: str) -> Path:
        value = self.get(section, key)
        if value is None:
            raise KeyError(f"setting [{section}] {key} is missing")
        p = Path(value)
        return p if p.is_absolute() else self.root / p


@lru_cache(maxsize=4)
def load_settings(path: str | None = None) -> Settings:
    """Load the settings file (default: ``corpus/config/settings.toml`` under the root)."""
    root = project_root()
    file = Path(path) if path else root / "corpus" / "config" / "settings.toml"
    with open(file, "rb") as fh:
        values = tomllib.load(fh)
    return Settings(root=root, values=values)
