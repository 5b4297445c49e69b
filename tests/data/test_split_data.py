"""SplitData: the splits as plain data, which evaluation takes instead of the data module."""

import json

import keras
import numpy as np
import pytest

from xraynet.data import SplitData, SplitImages, XRayDataModule
from xraynet.evaluation import evaluate_run


def _arrays(n: int, seed: int) -> SplitImages:
    rng = np.random.default_rng(seed)
    return SplitImages(rng.integers(0, 255, (n, 16, 16, 1), dtype=np.uint8), np.arange(n) % 3,
                       [f"img{seed}_{i}.png" for i in range(n)])


def test_evaluation_takes_arrays_not_a_data_module(tmp_path):
    data = SplitData({name: _arrays(9, k) for k, name in enumerate(("train", "val", "test",
                                                                    "test_leak_free"))},
                     ["a", "b", "c"], tmp_path, summary={"root": "arrays"})
    assert [str(p) for p in data.files("val")][:1] == [str(tmp_path / "img1_0.png")]
    assert set(data.evaluation_datasets()) == {"val", "test", "test_leak_free"}
    with pytest.raises(ValueError, match="no split"):
        data.split("holdout")
    model = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    evaluation = evaluate_run(model, data, tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["data"] == {"root": "arrays"} and metrics["splits"]["test"]["n"] == 9
    assert evaluation.probabilities["test_leak_free"].shape == (9, 3)


def test_a_data_modules_split_data_holds_its_splits(dataset, cache_dir):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    data = dm.split_data()
    assert data.class_names == dm.class_names and data.root == dm.root
    assert data.split("test_leak_free").paths == dm.test_leak_free.paths
    assert data.summary["splits"] == dm.summary()["splits"]
