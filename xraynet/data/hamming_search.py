"""Every pair of binary hashes within a Hamming distance, without comparing every pair.

Multi-index hashing with a generalised pigeonhole: the bits are cut into ``max_distance + k``
bands, so two hashes within the distance differ in at most ``max_distance`` bands and agree
exactly on at least ``k``. Every ``k``-combination of bands is one index: rows whose values
agree on all its bands share a key there, and only rows that share a key are compared (by their
exact distance; keys only choose candidates, so a collision of two keys costs a comparison, never
a missed or a wrong pair). With ``k = 2`` a key spans about twice the bits of one band, and far
fewer pairs of chest X-rays share one: the work is a sort per index (``n log n``) plus the
candidates, which grow with the square of ``n`` times the share of pairs that share a key.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import numpy as np

#: bands that two hashes within the distance agree on, at least, and that one index key joins
BANDS_PER_KEY = 2
#: runs (rows sharing a key) up to this size are paired by vectorised offsets; longer ones block
#: against block
_SMALL_RUN = 64
#: rows per block of a long run: a block pair is at most this squared candidate pairs at once
_BLOCK = 512
#: odd 64-bit multiplier that mixes band values into one key (wrapping arithmetic)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def as_words(bits: np.ndarray) -> np.ndarray:
    """Rows of a boolean matrix packed into uint64 words (zero-padded)."""
    packed = np.packbits(bits, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    return np.ascontiguousarray(packed).view(np.uint64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Differing bits between rows of two uint64 word matrices (``a`` is overwritten)."""
    np.bitwise_xor(a, b, out=a)
    if not hasattr(np, "bitwise_count"):  # NumPy < 2.0
        return np.unpackbits(a.view(np.uint8), axis=1).sum(axis=1, dtype=np.int32)
    counts = np.bitwise_count(a).astype(np.int16)
    total = counts[:, 0].copy()
    for column in range(1, counts.shape[1]):  # columns added one by one: faster than sum(axis=1)
        total += counts[:, column]
    return total


