"""Integration on the real Kaggle dataset at a small image size (skipped when absent)."""

import numpy as np
import pytest

from xraynet import ModelConfig, Trainer, XRayClassifier, XRayDataModule

pytestmark = pytest.mark.integration

KNOWN_LEAKS = {"test/Covid/COVID-00003b.jpg", "test/Covid/COVID-00012.jpg",
               "test/Covid/COVID-00022.jpg", "test/Covid/COVID-00033.jpg",
               "test/Covid/COVID-00037.jpg",
               "test/Covid/radiopaedia-2019-novel-coronavirus-infected-pneumonia.jpg"}


@pytest.fixture(scope="module")
def real_dm(tmp_path_factory, real_data):
    return XRayDataModule(root=real_data, image_size=48, cache_dir=tmp_path_factory.mktemp("cache")).setup()


def test_real_dataset_splits_and_audit(real_dm):
    assert real_dm.class_names == ["Covid", "Normal", "Viral Pneumonia"]
    assert len(real_dm.train) + len(real_dm.val) == 251 and len(real_dm.test) == 66
    assert real_dm.skipped == []
    identical = {p.b if p.split_b == "test" else p.a
                 for p in real_dm.audit_result.by_kind("identical", cross_split=True)}
    assert identical == KNOWN_LEAKS
    assert set(real_dm.audit_result.leaked_test) == KNOWN_LEAKS
    assert len(real_dm.test_leak_free) == 60
    # duplicates inside train never straddle train and validation
    val = set(real_dm.val.paths)
    for p in real_dm.audit_result.pairs:
        if p.split_a == p.split_b == "train":
            assert (p.a in val) == (p.b in val)


@pytest.mark.slow
def test_short_training_on_real_images_beats_chance(real_dm, tmp_path):
    module = XRayClassifier(model=ModelConfig(image_size=48, depth=3, base_filters=8, seed=0),
                            learning_rate=3e-3)
    trainer = Trainer(epochs=8, batch_size=16, seed=0, out_dir=tmp_path, verbose=0)
    result = trainer.fit(module, real_dm)
    proba = np.asarray(result.model.predict(real_dm.test_leak_free.x, verbose=0))
    assert (proba.argmax(1) == real_dm.test_leak_free.y).mean() >= 0.6  # chance: 1/3
