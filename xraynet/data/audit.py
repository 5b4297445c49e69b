"""Duplicate audit: byte-identical and near-identical images within and across splits.

Near-identical means a perceptual difference hash (dHash) within ``max_distance`` bits, found by
multi-index hashing (:func:`~xraynet.data.hamming_search.near_pairs`) instead of comparing every
pair.
The audit decides which test images are *leaked* (duplicate a train/validation image), so that
evaluation can report metrics on the leak-free test split too.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from PIL import Image

from ..defaults import DEFAULT_MAX_DISTANCE, DEFAULT_RESIZE
from .decode import DecodeSettings, fit_to_square, load_grayscale
from .hamming_search import equal_rows, near_pairs

__all__ = ["audit", "AuditResult", "dhash", "duplicate_groups", "DuplicatePair", "file_hash",
           "HASH_IMAGE_SIZE", "HASH_SIZE", "identical_pairs"]

HASH_SIZE = 16  # 256-bit hash
#: the image side the audit hashes at, whatever the model's (``--image-size``): below about 128
#: pixels the body box and the resize move a dHash by up to 60 of its 256 bits, so a duplicate
#: pair could fall out of ``max_distance`` and the leak-free test split depend on the model's size
HASH_IMAGE_SIZE = 192


def dhash(image: np.ndarray, hash_size: int = HASH_SIZE) -> np.ndarray:
    """Difference hash of a grayscale uint8 image, as a flat boolean array of hash_size**2 bits."""
    small = Image.fromarray(image).resize((hash_size + 1, hash_size), Image.Resampling.BOX)
    pixels = np.asarray(small, dtype=np.int16)
    return (pixels[:, 1:] > pixels[:, :-1]).ravel()


def file_hash(data: bytes, settings: DecodeSettings, *, gray: Image.Image,
              image: np.ndarray) -> np.ndarray:
    """The audit's :func:`dhash` of one file: its image at :data:`HASH_IMAGE_SIZE` in the default
    framing, whatever ``settings`` (the model's decoding, which made ``gray`` and ``image`` from
    ``data``) say; decoded again only where ``gray`` was drafted too small to hash alike."""
    hashed = replace(settings, image_size=HASH_IMAGE_SIZE, resize=DEFAULT_RESIZE)
    if hashed == settings:
        return dhash(image)
    if settings.image_size < HASH_IMAGE_SIZE:
        gray = load_grayscale(io.BytesIO(data), hashed)
    return dhash(fit_to_square(gray, hashed))


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


def identical_pairs(digests: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``(i < j)`` of equal digests (byte-identical files), sorted by ``(i, j)``.

    The digests' bytes are compared as words by a sort, not a dictionary of lists: 100k
    Python lists cost the garbage collector more than the digests themselves."""
    if len(digests) < 2:
        empty = np.zeros(0, np.int64)
        return empty, empty
    raw = np.array(digests, dtype=np.bytes_)  # hex digests: ASCII
    width = -(-raw.dtype.itemsize // 8) * 8
    padded = np.zeros((len(raw), width), np.uint8)
    padded[:, :raw.dtype.itemsize] = raw.view(np.uint8).reshape(len(raw), -1)
    return equal_rows(padded.view(np.uint64), key_words=2)  # 16 hex digits: 64 random bits


def audit(paths: list[str], splits: list[str], sha256: list[str], hashes: np.ndarray,
          *, max_distance: int = DEFAULT_MAX_DISTANCE) -> AuditResult:
    """Find duplicate pairs among ``paths`` (relative names), given their digests and dHashes.

    ``splits`` holds each file's split name ("train", "test"); validation is carved out of
    train later, so any test file duplicating a train file counts as leaked. Identical files are
    found by digest, near-identical ones by :func:`near_pairs`; neither compares every pair.
    """
    hashes = np.asarray(hashes, dtype=bool).reshape(len(paths), -1)
    found: dict[tuple[int, int], tuple[str, int]] = {}
    for i, j, d in zip(*near_pairs(hashes, max_distance)):
        found[(int(i), int(j))] = ("near", int(d))
    ident_i, ident_j = identical_pairs(list(sha256))
    if len(ident_i):
        ident_d = (hashes[ident_i] != hashes[ident_j]).sum(axis=1)
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
