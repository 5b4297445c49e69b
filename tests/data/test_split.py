import numpy as np
import pytest

from xraynet.data.split import stratified_group_split


def test_split_is_stratified_and_seeded():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    groups = np.arange(100)
    tr, va = stratified_group_split(labels, groups, val_fraction=0.2, seed=1)
    assert len(set(tr) & set(va)) == 0 and len(tr) + len(va) == 100
    assert np.bincount(labels[va]).tolist() == [10, 6, 4]
    tr2, va2 = stratified_group_split(labels, groups, val_fraction=0.2, seed=1)
    assert np.array_equal(va, va2)


def test_duplicate_groups_never_straddle_the_split():
    labels = np.array([0, 1, 2] * 20)
    groups = np.arange(60)
    groups[1::6] = groups[0]  # a cluster of copies across classes' positions
    tr, va = stratified_group_split(labels, groups, val_fraction=0.2, seed=0)
    in_val = {groups[i] for i in va}
    assert not any(groups[i] in in_val for i in tr)


def test_too_few_images_for_the_fraction():
    with pytest.raises(ValueError, match="smallest class"):
        stratified_group_split(np.array([0, 0, 0, 1]), np.arange(4), val_fraction=0.2, seed=0)
