#!/usr/bin/env python
"""How the audit's grouping of index keys grows from 10k to 100k images (issue 17; by hand).

The near-duplicate search (``xraynet/data/hamming_search.py``) brings the rows that share a key
together with one plain sort of uint64 per index (75 indexes), ``n log n``. This script times,
on the same keys of the stores that ``scripts/scale_bench.py`` left in ``--work``, that sort
against groupings whose work is linear in ``n``, and against one plain copy of the keys:

- ``sort``: today's, one in-place sort per index;
- ``radix``: a full linear grouping, the key hashed to ``row bits + 3`` bits (eight buckets a
  row, at least 2**16) and ordered by two stable (radix) argsorts of 16-bit digits;
- ``bincount``: less than a grouping, a linear filter only: the rows whose hashed bucket holds
  another row (a counting pass), the candidates a grouping would then have to order;
- ``copy``: one copy of each index's keys, the least any pass over them costs.

Each is the best of ``--repeats`` runs over the 75 indexes. Prints a Markdown table and each
one's growth.

  python scripts/audit_groupings.py --work /tmp/xraynet-scale --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from xraynet.data.hamming_search import KEY_MIX, KeySorter, index_keys
from xraynet.defaults import DEFAULT_MAX_DISTANCE


def bucket_bits(row_bits: int) -> int:
    """Bits of the hashed bucket of the linear groupings: eight buckets a row, at least 2**16."""
    return max(16, row_bits + 3)


def hashed_buckets(keys: np.ndarray, row_bits: int) -> np.ndarray:
    """Each key (row number in its low bits dropped) hashed to :func:`bucket_bits` bits."""
    bits = bucket_bits(row_bits)
    return ((keys >> np.uint64(row_bits)) * KEY_MIX) >> np.uint64(64 - bits)


def sort_grouping(keys: np.ndarray, row_bits: int) -> np.ndarray:
    """Today's: the keys sorted (equal keys are neighbours)."""
    out = keys.copy()
    out.sort()
    return out


def radix_grouping(keys: np.ndarray, row_bits: int) -> np.ndarray:
    """The keys ordered by their hashed bucket, two stable 16-bit radix passes (equal keys are
    in one bucket, so neighbours or separated only by colliding keys)."""
    bucket = hashed_buckets(keys, row_bits)
    order = np.argsort((bucket & np.uint64(0xFFFF)).astype(np.uint16), kind="stable")
    if bucket_bits(row_bits) > 16:
        high = (bucket >> np.uint64(16)).astype(np.uint16)[order]
        order = order[np.argsort(high, kind="stable")]
    return keys[order]


def bincount_filter(keys: np.ndarray, row_bits: int) -> np.ndarray:
    """The positions of the keys whose hashed bucket holds another key (not yet grouped)."""
    bucket = hashed_buckets(keys, row_bits).astype(np.intp)
    counts = np.bincount(bucket, minlength=1 << bucket_bits(row_bits))
    return np.flatnonzero(counts[bucket] > 1)


def copy_keys(keys: np.ndarray, row_bits: int) -> np.ndarray:
    """One copy of the keys: the least a pass over them costs."""
    return keys.copy()


METHODS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "sort": sort_grouping, "radix": radix_grouping, "bincount": bincount_filter, "copy": copy_keys}


def all_keys(hashes: np.ndarray, max_distance: int = DEFAULT_MAX_DISTANCE) -> tuple[list[np.ndarray], int]:
    """Every index's keys (row numbers in their low bits) and the number of row bits."""
    sorter = KeySorter(len(hashes))
    return [k.copy() for k in index_keys(hashes, max_distance, sorter)], sorter.row_bits


def time_methods(hashes: np.ndarray, *, repeats: int = 9) -> dict[str, float]:
    """Seconds of each method over all indexes, the best of ``repeats`` runs."""
    keys, row_bits = all_keys(hashes)
    seconds = {}
    for name, method in METHODS.items():
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            for k in keys:
                method(k, row_bits)
            runs.append(time.perf_counter() - t)
        seconds[name] = min(runs)
    return seconds


def markdown(sizes: list[int], seconds: dict[int, dict[str, float]]) -> str:
    """The table: milliseconds per size and the growth from the smallest to the largest."""
    small, big = sizes[0], sizes[-1]
    lines = ["| grouping | " + " | ".join(f"{n:,} images (ms)" for n in sizes) + f" | growth x{big // small} |",
             "| --- |" + " --- |" * (len(sizes) + 1)]
    for name in METHODS:
        cells = " | ".join(f"{seconds[n][name] * 1e3:.1f}" for n in sizes)
        lines.append(f"| {name} | {cells} | x{seconds[big][name] / seconds[small][name]:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/xraynet-scale",
                        help="scale_bench.py's folder: cache-<N>/images-*/dhash.npy (default %(default)s)")
    parser.add_argument("--sizes", default="10000,100000", help="set sizes (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=9, help="runs, the best kept (default %(default)s)")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    seconds = {}
    for n in sizes:
        store = next((Path(args.work) / f"cache-{n}").glob("images-*"), None)
        if store is None:
            parser.error(f"no store in {Path(args.work) / f'cache-{n}'}: run scripts/scale_bench.py first")
        seconds[n] = time_methods(np.load(store / "dhash.npy"), repeats=args.repeats)
    print(markdown(sizes, seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
