"""The data seam: splits reach Keras as PyDatasets on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from xraynet.data.loaders import SplitImages
from xraynet.data.loaders import SplitDataset


def _split(n=10, size=4):
    x = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, size, size, 1), np.uint8)
    return SplitImages(x, np.arange(n) % 3, [f"img{i}.png" for i in range(n)])


def test_batches_cover_the_split_once_with_one_hot_labels():
    ds = SplitDataset(_split(), n_classes=3, batch_size=4)
    assert len(ds) == 3 and ds.n_images == 10
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    assert [len(x) for x in xs] == [4, 4, 2]
    seen = np.concatenate([x[:, 0, 0, 0] for x in xs])
    assert seen.tolist() == list(range(10))  # unshuffled: the split's order
    assert np.array_equal(np.concatenate(ys).argmax(axis=1), ds.labels)
    with pytest.raises(IndexError):
        ds[3]


def test_shuffle_is_seeded_and_new_every_epoch():
    def epoch_orders(seed):
        ds = SplitDataset(_split(), n_classes=3, batch_size=10, shuffle=True, seed=seed)
        first = ds[0][0][:, 0, 0, 0].tolist()
        ds.on_epoch_end()
        return first, ds[0][0][:, 0, 0, 0].tolist(), ds

    a1, a2, ds = epoch_orders(0)
    b1, b2, _ = epoch_orders(0)
    assert (a1, a2) == (b1, b2) and a1 != a2 and sorted(a1) == list(range(10))
    assert ds.labels.tolist() == (np.arange(10) % 3).tolist()  # the split's order, not the shuffle


def test_mixup_blends_images_labels_and_weights_alike_and_repeatably():
    ds = SplitDataset(_split(), n_classes=3, batch_size=10, seed=3, mixup=0.4,
                      class_weight={0: 1.0, 1: 2.0, 2: 4.0})
    x, y, w = ds[0]
    again = ds[0]
    assert all(np.array_equal(a, b) for a, b in zip((x, y, w), again))  # read twice: one batch
    assert x.dtype == np.float32 and np.allclose(y.sum(axis=1), 1)
    # image i holds the value i, class i % 3: a blend lam*i + (1-lam)*j shows lam and j in the
    # labels, and the weight is the same blend of the two class weights
    value, plain = x[:, 0, 0, 0], ds.labels
    assert not np.allclose(value, np.arange(10))  # blended
    class_value = y @ np.array([0.0, 1.0, 2.0])
    assert np.all((class_value >= 0) & (class_value <= 2)) and not np.allclose(class_value, plain)
    assert np.all((w >= 1.0) & (w <= 4.0)) and not np.allclose(w, np.array([1, 2, 4])[plain])
    ds.on_epoch_end()
    assert not np.array_equal(ds[0][0], x)  # new draws every epoch
    off = SplitDataset(_split(), n_classes=3, batch_size=10, seed=3)
    assert off[0][0].dtype == np.uint8 and np.array_equal(off[0][1].argmax(axis=1), plain)
    with pytest.raises(ValueError):
        SplitDataset(_split(), n_classes=3, mixup=-0.1)


def test_keras_fits_and_predicts_from_it():
    import keras

    ds = SplitDataset(_split(12, 8), n_classes=3, batch_size=5, shuffle=True, seed=1)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0, shuffle=False, class_weight={0: 1.0, 1: 2.0, 2: 1.0})
    assert len(history.history["loss"]) == 2
    assert model.predict(SplitDataset(_split(12, 8), n_classes=3), verbose=0).shape == (12, 3)


def test_the_data_module_hands_out_datasets(dataset, cache_dir):
    from xraynet import XRayDataModule

    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    sets = dm.evaluation_datasets(batch_size=8)
    assert list(sets) == ["val", "test", "test_leak_free"]
    assert sets["test"].n_images == len(dm.test) and sets["test"].paths == dm.test.paths
    train = dm.train_dataset(batch_size=8, seed=0)
    assert train.n_images == len(dm.train) and train[0][0].shape == (8, 32, 32, 1)
    with pytest.raises(ValueError, match="unknown split"):
        dm.dataset("holdout")


def test_chunks_walk_the_split_in_order_a_few_images_at_a_time():
    x = np.arange(7 * 4 * 4, dtype=np.uint8).reshape(7, 4, 4, 1)
    split = SplitDataset(SplitImages(x, np.zeros(7, int), [f"{i}.png" for i in range(7)]),
                         n_classes=3, batch_size=2, shuffle=True)
    chunks = list(split.chunks(3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(chunks), x)


def test_alternate_views_replace_a_seeded_share_of_each_batch():
    split = _split(n=40)
    other = SplitImages(split.store + 100, split.y, split.paths)  # the same images, seen otherwise

    def epoch(rate, seed=0, epoch_index=0):
        ds = SplitDataset(split, n_classes=3, batch_size=40, seed=seed, alternate=other,
                          alternate_rate=rate)
        for _ in range(epoch_index):
            ds.on_epoch_end()
        return ds[0][0][:, 0, 0, 0]

    assert np.array_equal(epoch(1.0), np.arange(40) + 100)  # every image from the other view
    half = epoch(0.5)
    swapped = half >= 100
    assert 10 <= swapped.sum() <= 30 and np.array_equal(half % 100, np.arange(40))  # same images
    assert np.array_equal(half, epoch(0.5))  # a batch read twice is the same batch
    assert not np.array_equal(swapped, epoch(0.5, epoch_index=1) >= 100)  # drawn anew each epoch
    with pytest.raises(ValueError, match="alternate"):
        SplitDataset(split, n_classes=3, alternate_rate=0.5)
    with pytest.raises(ValueError, match="holds 3 images"):
        SplitDataset(split, n_classes=3, alternate=split.subset(np.arange(3)), alternate_rate=0.5)


def test_in_store_reads_the_same_files_from_another_store():
    split = _split(n=6).subset(np.array([4, 1]))
    store = np.arange(6, dtype=np.uint8)[::-1, None, None, None] * np.ones((1, 4, 4, 1), np.uint8)
    moved = split.in_store(store, {f"img{i}.png": 5 - i for i in range(6)})  # reversed rows
    assert np.array_equal(moved.x, split.x) and moved.paths == split.paths
    with pytest.raises(ValueError, match="not in the other store"):
        split.in_store(store, {"img4.png": 1})


def test_concat_joins_splits_of_one_store():
    store = np.arange(5 * 2 * 2, dtype=np.uint8).reshape(5, 2, 2, 1)
    whole = SplitImages(store, [0, 1, 2, 0, 1], [f"f{i}" for i in range(5)])
    joined = whole.subset(np.array([3, 0])).concat(whole.subset(np.array([4])))
    assert joined.y.tolist() == [0, 0, 1] and joined.paths == ["f3", "f0", "f4"]
    assert np.array_equal(joined.x, store[[3, 0, 4]])
    other = SplitImages(store.copy(), [0], ["g"])
    with pytest.raises(ValueError, match="one image store"):
        whole.concat(other)
