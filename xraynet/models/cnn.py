"""A configurable CNN for grayscale X-rays, built from Keras 3 layers only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import keras
from keras import layers

from ..defaults import (DEFAULT_ASPECT_JITTER, DEFAULT_BLUR_AUG, DEFAULT_GAMMA_AUG, DEFAULT_IMAGE_SIZE,
                        DEFAULT_INTENSITY, DEFAULT_NOISE_AUG, DEFAULT_RESOLUTION_AUG,
                        DEFAULT_STEM_STRIDE)
from ..layers import IntensityNormalization, XRayAugmentation

#: Name of the last convolutional block's output (the Grad-CAM target layer).
LAST_CONV_NAME = "last_conv"


@dataclass(frozen=True)
class AugmentationConfig:
    """Augmentation applied in training only (see :class:`XRayAugmentation`)."""

    rotation: float = 10.0
    zoom: float = 0.1
    aspect: float = DEFAULT_ASPECT_JITTER
    translation: float = 0.08
    contrast: float = 0.2
    gamma: float = DEFAULT_GAMMA_AUG
    horizontal_flip: bool = False
    resolution: float = DEFAULT_RESOLUTION_AUG
    blur: float = DEFAULT_BLUR_AUG
    noise: float = DEFAULT_NOISE_AUG


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the CNN.

    Attributes:
        image_size: input side in pixels; inputs are ``(image_size, image_size, 1)`` raw 0..255.
        n_classes: number of output classes.
        depth: number of conv blocks (each halves the resolution).
        base_filters: filters of the first block; doubled each block up to ``max_filters``.
        max_filters: cap on the filters per block.
        convs_per_block: 3x3 convolutions per block.
        dropout: dropout rate before the classifier.
        normalization: ``"batch"`` or ``"none"`` after each convolution.
        bn_momentum: batch-norm moving-average momentum; 0.9 suits the few steps per epoch
            of a small dataset (Keras' 0.99 lags by several epochs).
        intensity: ``"per_image"`` (default), ``"scale"`` or ``"equalize"`` (see
            :class:`IntensityNormalization`).
        stem_stride: stride of the very first convolution (default 2); 2 lets a larger input
            (finer detail in the first filters) cost about what an input of half its side costs.
        augmentation: training-time augmentation, or None for none.
        seed: seed of the augmentation layer.
    """

    image_size: int = DEFAULT_IMAGE_SIZE
    n_classes: int = 3
    depth: int = 4
    base_filters: int = 16
    max_filters: int = 128
    convs_per_block: int = 2
    dropout: float = 0.3
    normalization: str = "batch"
    bn_momentum: float = 0.9
    intensity: str = DEFAULT_INTENSITY
    stem_stride: int = DEFAULT_STEM_STRIDE
    augmentation: AugmentationConfig | None = field(default_factory=AugmentationConfig)
    seed: int = 42

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("stem_stride", 1)  # configs written before the option had stride 1
        if isinstance(values.get("augmentation"), dict):
            values["augmentation"] = AugmentationConfig(**values["augmentation"])
        return cls(**values)


def build_cnn(config: ModelConfig) -> keras.Model:
    """Functional CNN: raw image -> augmentation -> normalisation -> conv blocks -> softmax."""
    if config.normalization not in ("batch", "none"):
        raise ValueError(f"normalization must be 'batch' or 'none', got {config.normalization!r}")
    if config.stem_stride < 1:
        raise ValueError(f"stem_stride must be >= 1, got {config.stem_stride}")
    if config.depth < 1:
        raise ValueError(f"depth must be >= 1, got {config.depth}")
    inputs = keras.Input((config.image_size, config.image_size, 1), name="image")
    x = inputs
    if config.augmentation is not None:
        x = XRayAugmentation(**asdict(config.augmentation), seed=config.seed, name="augment")(x)
    x = IntensityNormalization(config.intensity, name="normalize")(x)
    use_bn = config.normalization == "batch"
    for block in range(config.depth):
        filters = min(config.base_filters * 2**block, config.max_filters)
        for conv in range(config.convs_per_block):
            stride = config.stem_stride if block == 0 and conv == 0 else 1
            x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=not use_bn,
                              name=f"block{block + 1}_conv{conv + 1}")(x)
            if use_bn:
                x = layers.BatchNormalization(momentum=config.bn_momentum, name=f"block{block + 1}_bn{conv + 1}")(x)
            last = block == config.depth - 1 and conv == config.convs_per_block - 1
            x = layers.Activation("relu", name=LAST_CONV_NAME if last else
                                  f"block{block + 1}_relu{conv + 1}")(x)
        if block < config.depth - 1:
            x = layers.MaxPooling2D(2, name=f"block{block + 1}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(config.dropout, name="dropout")(x)
    outputs = layers.Dense(config.n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="xraynet_cnn")
