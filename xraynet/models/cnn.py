"""A configurable CNN for grayscale X-rays, built from Keras 3 layers only."""

from __future__ import annotations

from dataclasses import asdict

import keras
from keras import layers

from ..config import LAST_CONV_NAME, AugmentationConfig, ModelConfig, seed_or_default
from ..layers import AntiAlias, IntensityNormalization, XRayAugmentation

__all__ = ["LAST_CONV_NAME", "AugmentationConfig", "ModelConfig", "build_cnn"]


def build_cnn(config: ModelConfig) -> keras.Model:
    """Functional CNN: raw image -> augmentation -> normalisation -> (low-pass) -> conv blocks
    -> softmax."""
    inputs = keras.Input((config.image_size, config.image_size, 1), name="image")
    x = inputs
    if config.augmentation is not None:
        x = XRayAugmentation(**asdict(config.augmentation), seed=seed_or_default(config.seed), name="augment")(x)
    x = IntensityNormalization(config.intensity, name="normalize")(x)
    if config.antialias:
        x = AntiAlias(config.antialias, name="antialias")(x)
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
