"""The server process's allocator: large buffers go back to the operating system when freed.

glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MB), after
which large image buffers come from per-thread heaps that keep their pages: decodes running one
after another on different threads then add up in resident memory although only one is alive.
A fixed threshold of :data:`MMAP_THRESHOLD` bytes makes every larger buffer its own mapping,
returned on free, so the decode memory budget bounds resident memory. Elsewhere (no glibc) this
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: buffers of at least this many bytes are mapped on their own (glibc's M_MMAP_THRESHOLD)
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3


def return_large_buffers_to_the_os() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD`; True where it took effect."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
