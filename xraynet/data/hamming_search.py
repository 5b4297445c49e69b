"""Every pair of binary hashes within a Hamming distance, without comparing every pair.

Multi-index hashing with a generalised pigeonhole and a covering design. The bits are cut into
``max_distance + s`` bands, so two hashes within the distance differ in at most
``max_distance`` bands and agree exactly on at least ``s``. The bands are dealt into ``g``
groups, and every ``r``-combination of bands *within one group* is one index: rows whose values
agree on all its bands share a key there. With ``s = g (r - 1) + 1`` any ``s`` agreeing bands put
``r`` into one group, so two rows within the distance share a key in at least one index; only
rows that share a key are compared (by their exact distance; keys only choose candidates, so a
collision costs a comparison, never a missed or a wrong pair).

The default ``r = 3, g = 3`` (19 bands, 75 indexes for a distance of 12) joins about 40 bits per
key where all pairs of 14 bands (91 indexes) join 37: fewer indexes, and far fewer pairs of
look-alike images (chest X-rays) share a key by chance. The work is a sort per index
(``n log n``) plus the candidates: the near copies themselves and the chance collisions.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import numpy as np

__all__ = ["as_words", "bands", "BANDS_PER_KEY", "candidate_share", "equal_rows", "hamming",
           "index_keys", "key_design", "KEY_GROUPS", "KEY_MIX", "KeySorter", "near_pairs"]

#: bands one index key joins (``r``), all from one group
BANDS_PER_KEY = 3
#: groups the bands are dealt into (``g``); two hashes within the distance agree on at least
#: ``g (r - 1) + 1`` bands, so on ``r`` bands of one group
KEY_GROUPS = 3
#: runs (rows sharing a key) up to this size are paired by vectorised offsets; longer ones block
#: against block
_SMALL_RUN = 64
#: rows per block of a long run: a block pair is at most this squared candidate pairs at once
_BLOCK = 512
#: odd 64-bit multiplier that mixes band values into one key (wrapping arithmetic)
KEY_MIX = np.uint64(0x9E3779B97F4A7C15)


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
    counts = hashes.sum(axis=0, dtype=np.int32 if len(hashes) < 2**31 else np.int64)  # not a float mean
    balance = np.abs(counts / max(len(hashes), 1) - 0.5)
    order = np.argsort(balance, kind="stable")
    return [np.sort(order[k::n_bands]) for k in range(n_bands)]


def _band_values(hashes: np.ndarray, band_bits: list[np.ndarray], *, exact: bool,
                 rows_per_block: int = 2048) -> np.ndarray:
    """One value per band and row, ``(bands, rows)``. ``exact``: each band's bits as an integer
    below ``2 ** bits`` (bands of at most 32 bits; the band's first bit the highest), in the
    smallest unsigned type that holds the widest; else one uint64, exact up to 64 bits and
    folded (mixed) beyond. Computed a cache-sized block of rows at a time."""
    width = max(len(band) for band in band_bits)
    if exact:
        return _exact_band_values(hashes, band_bits, width, rows_per_block)
    values = np.empty((len(band_bits), len(hashes)), np.uint64)
    for start in range(0, len(hashes), rows_per_block):
        columns = np.ascontiguousarray(hashes[start:start + rows_per_block].T)
        for k, band in enumerate(band_bits):
            packed = np.packbits(columns[band], axis=0).astype(np.uint64)  # (band bytes, rows)
            value = packed[0]
            for byte in packed[1:]:
                value = (value << np.uint64(8)) | byte if len(packed) <= 8 else (value * KEY_MIX) ^ byte
            values[k, start:start + rows_per_block] = value
    return values


def _exact_band_values(hashes: np.ndarray, band_bits: list[np.ndarray], width: int,
                       rows_per_block: int) -> np.ndarray:
    """The exact band values as one matrix product per block of rows: bits ``(rows, n_bits)``
    times place values ``(n_bits, bands)`` (a power of two where a bit belongs to a band, else
    zero). Floating point adds these powers exactly (below ``2 ** 24`` in float32, ``2 ** 53`` in
    float64), and BLAS makes it several times faster than packing each band's bits."""
    dtype = np.uint8 if width <= 8 else np.uint16 if width <= 16 else np.uint32
    real = np.float32 if width <= 24 else np.float64
    places = np.zeros((hashes.shape[1], len(band_bits)), real)
    for k, band in enumerate(band_bits):
        places[band, k] = 2.0 ** np.arange(len(band) - 1, -1, -1)
    values = np.empty((len(band_bits), len(hashes)), dtype)
    block = np.empty((min(rows_per_block, len(hashes)), hashes.shape[1]), real)
    for start in range(0, len(hashes), rows_per_block):
        bits = hashes[start:start + rows_per_block]
        np.copyto(block[:len(bits)], bits)
        values[:, start:start + len(bits)] = (block[:len(bits)] @ places).T
    return values


def key_design(n_bits: int, max_distance: int) -> tuple[int, int, int]:
    """``(bands, bands per key, groups)`` of the search for hashes of ``n_bits``.

    The default design where the hash has the bits for it; shorter hashes fall back to all
    pairs of ``max_distance + 2`` bands, or single bands of ``max_distance + 1``."""
    spare = n_bits - max_distance  # bands beyond the distance, one bit each at the least
    per_key, groups = BANDS_PER_KEY, KEY_GROUPS
    if spare < groups * (per_key - 1) + 1:
        per_key, groups = min(2, spare), 1
    return max_distance + groups * (per_key - 1) + 1, per_key, groups


class KeySorter:
    """Sorts one index's keys with each row's number riding in their low bits, and marks the
    neighbours that share a key; reuses its buffers from one index to the next (a fresh array of
    100k rows costs more in page faults than the arithmetic on it). One plain sort of uint64
    (much faster than an argsort) orders the rows by key."""

    def __init__(self, n: int):
        self.row_bits = max(1, (n - 1).bit_length())
        self.row_mask = np.uint64((1 << self.row_bits) - 1)
        self.rows = np.arange(n, dtype=np.uint64)
        self.differ = np.empty(max(n - 1, 0), np.uint64)
        #: ``same[p]``: sorted positions ``p`` and ``p + 1`` share a key (the last stays False)
        self.same = np.zeros(n, bool)

    def with_rows(self, keys: np.ndarray, *, exact: bool) -> np.ndarray:
        """Each row's number put into the low bits of its key, in place. ``exact``: the key fits
        above them and is shifted there, so keys that differ stay apart; else it is mixed first
        (its top bits then depend on all of it) and its low bits dropped, which makes rare extra
        candidates, never a miss."""
        if exact:
            np.left_shift(keys, np.uint64(self.row_bits), out=keys)
        else:
            np.multiply(keys, KEY_MIX, out=keys)
            np.bitwise_and(keys, ~self.row_mask, out=keys)
        return np.bitwise_or(keys, self.rows, out=keys)

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        """Keys of :meth:`with_rows` sorted in place; fills :attr:`same`."""
        keys.sort()
        np.bitwise_xor(keys[1:], keys[:-1], out=self.differ)
        np.less_equal(self.differ, self.row_mask, out=self.same[:-1])  # equal but for the rows
        return keys

    def row(self, sorted_keys: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The row numbers at ``positions`` of the sorted keys."""
        return (sorted_keys[positions] & self.row_mask).astype(np.intp)


def index_keys(hashes: np.ndarray, max_distance: int, sorter: KeySorter | None = None
               ) -> Iterator[np.ndarray]:
    """The search's indexes: yields, for each combination of bands of one group, one uint64 per
    row holding the index's key in its high bits and the row's number in its low bits (in one
    buffer, overwritten by the next: use each before asking for the next).

    Where the bands' values fit beside the row numbers (256-bit hashes: 3 bands of at most 14
    bits and 17 bits of rows at 100k images), the key is their exact concatenation; otherwise a
    mix of them. Two rows within ``max_distance`` share a key in at least one index; rows that
    share none are never compared."""
    sorter = sorter or KeySorter(len(hashes))
    n_bands, per_key, groups = key_design(hashes.shape[1], max_distance)
    band_bits = bands(hashes, n_bands)
    width = max(len(band) for band in band_bits)
    exact = width <= 32 and per_key * width + sorter.row_bits <= 64
    values = _band_values(hashes, band_bits, exact=exact)
    key = np.empty(len(hashes), np.uint64)
    for group in np.array_split(np.arange(n_bands), groups):
        for combo in combinations(group.tolist(), per_key):
            np.copyto(key, values[combo[0]])
            for other in combo[1:]:
                if exact:
                    np.left_shift(key, np.uint64(width), out=key)
                    np.bitwise_or(key, values[other], out=key, casting="unsafe")
                else:
                    np.multiply(key, KEY_MIX, out=key)
                    np.bitwise_xor(key, values[other], out=key)
            yield sorter.with_rows(key, exact=exact)


def _runs_of_shared(first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length (rows) of each run of a shared key, from the sorted positions ``first``
    whose key the next position shares."""
    if not len(first):
        return first, first
    breaks = np.flatnonzero(np.diff(first) != 1)
    starts = first[np.r_[0, breaks + 1]]
    ends = first[np.r_[breaks, len(first) - 1]] + 2  # one past the run's last row
    return starts, ends - starts


def _key_pairs(keys: np.ndarray, words: np.ndarray, max_distance: int, sorter: KeySorter
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i < j)`` of rows that share a key (``keys``: from :meth:`KeySorter.with_rows`,
    sorted in place here) whose whole hashes are within ``max_distance``: candidates are
    verified as they are made, never all kept.

    Rows are sorted by key, so rows sharing one are neighbours: every row is compared with the
    row ``offset`` positions later while both share the key (offsets up to ``_SMALL_RUN``, work
    in proportion to the candidates and no per-run bookkeeping), and runs longer than that
    compare their farther pairs block against block by broadcasting."""
    sorted_keys = sorter(keys)
    same = sorter.same
    first = np.flatnonzero(same)
    found_i, found_j, found_d = [], [], []

    def keep(rows_a: np.ndarray, rows_b: np.ndarray, d: np.ndarray) -> None:
        near = np.flatnonzero(d <= max_distance)
        if len(near):
            i, j = rows_a[near], rows_b[near]
            found_i.append(np.minimum(i, j))
            found_j.append(np.maximum(i, j))
            found_d.append(d[near].astype(np.int32))

    active, offset = first, 1
    while len(active) and offset <= _SMALL_RUN:  # positions whose key lasts ``offset`` more rows
        rows_a, rows_b = sorter.row(sorted_keys, active), sorter.row(sorted_keys, active + offset)
        keep(rows_a, rows_b, hamming(words[rows_a], words[rows_b]))
        active = active[same[active + offset]]
        offset += 1
    if len(active):  # runs longer than _SMALL_RUN + 1 rows: their farther pairs, by blocks
        starts, lengths = _runs_of_shared(first)
        for start, length in zip(starts[lengths > _SMALL_RUN + 1], lengths[lengths > _SMALL_RUN + 1]):
            rows = sorter.row(sorted_keys, np.arange(start, start + length))
            ws = words[rows]
            for a in range(0, length, _BLOCK):
                for b in range(a, length, _BLOCK):
                    d = _hamming_block(ws[a:a + _BLOCK], ws[b:b + _BLOCK])
                    ia, ib = np.nonzero(d <= max_distance)
                    far = (b + ib) - (a + ia) > _SMALL_RUN  # nearer pairs were compared above
                    if far.any():
                        ia, ib = ia[far], ib[far]
                        keep(rows[a + ia], rows[b + ib], d[ia, ib])
    if not found_i:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.int32)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)


def _unique_pairs(i: np.ndarray, j: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair ``(i, j)`` of rows of ``n`` once, sorted by ``(i, j)``: where it first occurs
    in the input, and its ``i`` and ``j``."""
    pair_ids, first = np.unique(i.astype(np.int64) * n + j, return_index=True)
    return first, pair_ids // n, pair_ids % n


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
    sorter = KeySorter(n)
    found = [_key_pairs(keys, words, max_distance, sorter)
             for keys in index_keys(hashes, max_distance, sorter)]
    i, j, d = (np.concatenate(parts) for parts in zip(*found))
    first, i, j = _unique_pairs(i, j, n)
    return i, j, d[first]


def equal_rows(words: np.ndarray, *, key_words: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i < j)`` of identical rows of a uint64 word matrix, sorted by ``(i, j)``:
    one index whose key folds the first ``key_words`` words of a row (default: all; fewer
    suffice where those are random already, as digests are), its candidates checked word for
    word."""
    n = len(words)
    if n < 2:
        empty = np.zeros(0, np.int64)
        return empty, empty
    key = words[:, 0].copy()
    for column in range(1, min(key_words or words.shape[1], words.shape[1])):
        np.multiply(key, KEY_MIX, out=key)
        np.bitwise_xor(key, words[:, column], out=key)
    sorter = KeySorter(n)
    i, j, _ = _key_pairs(sorter.with_rows(key, exact=False), words, 0, sorter)
    _, i, j = _unique_pairs(i, j, n)
    return i, j


def candidate_share(hashes: np.ndarray, max_distance: int) -> float:
    """The share of all pairs of rows that the search compares (pairs sharing a key, counted
    once per index): what its quadratic part grows with."""
    n = len(hashes)
    if n < 2 or hashes.shape[1] <= max_distance:
        return 1.0
    sorter, compared = KeySorter(n), 0
    for keys in index_keys(hashes, max_distance, sorter):
        sorter(keys)
        _, lengths = _runs_of_shared(np.flatnonzero(sorter.same))
        compared += int((lengths * (lengths - 1) // 2).sum())
    return compared / (n * (n - 1) / 2)
