"""Grad-CAM (Selvaraju et al., 2017) on the last convolutional block, on any Keras backend.

Backend-agnostic except for one call: the gradient, taken by the backend's own autodiff in
:func:`xraynet.backend.gradient`. The model is split at the target layer into a feature model
(compiled, inference mode) and a head (the layers after it, applied with ``keras.ops``), and the
gradient of the class logit is taken with respect to the features.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from ..backend import gradient
from ..models import LAST_CONV_NAME, ensemble_members, submodel
from .heatmap import normalise, upsample


class GradCAM:
    """Grad-CAM heatmaps of one classifier, or the mean of an ensemble's members' heatmaps.

    Args:
        model: a model from :func:`~xraynet.models.build_cnn` or
            :func:`~xraynet.models.average_ensemble` (raw 0..255 images in, softmax out).
        layer: name of the target layer in each member (default ``"last_conv"``).
        batch_size: images per feature batch.
    """

    def __init__(self, model: keras.Model, *, layer: str = LAST_CONV_NAME, batch_size: int = 16) -> None:
        self.model = model
        self.layer = layer
        self.batch_size = batch_size
        self.parts = [_split(member, layer) for member in ensemble_members(model)]

    def heatmaps(self, images: np.ndarray, class_indices: np.ndarray) -> np.ndarray:
        """Maps ``(n, size, size)`` in 0..1 for ``images`` ``(n, size, size, 1)`` (0..255) and
        the class each map explains."""
        images = np.asarray(images, dtype=np.float32)
        class_indices = np.asarray(class_indices, dtype=int)
        size = images.shape[1]
        maps = np.zeros(images.shape[:3], np.float32)
        for start in range(0, len(images), self.batch_size):
            x = images[start:start + self.batch_size]
            classes = class_indices[start:start + self.batch_size]
            total = np.zeros(x.shape[:3], np.float32)
            for features, head in self.parts:
                cams = _cam(features, head, *_padded(x, classes, self.batch_size))[:len(x)]
                total += np.stack([normalise(upsample(c, size)) for c in cams])
            maps[start:start + len(x)] = np.stack([normalise(m) for m in total])
        return maps


def _padded(x: np.ndarray, classes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The chunk padded (repeating its last image) to the next power of two, at most ``size``
    rows: calls reuse a few compiled feature steps instead of retracing for each batch size, and
    one image (a web request) costs one image's work, not a full batch's."""
    rows = 1
    while rows < len(x):
        rows *= 2
    missing = min(rows, size) - len(x)
    if missing <= 0:
        return x, classes
    return (np.concatenate([x, np.repeat(x[-1:], missing, axis=0)]),
            np.concatenate([classes, np.repeat(classes[-1:], missing)]))


def _split(model: keras.Model, layer: str):
    """The feature model up to ``layer`` and the list of layers after it (a plain chain)."""
    try:
        target = model.get_layer(layer)
    except ValueError as exc:
        raise ValueError(f"model {model.name!r} has no layer {layer!r} for Grad-CAM") from exc
    features = submodel(model, target.output, name=f"{model.name}_features")
    names = [lyr.name for lyr in model.layers]
    head = model.layers[names.index(layer) + 1:]
    previous = target
    for lyr in head:  # the head must be a chain: each layer fed by the one before
        if lyr.input is not previous.output:
            raise ValueError(f"Grad-CAM needs a plain chain after {layer!r}; {lyr.name!r} is not "
                             f"fed by {previous.name!r}")
        previous = lyr
    if not head:
        raise ValueError(f"layer {layer!r} is the model's output; nothing to explain")
    return features, head


def _logits(head: list, features):
    """Class scores before the softmax (log-probabilities where the last layer is not a softmax Dense)."""
    h = features
    for lyr in head[:-1]:
        h = lyr(h, training=False)
    last = head[-1]
    if isinstance(last, keras.layers.Dense) and getattr(last.activation, "__name__", "") == "softmax":
        out = ops.matmul(h, last.kernel)
        return out + last.bias if last.use_bias else out
    return ops.log(last(h, training=False) + 1e-12)


def _cam(features: keras.Model, head: list, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Raw Grad-CAM maps at the target layer's resolution, ``(n, h, w)``."""
    activations = np.asarray(features.predict_on_batch(x), dtype=np.float32)
    n_classes = int(head[-1].output.shape[-1])
    onehot = ops.convert_to_tensor(np.eye(n_classes, dtype=np.float32)[classes])

    def score(a):
        return ops.sum(_logits(head, a) * onehot)

    grads = gradient(score, activations)
    weights = grads.mean(axis=(1, 2))  # (n, channels): global-average-pooled gradients
    return np.maximum(np.einsum("nhwk,nk->nhw", activations, weights), 0.0)
