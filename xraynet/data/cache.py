"""Where xraynet caches what it decodes (the image store of :mod:`.store`, recorded splits)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$XRAYNET_CACHE_DIR``, else ``$XDG_CACHE_HOME/xraynet``, else ``~/.cache/xraynet``."""
    if os.environ.get("XRAYNET_CACHE_DIR"):
        return Path(os.environ["XRAYNET_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xraynet"
