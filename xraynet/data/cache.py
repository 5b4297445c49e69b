"""On-disk cache of decoded arrays, keyed by the file list and the decode settings."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

log = logging.getLogger("xraynet")


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

    def load(self, key: str, *, arrays: tuple[str, ...] = (),
             header: tuple[str, ...] = ()) -> tuple[dict[str, np.ndarray], dict] | None:
        """The arrays and header stored under ``key``, or None when there are none. A file that
        cannot be read (truncated by a full disk, a copy gone wrong) is reported once, removed,
        and None returned, so the caller decodes again and writes a good one; so is one that
        lacks any of the named ``arrays`` or ``header`` entries."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                stored = {name: data[name] for name in data.files if name != "__header__"}
                meta = json.loads(str(data["__header__"]))
            if not isinstance(meta, dict):
                raise ValueError("its header is not a JSON object")
            missing = [n for n in arrays if n not in stored] + [n for n in header if n not in meta]
            if missing:
                raise ValueError(f"it lacks {', '.join(missing)}")
            return stored, meta
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("warning: the decoded-image cache %s is unreadable (%s): removed; the "
                        "images are decoded again", path, str(exc).splitlines()[0] if str(exc)
                        else type(exc).__name__)
            path.unlink(missing_ok=True)
            return None

    def save(self, key: str, arrays: dict[str, np.ndarray], header: dict) -> Path:
        """Write atomically (temp file then rename), so an interrupted run leaves no half file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp, __header__=np.array(json.dumps(header)), **arrays)
        os.replace(tmp, path)
        return path
