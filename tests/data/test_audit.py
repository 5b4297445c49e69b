import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from xraynet.data import XRayDataModule
from audit_reference import brute_force_pairs
from xraynet.data.audit import audit, dhash, duplicate_groups, identical_pairs
from xraynet.data.hamming_search import bands, candidate_share, index_keys, key_design, near_pairs


def test_near_pairs_equal_every_pair_compared():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2, (300, 256)).astype(bool)
    copies = base[rng.integers(0, 300, 200)].copy()
    for row, flips in zip(copies, rng.integers(0, 20, 200)):  # 0 to 19 bits changed
        row[rng.choice(256, flips, replace=False)] ^= True
    hashes = np.concatenate([base, copies])
    for max_distance in (0, 5, 12, 16):
        i, j, d = near_pairs(hashes, max_distance)
        assert list(zip(i.tolist(), j.tolist(), d.tolist())) == brute_force_pairs(hashes, max_distance)
    assert all(len(a) == 0 for a in near_pairs(hashes[:1], 12))


def test_near_pairs_exact_for_short_and_wide_hashes():
    """Hashes no longer than the distance (every pair), one bit more (single-band keys) and
    bands wider than a 64-bit key (folded values) all give exactly the pairs compared."""
    rng = np.random.default_rng(1)
    for n_bits, max_distance in ((8, 12), (13, 12), (1024, 3)):
        base = rng.integers(0, 2, (60, n_bits)).astype(bool)
        copies = base[rng.integers(0, 60, 40)].copy()
        for row in copies:
            row[rng.choice(n_bits, rng.integers(0, min(n_bits, max_distance + 3)), replace=False)] ^= True
        hashes = np.concatenate([base, copies])
        i, j, d = near_pairs(hashes, max_distance)
        assert list(zip(i.tolist(), j.tolist(), d.tolist())) == brute_force_pairs(hashes, max_distance)


def test_exact_band_values_read_each_band_as_an_integer_first_bit_highest():
    """Bands of 4, 14, 22 and 29 bits (uint8, uint16, uint32 through float32 and float64 place
    values) and more rows than one block: each value is the band's bits read as a binary number."""
    from xraynet.data.hamming_search import _band_values

    rng = np.random.default_rng(2)
    for n_bits, n_bands in ((40, 10), (256, 19), (66, 3), (58, 2)):
        hashes = rng.random((700, n_bits)) < rng.random(n_bits)
        band_bits = bands(hashes, n_bands)
        values = _band_values(hashes, band_bits, exact=True, rows_per_block=256)
        for k, band in enumerate(band_bits):
            expected = [int("".join("1" if bit else "0" for bit in row[band]), 2) for row in hashes]
            assert values[k].tolist() == expected
        width = max(len(band) for band in band_bits)
        assert values.dtype == (np.uint8 if width <= 8 else np.uint16 if width <= 16 else np.uint32)


def test_candidate_share_counts_pairs_sharing_a_key():
    same = np.tile(np.random.default_rng(3).integers(0, 2, 256).astype(bool), (50, 1))
    indexes = sum(1 for _ in index_keys(same, 12))
    assert indexes == 75  # 19 bands in groups of 6, 6 and 7: C(6, 3) + C(6, 3) + C(7, 3)
    assert candidate_share(same, 12) == indexes  # every pair shares every key
    independent = np.random.default_rng(4).integers(0, 2, (2000, 256)).astype(bool)
    assert candidate_share(independent, 12) < 1e-4


def test_pairs_agreeing_on_the_fewest_bands_the_design_allows_are_found():
    """The covering design's worst case: copies that differ in one bit of every band but the
    ``g (r - 1) + 1`` that the pigeonhole leaves, with only ``r`` of those in one group (and
    ``r - 1`` in each other), are all found."""
    rng = np.random.default_rng(5)
    n_bands, per_key, groups = key_design(256, 12)
    assert (n_bands, per_key, groups) == (19, 3, 3)
    half = rng.integers(0, 2, (20, 256)).astype(bool)
    base = np.concatenate([half, ~half])  # every bit set in exactly half the rows, so the
    band_bits = bands(base, n_bands)      # bands are known before the copies are made
    group_of = np.array_split(np.arange(n_bands), groups)
    copies = half.copy()
    for k, row in enumerate(copies):
        full = k % groups  # the one group with ``r`` agreeing bands
        agree = [b for g, members in enumerate(group_of)
                 for b in rng.permutation(members)[:per_key if g == full else per_key - 1]]
        for band in set(range(n_bands)) - set(agree):
            row[rng.choice(band_bits[band])] ^= True
    hashes = np.concatenate([base, copies, ~copies])  # still every bit in exactly half
    assert all((x == y).all() for x, y in zip(bands(hashes, n_bands), band_bits))
    i, j, d = near_pairs(hashes, 12)
    found = {(a, b) for a, b, dist in zip(i.tolist(), j.tolist(), d.tolist()) if dist == 12}
    assert found >= {(k, 40 + k) for k in range(20)} | {(20 + k, 60 + k) for k in range(20)}
    assert list(zip(i.tolist(), j.tolist(), d.tolist())) == brute_force_pairs(hashes, 12)


