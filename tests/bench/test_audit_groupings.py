import numpy as np

import audit_groupings as ag


def _hashes(n=600, seed=0):
    """Random 256-bit hashes with near copies (a few bits flipped) planted, so keys are shared."""
    rng = np.random.default_rng(seed)
    hashes = rng.random((n, 256)) < 0.5
    for i in range(0, n // 2, 3):
        hashes[n // 2 + i] = hashes[i]
        hashes[n // 2 + i, rng.choice(256, 4, replace=False)] ^= True
    return hashes


def test_linear_groupings_hold_what_the_sort_groups():
    keys, row_bits = ag.all_keys(_hashes())
    assert len(keys) == 75
    mask = np.uint64((1 << row_bits) - 1)
    shared_somewhere = 0
    for k in keys:
        by_sort = ag.sort_grouping(k, row_bits)
        assert (np.diff(by_sort.astype(np.int64) >> row_bits) >= 0).all()  # sorted by key
        by_radix = ag.radix_grouping(k, row_bits)
        assert sorted(by_radix.tolist()) == by_sort.tolist()  # the same keys, reordered
        buckets = ag.hashed_buckets(by_radix, row_bits)
        assert (np.diff(buckets.astype(np.int64)) >= 0).all()  # equal keys: one run of a bucket
        key_only = k >> np.uint64(row_bits)
        values, counts = np.unique(key_only, return_counts=True)
        shared = np.flatnonzero(np.isin(key_only, values[counts > 1]))
        shared_somewhere += len(shared)
        assert set(shared.tolist()) <= set(ag.bincount_filter(k, row_bits).tolist())  # no miss
        assert ((ag.copy_keys(k, row_bits) & mask) == (k & mask)).all()
    assert shared_somewhere > 0  # the planted copies share keys: the checks above had work


def test_table_gives_each_grouping_and_its_growth():
    seconds = {10: {m: 0.001 for m in ag.METHODS}, 100: {m: 0.012 for m in ag.METHODS}}
    table = ag.markdown([10, 100], seconds)
    assert table.splitlines()[0] == "| grouping | 10 images (ms) | 100 images (ms) | growth x10 |"
    assert "| radix | 1.0 | 12.0 | x12.0 |" in table
    assert len(table.splitlines()) == 2 + len(ag.METHODS)
