"""Analytic FLOP count of a Keras model's forward pass (multiply and add counted as 2 FLOPs)."""

from __future__ import annotations

import math

import keras


def _conv_flops(layer, output_shape) -> int:
    kernel = math.prod(layer.kernel_size)
    in_channels = layer.input.shape[-1]
    return 2 * kernel * in_channels * math.prod(output_shape[1:])


def forward_flops(model: keras.Model) -> int:
    """FLOPs of one image's forward pass through the convolutions and dense layers (the bulk)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        elif isinstance(layer, keras.layers.Conv2D):
            total += _conv_flops(layer, layer.output.shape)
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return int(total)


def training_flops(model: keras.Model) -> int:
    """FLOPs of one image's training step: forward plus backward (about twice the forward)."""
    return 3 * forward_flops(model)
