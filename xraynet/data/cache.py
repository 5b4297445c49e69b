"""On-disk cache of decoded arrays, keyed by the file list and the decode settings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def default_cache_dir() -> Path:
    """``$XRAYNET_CACHE_DIR``, else ``$XDG_CACHE_HOME/xraynet``, else ``~/.cache/xraynet``."""
    if os.environ.get("XRAYNET_CACHE_DIR"):
        return Path(os.environ["XRAYNET_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xraynet"


class ArrayCache:
    """Stores named numpy arrays plus a JSON header in one ``<key>.npz`` file per key."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        return self.directory / f"decoded-{key}.npz"

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        """The arrays and header stored under ``key``, or None (missing or unreadable)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files if name != "__header__"}
                header = json.loads(str(data["__header__"]))
            return arrays, header
        except (OSError, ValueError, KeyError):
            return None

    def save(self, key: str, arrays: dict[str, np.ndarray], header: dict) -> Path:
        """Write atomically (temp file then rename), so an interrupted run leaves no half file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, __header__=np.array(json.dumps(header)), **arrays)
        os.replace(tmp, path)
        return path
