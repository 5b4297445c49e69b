"""Duplicate audit: byte-identical and near-identical images within and across splits.

Near-identical means a perceptual difference hash (dHash) within ``max_distance`` bits, found by
multi-index hashing (:func:`near_pairs`) instead of comparing every pair: time and memory grow
about linearly with the number of images.
The audit decides which test images are *leaked* (duplicate a train/validation image), so that
evaluation can report metrics on the leak-free test split too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from PIL import Image

from ..defaults import DEFAULT_MAX_DISTANCE

HASH_SIZE = 16  # 256-bit hash


def dhash(image: np.ndarray, hash_size: int = HASH_SIZE) -> np.ndarray:
    """Difference hash of a grayscale uint8 image, as a flat boolean array of hash_size**2 bits."""
    small = Image.fromarray(image).resize((hash_size + 1, hash_size), Image.Resampling.BOX)
    pixels = np.asarray(small, dtype=np.int16)
    return (pixels[:, 1:] > pixels[:, :-1]).ravel()


@dataclass
class DuplicatePair:
    """Two files that hold the same image (``kind`` is ``identical`` or ``near``)."""

    a: str
    b: str
    split_a: str
    split_b: str
    kind: str
    distance: int


@dataclass
class AuditResult:
    """Everything the audit found; ``leaked_test`` are test files duplicating a train file."""

    pairs: list[DuplicatePair] = field(default_factory=list)
    leaked_test: list[str] = field(default_factory=list)
    max_distance: int = DEFAULT_MAX_DISTANCE

    def by_kind(self, kind: str, cross_split: bool | None = None) -> list[DuplicatePair]:
        """Pairs of one kind, optionally only across (True) or within (False) splits."""
        return [p for p in self.pairs if p.kind == kind
                and (cross_split is None or (p.split_a != p.split_b) == cross_split)]

    def to_dict(self) -> dict:
        return {"max_distance": self.max_distance, "leaked_test": self.leaked_test,
                "pairs": [asdict(p) for p in self.pairs]}

    @classmethod
    def from_dict(cls, data: dict) -> "AuditResult":
        """The inverse of :meth:`to_dict` (extra keys, such as ``skipped``, are ignored)."""
        return cls(pairs=[DuplicatePair(**p) for p in data.get("pairs", [])],
                   leaked_test=list(data.get("leaked_test", [])),
                   max_distance=int(data.get("max_distance", DEFAULT_MAX_DISTANCE)))

    def with_splits(self, split_of: dict[str, str]) -> "AuditResult":
        """The same pairs with the splits ``split_of`` assigns (a split made after the audit),
        and the test files they leave leaked."""
        pairs = [DuplicatePair(p.a, p.b, split_of.get(p.a, p.split_a), split_of.get(p.b, p.split_b),
                               p.kind, p.distance) for p in self.pairs]
        leaked = {p.a if p.split_a == "test" else p.b for p in pairs
                  if {p.split_a, p.split_b} == {"train", "test"}}
        return AuditResult(pairs=pairs, leaked_test=sorted(leaked), max_distance=self.max_distance)

    def summary_lines(self) -> list[str]:
        """Human-readable lines: counts, then every pair."""
        lines = [
            f"identical pairs across splits: {len(self.by_kind('identical', True))}, "
            f"within a split: {len(self.by_kind('identical', False))}",
            f"near-identical pairs (dHash distance <= {self.max_distance}) across splits: "
            f"{len(self.by_kind('near', True))}, within a split: {len(self.by_kind('near', False))}",
            f"test images duplicating a train image (left out of the leak-free test split): "
            f"{len(self.leaked_test)}",
        ]
        for p in sorted(self.pairs, key=lambda p: (p.kind, p.split_a, p.a)):
            lines.append(f"  {p.kind:9s} d={p.distance:3d}  {p.a}  ==  {p.b}")
        return lines


#: runs (rows sharing a band value) up to this size are paired by vectorised offsets; longer
#: ones block against block
_SMALL_RUN = 64
#: rows per block of a long run: a block pair is at most this squared candidate pairs at once
_BLOCK = 512


def _as_words(bits: np.ndarray) -> np.ndarray:
    """Rows of a boolean matrix packed into uint64 words (zero-padded)."""
    packed = np.packbits(bits, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    return np.ascontiguousarray(packed).view(np.uint64)


def _hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Differing bits between rows of two uint64 word matrices (``a`` is overwritten)."""
    np.bitwise_xor(a, b, out=a)
    if not hasattr(np, "bitwise_count"):  # NumPy < 2.0
        return np.unpackbits(a.view(np.uint8), axis=1).sum(axis=1, dtype=np.int32)
    counts = np.bitwise_count(a).astype(np.int16)
    total = counts[:, 0].copy()
    for column in range(1, counts.shape[1]):  # columns added one by one: faster than sum(axis=1)
        total += counts[:, column]
    return total


