"""EfficientNet-Lite0/1/2 in Keras 3 layers, with ImageNet weights read from PyTorch files.

The network mirrors the Apache-2.0 ``efficientnet-lite-pytorch`` reference (Tan & Le 2019; the
"lite" variants: ReLU6, no squeeze-and-excitation, stem and head not scaled) layer for layer, so
its ``.pth`` weights load without PyTorch (:mod:`xraynet.models.pth`) and the same model trains,
predicts and explains on every Keras backend. "same" padding with a stride of 2 pads the bottom
and right as the reference's TensorFlow-style padding does. Stochastic depth is left out: the
network is fine-tuned with its batch norm frozen (inference statistics), as transfer learning
does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

#: (repeats, kernel, stride, expand ratio, input filters, output filters) of each stage
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
#: variant -> (width multiplier, depth multiplier, native resolution)
VARIANTS = {"efficientnet_lite0": (1.0, 1.0, 224), "efficientnet_lite1": (1.0, 1.1, 240),
            "efficientnet_lite2": (1.1, 1.2, 260)}
STEM_FILTERS, HEAD_FILTERS = 32, 1280
BN_EPSILON, BN_MOMENTUM = 1e-3, 0.99
#: the reference's input normalisation: RGB in 0..1 mapped to -1..1
INPUT_MEAN, INPUT_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class Block:
    """One inverted-residual (MBConv) block."""

    index: int
    kernel: int
    stride: int
    expand: int
    filters_in: int
    filters_out: int

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.filters_in == self.filters_out


def round_filters(filters: int, width: float) -> int:
    """Filters scaled by the width multiplier, rounded to a multiple of 8 (the reference's rule)."""
    if width == 1.0:
        return filters
    scaled = filters * width
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return int(rounded + 8 if rounded < 0.9 * scaled else rounded)


def blocks_of(variant: str) -> list[Block]:
    """Every MBConv block of ``variant``, in order (the first and last stages are not deepened,
    the first takes the unscaled stem's 32 filters)."""
    width, depth, _ = VARIANTS[variant]
    blocks: list[Block] = []
    for stage, (repeats, kernel, stride, expand, f_in, f_out) in enumerate(STAGES):
        f_in, f_out = round_filters(f_in, width), round_filters(f_out, width)
        if stage == 0:
            f_in = STEM_FILTERS
        if 0 < stage < len(STAGES) - 1:
            repeats = int(math.ceil(depth * repeats))
        for r in range(repeats):
            blocks.append(Block(len(blocks), kernel, stride if r == 0 else 1, expand,
                                f_in if r == 0 else f_out, f_out))
    return blocks


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)


def efficientnet_lite_features(x, variant: str, *, last_name: str):
    """The network from a 3-channel normalised input ``x`` to its head's activation (``(h, w,
    1280)``, the layer named ``last_name``)."""
    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.ReLU(6.0, name="stem_act")(_bn("stem_bn")(x))
    for b in blocks_of(variant):
        p = f"mb{b.index}_"
        inputs = x
        if b.expand != 1:
            x = layers.Conv2D(b.filters_in * b.expand, 1, use_bias=False, name=p + "expand_conv")(x)
            x = layers.ReLU(6.0, name=p + "expand_act")(_bn(p + "expand_bn")(x))
        x = layers.DepthwiseConv2D(b.kernel, strides=b.stride, padding="same", use_bias=False,
                                   name=p + "dw_conv")(x)
        x = layers.ReLU(6.0, name=p + "dw_act")(_bn(p + "dw_bn")(x))
        x = layers.Conv2D(b.filters_out, 1, use_bias=False, name=p + "project_conv")(x)
        x = _bn(p + "project_bn")(x)
        if b.residual:
            x = layers.Add(name=p + "add")([x, inputs])
    x = layers.Conv2D(HEAD_FILTERS, 1, use_bias=False, name="head_conv")(x)
    return layers.ReLU(6.0, name=last_name)(_bn("head_bn")(x))


def block_layer_names(model: keras.Model, variant: str, top: int) -> list[str]:
    """Names of the layers with weights in the head convolution and the ``top`` last MBConv
    blocks (what fine-tuning ``top`` blocks unfreezes; the head counts with any ``top`` >= 1)."""
    if top <= 0:
        return []
    blocks = blocks_of(variant)
    prefixes = tuple(f"mb{b.index}_" for b in blocks[max(0, len(blocks) - top):])
    return [lyr.name for lyr in model.layers if lyr.weights and
            (lyr.name.startswith(prefixes) or lyr.name.startswith("head_"))]


def _conv(w: np.ndarray) -> list[np.ndarray]:
    return [np.transpose(w, (2, 3, 1, 0))]  # (out, in, kh, kw) -> (kh, kw, in, out)


def _depthwise(w: np.ndarray) -> list[np.ndarray]:
    return [np.transpose(w, (2, 3, 0, 1))]  # (c, 1, kh, kw) -> (kh, kw, c, 1)


def _batch_norm(state: dict, key: str) -> list[np.ndarray]:
    return [state[f"{key}.weight"], state[f"{key}.bias"], state[f"{key}.running_mean"],
            state[f"{key}.running_var"]]


def keras_weights(state: dict[str, np.ndarray], variant: str) -> dict[str, list[np.ndarray]]:
    """The reference's ``state_dict`` as ``{keras layer name: weights}`` for
    :func:`efficientnet_lite_features`' layers (the ImageNet classifier ``_fc`` is left out)."""
    out = {"stem_conv": _conv(state["_conv_stem.weight"]), "stem_bn": _batch_norm(state, "_bn0"),
           "head_conv": _conv(state["_conv_head.weight"]), "head_bn": _batch_norm(state, "_bn1")}
    for b in blocks_of(variant):
        t, p = f"_blocks.{b.index}.", f"mb{b.index}_"
        if b.expand != 1:
            out[p + "expand_conv"] = _conv(state[t + "_expand_conv.weight"])
            out[p + "expand_bn"] = _batch_norm(state, t + "_bn0")
        out[p + "dw_conv"] = _depthwise(state[t + "_depthwise_conv.weight"])
        out[p + "dw_bn"] = _batch_norm(state, t + "_bn1")
        out[p + "project_conv"] = _conv(state[t + "_project_conv.weight"])
        out[p + "project_bn"] = _batch_norm(state, t + "_bn2")
    return out


def load_reference_weights(model: keras.Model, state: dict[str, np.ndarray], variant: str) -> int:
    """Copy the reference's weights into ``model``'s EfficientNet-Lite layers; returns the
    number of layers set. Raises ValueError when a layer or a shape does not match."""
    weights = keras_weights(state, variant)
    for name, values in weights.items():
        layer = model.get_layer(name)
        expected = [tuple(w.shape) for w in layer.weights]
        if expected != [v.shape for v in values]:
            raise ValueError(f"{variant} weights for {name}: shapes {[v.shape for v in values]}, "
                             f"the layer has {expected}")
        layer.set_weights(values)
    return len(weights)
