"""The backbone registry: one decorator declares a backbone, and every part of the tool
(validation, training, saving, prediction, the help) takes it."""

import keras
import numpy as np
import pytest

from xraynet.config import ModelConfig, backbone_kind
from xraynet.registry import backbone_spec, list_backbones, register_backbone, unregister_backbone
from xraynet.config_schema import ConfigError


@pytest.fixture()
def toy():
    @register_backbone("toy_convnet", pretrained=False, description="two strided convolutions")
    def toy_convnet(x, config):
        x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="toy1")(x)
        return keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="toy2")(x)

    yield "toy_convnet"
    unregister_backbone("toy_convnet")


def test_the_built_in_backbones_are_registered():
    assert list_backbones() == ["cnn", "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
    assert list_backbones(searched=True) == ["cnn", "efficientnet_lite0"]
    assert backbone_kind("keras_hub:/presets/x") == "keras_hub" and backbone_kind("m.keras") == "keras_model"
    assert backbone_kind("resnet") is None
    with pytest.raises(ConfigError, match="registered backbone: cnn, efficientnet_lite0"):
        ModelConfig(backbone="resnet")


def test_a_registered_backbone_trains_saves_and_predicts(toy, tmp_path):
    from tests.synthetic import make_dataset
    from xraynet import Predictor, Trainer, XRayClassifier, XRayDataModule
    from xraynet.cli import build_parser

    assert backbone_spec(toy).kind == "registered" and toy in list_backbones()
    assert toy in build_parser()._subparsers._group_actions[0].choices["fit"].format_help()
    config = ModelConfig(backbone=toy, image_size=32, n_classes=3, seed=0)
    assert not config.pretrained
    dm = XRayDataModule(root=make_dataset(tmp_path / "ds", n_train=8, n_test=3), image_size=32,
                        cache_dir=tmp_path / "cache")
    result = Trainer(epochs=2, batch_size=8, seed=0, out_dir=tmp_path / "runs", verbose=0).fit(
        XRayClassifier(model=config), dm)
    assert {"toy1", "toy2", "last_conv", "probabilities"} <= {lyr.name for lyr in result.model.layers}
    x = dm.split("test").x[:4].astype(np.float32)
    p = Predictor.from_path(result.run_dir).predict_arrays(x)
    assert p.shape == (4, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-4)
    with pytest.raises(ValueError, match="registered already"):
        register_backbone(toy, build=lambda x, c: x)