def _band_pairs(keys: np.ndarray, words: np.ndarray, max_distance: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i < j)`` of rows with equal ``keys`` (a band's value) whose whole hashes are
    within ``max_distance``: candidates are verified as they are made, never all kept.

    Rows are sorted by key, so each run of equal keys is a contiguous slice: short runs are
    compared at every offset at once, long ones block against block by broadcasting."""
    order = np.argsort(keys, kind="stable")
    sorted_keys, ws = keys[order], words[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    lengths = np.diff(np.r_[starts, len(order)])
    run_of = np.repeat(np.arange(len(starts)), lengths)
    small = lengths[run_of] <= _SMALL_RUN
    found_i, found_j, found_d = [], [], []

    def keep(pos_a: np.ndarray, pos_b: np.ndarray, d: np.ndarray) -> None:
        near = np.flatnonzero(d <= max_distance)
        if len(near):
            i, j = order[pos_a[near]], order[pos_b[near]]
            found_i.append(np.minimum(i, j))
            found_j.append(np.maximum(i, j))
            found_d.append(d[near].astype(np.int32))

    longest_small = int(lengths[lengths <= _SMALL_RUN].max(initial=1))
    for offset in range(1, longest_small):
        p = np.flatnonzero(small[:-offset] & (run_of[:-offset] == run_of[offset:]))
        if len(p) == 0:
            break
        keep(p, p + offset, _hamming(ws[p], ws[p + offset]))
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


def _hamming_block(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Differing bits between every row of ``a`` and every row of ``b``: ``(len(a), len(b))``."""
    total = np.zeros((len(a), len(b)), np.int16)
    for column in range(a.shape[1]):
        x = a[:, column, None] ^ b[None, :, column]
        total += (np.bitwise_count(x) if hasattr(np, "bitwise_count")
                  else np.unpackbits(x[..., None].view(np.uint8), axis=-1).sum(-1)).astype(np.int16)
    return total


def _row_keys(bits: np.ndarray) -> np.ndarray:
    """One hashable, comparable key per row of a boolean matrix."""
    packed = np.ascontiguousarray(np.packbits(bits, axis=1))
    return packed.view(np.dtype((np.void, packed.shape[1]))).ravel()


def _bands(hashes: np.ndarray, n_bands: int) -> list[np.ndarray]:
    """Bit positions cut into ``n_bands`` groups with the informative bits dealt evenly.

    Any partition keeps the pigeonhole guarantee; dealing the bits round-robin from the most to
    the least balanced (a bit set in half the images tells most) gives every band a share of
    the bits that differ between images, so that few images share a band's value. Images of one
    kind (chest X-rays) agree on many bits, which contiguous bands would bunch together."""
    balance = np.abs(hashes.mean(axis=0) - 0.5)
    order = np.argsort(balance, kind="stable")
    return [np.sort(order[k::n_bands]) for k in range(n_bands)]


def near_pairs(hashes: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``(i < j)`` of rows of ``hashes`` (boolean ``(n, bits)``) within
    ``max_distance`` differing bits, and their distances; sorted by ``(i, j)``.

    Multi-index hashing: the bits are cut into ``max_distance + 1`` bands (:func:`_bands`), so two
    hashes within the distance differ in at most ``max_distance`` bands and agree exactly on at
    least one (pigeonhole). Only rows that share a band value are compared, by their exact Hamming
    distance, and only pairs within the distance are kept: time grows with the number of rows
    sharing a band value (near-linear for hashes that do not pile up), memory with the rows and
    the pairs found, instead of the ``n x n`` distance matrix.
    """
    n, bits = hashes.shape if hashes.ndim == 2 else (0, 0)
    if n < 2:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty.astype(np.int32)
    words = _as_words(hashes)
    found_i, found_j, found_d = [], [], []
    for band in _bands(hashes, min(bits, max_distance + 1)):
        i, j, d = _band_pairs(_row_keys(hashes[:, band]), words, max_distance)
        found_i.append(i)
        found_j.append(j)
        found_d.append(d)
    i, j, d = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)
    pair_ids, first = np.unique(i.astype(np.int64) * n + j, return_index=True)
    return pair_ids // n, pair_ids % n, d[first]


def identical_pairs(digests: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i < j)`` of equal digests (byte-identical files), sorted by ``(i, j)``."""
    groups: dict[str, list[int]] = {}
    for index, digest in enumerate(digests):
        groups.setdefault(digest, []).append(index)
    pairs = sorted((a, b) for members in groups.values() if len(members) > 1
                   for k, a in enumerate(members) for b in members[k + 1:])
    return (np.array([a for a, _ in pairs], np.int64).reshape(-1),
            np.array([b for _, b in pairs], np.int64).reshape(-1))


def audit(paths: list[str], splits: list[str], sha256: list[str], hashes: np.ndarray,
          *, max_distance: int = DEFAULT_MAX_DISTANCE) -> AuditResult:
    """Find duplicate pairs among ``paths`` (relative names), given their digests and dHashes.

    ``splits`` holds each file's split name ("train", "test"); validation is carved out of
    train later, so any test file duplicating a train file counts as leaked. Identical files are
    found by digest, near-identical ones by :func:`near_pairs`; neither compares every pair.
    """
    hashes = np.asarray(hashes, dtype=bool).reshape(len(paths), -1)
    words = _as_words(hashes)
    found: dict[tuple[int, int], tuple[str, int]] = {}
    for i, j, d in zip(*near_pairs(hashes, max_distance)):
        found[(int(i), int(j))] = ("near", int(d))
    ident_i, ident_j = identical_pairs(list(sha256))
    if len(ident_i):
        ident_d = _hamming(words[ident_i], words[ident_j])
        for i, j, d in zip(ident_i, ident_j, ident_d):
            found[(int(i), int(j))] = ("identical", int(d))
    result = AuditResult(max_distance=max_distance)
    leaked: set[str] = set()
    for (i, j), (kind, distance) in sorted(found.items()):
        result.pairs.append(DuplicatePair(paths[i], paths[j], splits[i], splits[j], kind, distance))
        if {splits[i], splits[j]} == {"train", "test"}:
            leaked.add(paths[i] if splits[i] == "test" else paths[j])
    result.leaked_test = sorted(leaked)
    return result


def duplicate_groups(n: int, pairs_idx: list[tuple[int, int]]) -> np.ndarray:
    """Connected components (union-find) of the duplicate graph: one group id per item."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs_idx:
        parent[find(a)] = find(b)
    return np.array([find(i) for i in range(n)])