def test_long_runs_compared_block_by_block_give_every_pair_compared(monkeypatch):
    """Images of one kind pile up on band values: long runs are compared block against block
    (blocks made tiny here so that every path runs), still exactly every pair."""
    import xraynet.data.hamming_search as search

    monkeypatch.setattr(search, "_SMALL_RUN", 4)
    monkeypatch.setattr(search, "_BLOCK", 16)
    rng = np.random.default_rng(2)
    hashes = np.tile(rng.integers(0, 2, 256).astype(bool), (400, 1))
    free = rng.choice(256, 24, replace=False)  # rows differ only in these bits
    hashes[:, free] = rng.integers(0, 2, (400, 24)).astype(bool)
    expected = brute_force_pairs(hashes, 12)
    assert len(expected) > 1000
    i, j, d = near_pairs(hashes, 12)
    assert list(zip(i.tolist(), j.tolist(), d.tolist())) == expected


def test_identical_pairs_group_equal_digests():
    i, j = identical_pairs(["a", "b", "a", "c", "a", "b"])
    assert list(zip(i.tolist(), j.tolist())) == [(0, 2), (0, 4), (1, 5), (2, 4)]
    assert len(identical_pairs(["x"])[0]) == 0
    prefix = "0123456789abcdef" * 2  # the key reads the first 16 characters; the check, all
    i, j = identical_pairs([prefix + "1", prefix + "2", prefix + "1", "0123"])
    assert list(zip(i.tolist(), j.tolist())) == [(0, 2)]


def test_audit_kinds_and_leaks_from_hashes_and_digests():
    h = np.zeros((4, 256), bool)
    h[1, :3] = True  # 3 bits from row 0
    h[2, :100] = True  # far from every other row
    h[3] = h[2]  # same hash as row 2, and the same file
    result = audit(["train/a", "test/b", "train/c", "test/d"], ["train", "test", "train", "test"],
                   ["s0", "s1", "s2", "s2"], h, max_distance=5)
    assert [(p.a, p.b, p.kind, p.distance) for p in result.pairs] == [
        ("train/a", "test/b", "near", 3), ("train/c", "test/d", "identical", 0)]
    assert result.leaked_test == ["test/b", "test/d"]


def test_dhash_is_stable_under_small_noise_and_differs_between_images():
    rng = np.random.default_rng(0)
    a = (np.linspace(0, 255, 64)[None, :] * np.ones((64, 1))).astype(np.uint8)
    a = np.clip(a + rng.normal(0, 30, a.shape), 0, 255).astype(np.uint8)
    noisy = np.clip(a + rng.normal(0, 3, a.shape), 0, 255).astype(np.uint8)
    other = rng.integers(0, 255, a.shape, dtype=np.uint8)
    assert (dhash(a) != dhash(noisy)).sum() <= 12
    assert (dhash(a) != dhash(other)).sum() > 60


def test_duplicate_groups_are_connected_components():
    groups = duplicate_groups(5, [(0, 1), (1, 2)])
    assert groups[0] == groups[1] == groups[2]
    assert len({groups[0], groups[3], groups[4]}) == 3


def test_audit_finds_identical_and_near_copies_and_leak_free_excludes_them(dataset: Path, cache_dir):
    train_file = dataset / "train" / "Alpha" / "train_000.png"
    shutil.copy(train_file, dataset / "test" / "Alpha" / "copy.png")  # byte-identical
    near = np.asarray(Image.open(dataset / "train" / "Beta" / "train_001.png")).astype(int) + 3
    Image.fromarray(np.clip(near, 0, 255).astype(np.uint8)).save(dataset / "test" / "Beta" / "near.png")
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    result = dm.audit_result
    assert "test/Alpha/copy.png" in result.leaked_test
    assert "test/Beta/near.png" in result.leaked_test
    kinds = {(p.a, p.b): p.kind for p in result.pairs}
    assert kinds[("train/Alpha/train_000.png", "test/Alpha/copy.png")] == "identical"
    assert len(dm.test_leak_free) == len(dm.test) - 2
    assert "test/Alpha/copy.png" not in dm.test_leak_free.paths
    assert any("identical" in line for line in result.summary_lines())


def test_audit_result_round_trips_through_its_dict():
    from xraynet.data.audit import AuditResult, DuplicatePair

    result = AuditResult(pairs=[DuplicatePair("train/a.png", "test/b.png", "train", "test", "near", 5)],
                         leaked_test=["test/b.png"], max_distance=9)
    again = AuditResult.from_dict({**result.to_dict(), "skipped": []})
    assert again == result and again.summary_lines() == result.summary_lines()