def _hamming_block(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Differing bits between every row of ``a`` and every row of ``b``: ``(len(a), len(b))``."""
    total = np.zeros((len(a), len(b)), np.int16)
    for column in range(a.shape[1]):
        x = a[:, column, None] ^ b[None, :, column]
        total += (np.bitwise_count(x) if hasattr(np, "bitwise_count")
                  else np.unpackbits(x[..., None].view(np.uint8), axis=-1).sum(-1)).astype(np.int16)
    return total


def bands(hashes: np.ndarray, n_bands: int) -> list[np.ndarray]:
    """Bit positions cut into ``n_bands`` groups with the informative bits dealt evenly.

    Any partition keeps the pigeonhole guarantee; dealing the bits round-robin from the most to
    the least balanced (a bit set in half the images tells most) gives every band a share of
    the bits that differ between images, so that few images share a band's value. Images of one
    kind (chest X-rays) agree on many bits, which contiguous bands would bunch together."""
    balance = np.abs(hashes.mean(axis=0) - 0.5)
    order = np.argsort(balance, kind="stable")
    return [np.sort(order[k::n_bands]) for k in range(n_bands)]


def _band_values(hashes: np.ndarray, band_bits: list[np.ndarray],
                 rows_per_block: int = 4096) -> np.ndarray:
    """One uint64 per band and row, ``(bands, rows)``: a band's bits, exact up to 64 bits,
    folded (mixed) beyond. Computed a cache-sized block of rows at a time (transposed, so that a
    band's bits are contiguous rows)."""
    values = np.empty((len(band_bits), len(hashes)), np.uint64)
    for start in range(0, len(hashes), rows_per_block):
        columns = np.ascontiguousarray(hashes[start:start + rows_per_block].T)
        for k, band in enumerate(band_bits):
            packed = np.packbits(columns[band], axis=0).astype(np.uint64)  # (band bytes, rows)
            value = packed[0]
            for byte in packed[1:]:
                value = (value << np.uint64(8)) | byte if len(packed) <= 8 else (value * _MIX) ^ byte
            values[k, start:start + rows_per_block] = value
    return values


def index_keys(hashes: np.ndarray, max_distance: int) -> Iterator[np.ndarray]:
    """The search's indexes: yields one uint64 key per row for each combination of bands (in
    one buffer, overwritten by the next: use each before asking for the next).

    Two rows within ``max_distance`` share a key in at least one index; rows that share none
    are never compared."""
    n_bits = hashes.shape[1]
    per_key = min(BANDS_PER_KEY, n_bits - max_distance)
    values = _band_values(hashes, bands(hashes, max_distance + per_key))
    key = np.empty(len(hashes), np.uint64)
    for combo in combinations(range(len(values)), per_key):
        np.copyto(key, values[combo[0]])
        for other in combo[1:]:
            np.multiply(key, _MIX, out=key)
            np.bitwise_xor(key, values[other], out=key)
        yield key


class _RunFinder:
    """Finds the rows that share a key, reusing its buffers from one index to the next (a fresh
    array of 100k rows costs more in page faults than the arithmetic on it)."""

    def __init__(self, n: int):
        self.row_bits = max(1, (n - 1).bit_length())
        self.rows = np.arange(n, dtype=np.uint64)
        self.differ = np.empty(max(n - 1, 0), np.uint64)
        self.same = np.empty(max(n - 1, 0), bool)
        self.shared = np.empty(n, bool)

    def __call__(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows in runs of a shared key, ordered by key, and those keys (singletons dropped);
        ``keys`` is overwritten.

        Row numbers ride in the low bits of the mixed keys, so one plain sort of uint64 (much
        faster than an argsort) orders them; the key bits it drops make rare extra candidates,
        no misses."""
        low = np.uint64(self.row_bits)
        np.multiply(keys, _MIX, out=keys)  # the top bits now depend on every bit of the key
        np.right_shift(keys, low, out=keys)
        np.left_shift(keys, low, out=keys)
        np.bitwise_or(keys, self.rows, out=keys)
        keys.sort()
        np.bitwise_xor(keys[1:], keys[:-1], out=self.differ)
        np.less(self.differ, np.uint64(1) << low, out=self.same)  # equal but for the rows
        self.shared[0], self.shared[-1] = False, False
        self.shared[1:] = self.same
        self.shared[:-1] |= self.same
        in_runs = keys[self.shared]
        return (in_runs & np.uint64((1 << self.row_bits) - 1)).astype(np.int64), in_runs >> low


def _runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each run of equal values in ``sorted_keys``."""
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return starts, np.diff(np.r_[starts, len(sorted_keys)])


def _key_pairs(keys: np.ndarray, words: np.ndarray, max_distance: int, find_runs: _RunFinder
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i < j)`` of rows with equal ``keys`` whose whole hashes are within
    ``max_distance``: candidates are verified as they are made, never all kept.

    Rows are sorted by key, so each run of equal keys is a contiguous slice: short runs are
    compared offset by offset (every row against the one ``offset`` rows later, while its run
    lasts), long ones block against block by broadcasting."""
    order, sorted_keys = find_runs(keys)
    found_i, found_j, found_d = [], [], []
    if len(order):
        ws = words[order]
        starts, lengths = _runs(sorted_keys)
        later = np.repeat(starts + lengths, lengths) - np.arange(len(order)) - 1  # in its run

        def keep(pos_a: np.ndarray, pos_b: np.ndarray, d: np.ndarray) -> None:
            near = np.flatnonzero(d <= max_distance)
            if len(near):
                i, j = order[pos_a[near]], order[pos_b[near]]
                found_i.append(np.minimum(i, j))
                found_j.append(np.maximum(i, j))
                found_d.append(d[near].astype(np.int32))

        active = np.flatnonzero((later > 0) & np.repeat(lengths <= _SMALL_RUN, lengths))
        offset = 1
        while len(active):  # each row against the row ``offset`` after it in its run
            keep(active, active + offset, hamming(ws[active], ws[active + offset]))
            offset += 1
            active = active[later[active] >= offset]
        for start, length in zip(starts[lengths > _SMALL_RUN], lengths[lengths > _SMALL_RUN]):
            for a in range(start, start + length, _BLOCK):
                a_end = min(a + _BLOCK, start + length)
                for b in range(a, start + length, _BLOCK):
                    b_end = min(b + _BLOCK, start + length)
                    d = _hamming_block(ws[a:a_end], ws[b:b_end])
                    ia, ib = np.nonzero(d <= max_distance)
                    if a == b:  # each pair once, no self
                        upper = ia < ib
                        ia, ib = ia[upper], ib[upper]
                    if len(ia):
                        keep(a + ia, b + ib, d[ia, ib])
    if not found_i:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.int32)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)


def _every_pair(words: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(i < j)`` and its distance (hashes no longer than the distance)."""
    i, j = np.triu_indices(len(words), k=1)
    return i.astype(np.int64), j.astype(np.int64), hamming(words[i], words[j]).astype(np.int32)


def near_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(i < j)`` of rows of ``hashes`` (boolean ``(n, bits)``) within
    ``max_distance`` differing bits, and their distances; sorted by ``(i, j)``.

    Only rows that share a key of :func:`index_keys` are compared: time grows with ``n log n``
    and with the candidates, memory with the rows and the pairs found, instead of the
    ``n x n`` distance matrix."""
    n, n_bits = hashes.shape if hashes.ndim == 2 else (0, 0)
    if n < 2:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty.astype(np.int32)
    words = as_words(hashes)
    if n_bits <= max_distance:  # every pair is within the distance
        return _every_pair(words)
    find_runs = _RunFinder(n)
    found = [_key_pairs(keys, words, max_distance, find_runs)
             for keys in index_keys(hashes, max_distance)]
    i, j, d = (np.concatenate(parts) for parts in zip(*found))
    pair_ids, first = np.unique(i.astype(np.int64) * n + j, return_index=True)
    return pair_ids // n, pair_ids % n, d[first]


def candidate_share(hashes: np.ndarray, max_distance: int) -> float:
    """The share of all pairs of rows that the search compares (pairs sharing a key, counted
    once per index): what its quadratic part grows with."""
    n = len(hashes)
    if n < 2 or hashes.shape[1] <= max_distance:
        return 1.0
    find_runs, compared = _RunFinder(n), 0
    for keys in index_keys(hashes, max_distance):
        _, lengths = _runs(find_runs(keys)[1])
        compared += int((lengths * (lengths - 1) // 2).sum())
    return compared / (n * (n - 1) / 2)
