"""The audit's reference: every pair's Hamming distance, as the audit computed it before
multi-index hashing (quadratic; for tests only)."""

import numpy as np


def brute_force_pairs(hashes: np.ndarray, max_distance: int) -> list[tuple[int, int, int]]:
    """``(i, j, distance)`` of every pair ``i < j`` within ``max_distance`` bits."""
    h = hashes.astype(np.float32)
    d = h @ (1.0 - h).T
    d = np.rint(d + d.T).astype(np.int32)
    i, j = np.nonzero(np.triu(d <= max_distance, k=1))
    return [(int(a), int(b), int(d[a, b])) for a, b in zip(i, j)]
