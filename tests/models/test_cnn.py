import numpy as np
import pytest

from xraynet.schema import migrate
from xraynet.models import LAST_CONV_NAME, AugmentationConfig, ModelConfig, build_cnn


def test_depth_sets_the_number_of_blocks_and_output_is_a_distribution():
    for depth in (2, 3):
        model = build_cnn(ModelConfig(image_size=32, depth=depth, base_filters=4, augmentation=None))
        blocks = {layer.name.split("_")[0] for layer in model.layers if layer.name.startswith("block")}
        assert len(blocks) == depth
        assert model.get_layer(LAST_CONV_NAME) is not None
        out = np.asarray(model.predict(np.full((2, 32, 32, 1), 128.0, "float32"), verbose=0))
        assert out.shape == (2, 3) and np.allclose(out.sum(axis=1), 1, atol=1e-5)


def test_config_round_trip_through_dict():
    config = ModelConfig(depth=3, augmentation=AugmentationConfig(horizontal_flip=True))
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert ModelConfig.from_dict({**config.to_dict(), "unknown": 1}) == config


@pytest.mark.parametrize("bad", [{"depth": 0}, {"normalization": "layer"}])
def test_invalid_config_rejected(bad):
    with pytest.raises(ValueError):
        build_cnn(ModelConfig(image_size=32, **bad))


def test_stem_stride_halves_the_feature_maps_and_old_configs_keep_stride_one():
    plain = build_cnn(ModelConfig(image_size=32, depth=2, base_filters=4, stem_stride=1, augmentation=None))
    strided = build_cnn(ModelConfig(image_size=32, depth=2, base_filters=4, stem_stride=2, augmentation=None))
    assert plain.get_layer(LAST_CONV_NAME).output.shape[1:3] == (16, 16)
    assert strided.get_layer(LAST_CONV_NAME).output.shape[1:3] == (8, 8)
    legacy = {"module": {"model": {k: v for k, v in ModelConfig().to_dict().items()
                                   if k != "stem_stride"}}}
    assert migrate(config=legacy)[0]["model"]["stem_stride"] == 1  # configs from before the option
    assert ModelConfig().stem_stride == 2 and ModelConfig().image_size == 192
    with pytest.raises(ValueError):
        build_cnn(ModelConfig(image_size=32, stem_stride=0))
