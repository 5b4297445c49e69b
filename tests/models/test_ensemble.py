import numpy as np
import pytest

import keras

from xraynet import ModelConfig, build_cnn
from xraynet.models import average_ensemble, ensemble_members

CFG = ModelConfig(image_size=32, depth=2, base_filters=4, augmentation=None)


def test_the_ensemble_averages_its_members_and_survives_a_save(tmp_path):
    members = [build_cnn(CFG) for _ in range(3)]
    model = average_ensemble(members)
    x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 1)).astype("float32")
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
    model.save(tmp_path / "e.keras")
    loaded = keras.saving.load_model(tmp_path / "e.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
    assert [m.name for m in ensemble_members(loaded)] == ["member1", "member2", "member3"]


def test_one_member_is_the_model_itself_and_shapes_must_match():
    single = build_cnn(CFG)
    assert average_ensemble([single]) is single
    assert ensemble_members(single) == [single]
    with pytest.raises(ValueError):
        average_ensemble([build_cnn(CFG), build_cnn(ModelConfig(image_size=48, depth=2))])
    with pytest.raises(ValueError):
        average_ensemble([])
