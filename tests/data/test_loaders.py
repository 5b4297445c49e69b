"""The data seam: splits reach Keras as PyDatasets on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from xraynet.data.loaders import SplitArrays
from xraynet.data.loaders import SplitDataset


def _split(n=10, size=4):
    x = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, size, size, 1), np.uint8)
    return SplitArrays(x, np.arange(n) % 3, [f"img{i}.png" for i in range(n)])


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
    split = SplitDataset(SplitArrays(x, np.zeros(7, int), [f"{i}.png" for i in range(7)]),
                         n_classes=3, batch_size=2, shuffle=True)
    chunks = list(split.chunks(3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(chunks), x)
