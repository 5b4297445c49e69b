"""Preprocessing layers that live inside the model, so a saved model takes raw 0..255 images.

Backend-agnostic: ``keras.ops`` and ``keras.random`` only; registered and serialisable.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from .defaults import FILL_MODES, INTENSITY_MODES

__all__ = ["adjust_gamma", "AntiAlias", "BackboneInput", "gaussian_blur", "IntensityNormalization",
           "XRayAugmentation"]


def adjust_gamma(x, gamma):
    """Exposure change of raw 0..255 pixels: ``255 * (x / 255) ** gamma`` (gamma: a number or a
    tensor broadcast against ``x``; below 1 brightens, above 1 darkens)."""
    return 255.0 * ops.power(ops.clip(x / 255.0, 0.0, 1.0), gamma)


def gaussian_blur(x, sigma: float):
    """Gaussian blur (standard deviation ``sigma`` pixels) of images ``(batch, h, w, 1)``, edges
    padded with zeros as the augmentation's fill."""
    radius = max(1, math.ceil(2 * sigma))
    taps = [math.exp(-0.5 * (i / sigma) ** 2) for i in range(-radius, radius + 1)]
    total = sum(taps)
    line = ops.convert_to_tensor([t / total for t in taps], dtype=x.dtype)
    x = ops.depthwise_conv(x, ops.reshape(line, (-1, 1, 1, 1)), padding="same")
    return ops.depthwise_conv(x, ops.reshape(line, (1, -1, 1, 1)), padding="same")


@keras.saving.register_keras_serializable(package="xraynet")
class AntiAlias(keras.layers.Layer):
    """A fixed Gaussian low-pass (``sigma`` pixels) in training and inference alike: detail finer
    than the strided first convolution can sample is removed before it, so the model cannot
    read how a hospital's images were resized, compressed or sharpened from that detail."""

    def __init__(self, sigma: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.sigma = sigma

    def call(self, inputs):
        return gaussian_blur(ops.cast(inputs, self.compute_dtype), self.sigma)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "sigma": self.sigma}


@keras.saving.register_keras_serializable(package="xraynet")
class IntensityNormalization(keras.layers.Layer):
    """Maps raw 0..255 intensities to network inputs.

    Args:
        mode: ``"per_image"`` standardises each image to zero mean and unit variance (removes
            exposure differences between hospitals); ``"equalize"`` maps each pixel to its
            image's cumulative histogram (histogram equalisation: contrast and exposure of every
            source become the same uniform spread), then to zero mean and unit variance;
            ``"scale"`` divides by 255.
        epsilon: floor of the standard deviation in ``per_image`` mode.
    """

    MODES = INTENSITY_MODES
    #: side of the subsample whose histogram estimates an image's cumulative distribution
    EQUALIZE_SAMPLE = 32

    def __init__(self, mode: str = "per_image", epsilon: float = 1e-3, **kwargs) -> None:
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode
        self.epsilon = epsilon

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        if self.mode == "scale":
            return x / 255.0
        if self.mode == "equalize":
            return self._equalize(x)
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        std = ops.std(x, axis=(1, 2, 3), keepdims=True)
        return (x - mean) / ops.maximum(std, self.epsilon)

    def _equalize(self, x):
        """Histogram equalisation on 0..255 intensities, scaled to unit variance.

        The cumulative histogram comes from a regular grid of about ``EQUALIZE_SAMPLE`` squared
        pixels (256 comparisons per sampled pixel), so memory stays small at any input size.
        """
        levels = ops.clip(ops.round(x), 0.0, 255.0)
        step = max(1, (x.shape[1] or self.EQUALIZE_SAMPLE) // self.EQUALIZE_SAMPLE)
        sample = ops.reshape(levels[:, ::step, ::step, :], (ops.shape(x)[0], -1, 1))
        thresholds = ops.reshape(ops.arange(256, dtype=x.dtype) + 0.5, (1, 1, 256))
        cdf = ops.mean(ops.cast(sample <= thresholds, x.dtype), axis=1)  # (batch, 256)
        flat = ops.cast(ops.reshape(levels, (ops.shape(x)[0], -1)), "int32")
        mapped = ops.take_along_axis(cdf, flat, axis=1)
        mapped = ops.reshape(mapped, ops.shape(x))
        return (mapped - 0.5) * math.sqrt(12.0)  # a uniform 0..1 has variance 1/12

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="xraynet")
class XRayAugmentation(keras.layers.Layer):
    """Random rotation, zoom, aspect, translation, contrast and exposure; training only.

    Horizontal flip is off by default: the heart's side is anatomy, not noise. Aspect jitter
    stretches width against height: inputs are squeezed into a square, so a source's aspect ratio
    would otherwise survive as a shape cue (in the Kaggle train folder Viral Pneumonia scans are
    1.38 wide per unit of height, the others 1.18).

    Args:
        rotation: maximum rotation in degrees (uniform in ``[-rotation, rotation]``).
        zoom: maximum relative zoom (scale uniform in ``[1 - zoom, 1 + zoom]``).
        aspect: maximum relative change of width against height (width scaled by ``r``, height
            by ``1 / r``, ``r`` uniform in ``[1 - aspect, 1 + aspect]``).
        translation: maximum shift as a fraction of the image side, per axis.
        contrast: maximum relative contrast change around the image mean.
        gamma: exposure jitter: pixels become ``255 * (x / 255) ** g`` with ``log g`` uniform in
            ``[-log(1 + gamma), log(1 + gamma)]`` (0.25: ``g`` in 0.8..1.25); 0 turns it off.
        horizontal_flip: flip left-right with probability 0.5.
        resolution: probability that an image is downscaled to half its side and upscaled back
            (a lower-resolution source or re-encode); 0 turns it off.
        blur: largest Gaussian blur, in pixels (sigma); each image is blurred by a random share
            of it; 0 turns it off.
        noise: largest sensor noise, in grey levels (standard deviation; each image draws its
            own level up to it); 0 turns it off.
        fill: what the geometric changes show beyond the image's edge: ``"constant"`` (black)
            or ``"reflect"`` (the image mirrored at its edge).
        zoom_in_only: zoom only into the image (scale in ``[1, 1 + zoom]``), never out of it.
        seed: seed of the layer's ``SeedGenerator``.

    Resolution, blur and noise are acquisition augmentations: they teach the model that how an
    image was acquired, stored and sent is not the disease (see
    :mod:`xraynet.evaluation.acquisition`, the matching stress test).
    """

    def __init__(self, rotation: float = 10.0, zoom: float = 0.1, translation: float = 0.08,
                 contrast: float = 0.2, aspect: float = 0.0, gamma: float = 0.0,
                 horizontal_flip: bool = False, resolution: float = 0.0, blur: float = 0.0,
                 noise: float = 0.0, fill: str = "constant", zoom_in_only: bool = False,
                 seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if fill not in FILL_MODES:
            raise ValueError(f"fill must be one of {FILL_MODES}, got {fill!r}")
        self.fill = fill
        self.zoom_in_only = zoom_in_only
        self.resolution = resolution
        self.blur = blur
        self.noise = noise
        self.rotation = rotation
        self.zoom = zoom
        self.aspect = aspect
        self.translation = translation
        self.contrast = contrast
        self.gamma = gamma
        self.horizontal_flip = horizontal_flip
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, batch, bound: float):
        return keras.random.uniform((batch,), -bound, bound, seed=self.seed_generator)

    def _transforms(self, batch, height, width):
        """Per-image projective transforms (output -> input coordinates), shape (batch, 8)."""
        angle = self._uniform(batch, self.rotation * math.pi / 180.0)
        scale = self._uniform(batch, self.zoom)  # one draw either way: the same random stream
        scale = 1.0 + (ops.abs(scale) if self.zoom_in_only else scale)
        scale_x = scale_y = scale
        if self.aspect:  # drawn only when on, so aspect=0 keeps earlier runs' random streams
            ratio = ops.sqrt(1.0 + self._uniform(batch, self.aspect))
            scale_x, scale_y = scale * ratio, scale / ratio
        tx = self._uniform(batch, self.translation) * width
        ty = self._uniform(batch, self.translation) * height
        if self.horizontal_flip:
            flip = ops.where(keras.random.uniform((batch,), seed=self.seed_generator) < 0.5, -1.0, 1.0)
        else:
            flip = ops.ones((batch,))
        cos, sin = ops.cos(angle), ops.sin(angle)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        a0, a1 = cos / scale_x * flip, -sin / scale_y
        b0, b1 = sin / scale_x * flip, cos / scale_y
        a2 = cx - a0 * cx - a1 * cy + tx
        b2 = cy - b0 * cx - b1 * cy + ty
        zeros = ops.zeros((batch,))
        return ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = ops.cast(inputs, self.compute_dtype)
        shape = ops.shape(x)
        batch, height, width = shape[0], shape[1], shape[2]
        if self.rotation or self.zoom or self.aspect or self.translation or self.horizontal_flip:
            x = ops.image.affine_transform(x, self._transforms(batch, height, width),
                                           interpolation="bilinear", fill_mode=self.fill,
                                           fill_value=0)
        if self.contrast:
            factor = 1.0 + ops.reshape(self._uniform(batch, self.contrast), (-1, 1, 1, 1))
            mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
            x = ops.clip((x - mean) * factor + mean, 0.0, 255.0)
        if self.gamma:  # drawn only when on, so gamma=0 keeps earlier runs' random streams
            g = ops.exp(ops.reshape(self._uniform(batch, math.log1p(self.gamma)), (-1, 1, 1, 1)))
            x = adjust_gamma(x, g)
        if self.resolution:
            low = ops.image.resize(x, (x.shape[1] // 2, x.shape[2] // 2), interpolation="bilinear",
                                   antialias=True)
            low = ops.image.resize(low, (x.shape[1], x.shape[2]), interpolation="bilinear")
            pick = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator) < self.resolution
            x = ops.where(pick, low, x)
        if self.blur:
            share = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator)
            x = x + share * (gaussian_blur(x, self.blur) - x)
        if self.noise:
            sigma = keras.random.uniform((batch, 1, 1, 1), 0.0, self.noise, seed=self.seed_generator)
            x = ops.clip(x + sigma * keras.random.normal(ops.shape(x), seed=self.seed_generator),
                         0.0, 255.0)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rotation": self.rotation, "zoom": self.zoom,
                "aspect": self.aspect, "translation": self.translation, "contrast": self.contrast,
                "gamma": self.gamma, "horizontal_flip": self.horizontal_flip,
                "resolution": self.resolution, "blur": self.blur, "noise": self.noise,
                "fill": self.fill, "zoom_in_only": self.zoom_in_only, "seed": self.seed}


@keras.saving.register_keras_serializable(package="xraynet")
class BackboneInput(IntensityNormalization):
    """Raw 0..255 grayscale to a pretrained backbone's input: intensities mapped to 0..1 by
    ``mode`` (``"scale"``: divided by 255; ``"equalize"``: the image's cumulative histogram;
    ``"per_image"``: standardised, then centred on 0.5 with a quarter's spread), then normalised
    by the backbone's own ``mean`` and ``std`` and copied to its ``channels``."""

    def __init__(self, mode: str = "scale", mean: tuple = (0.5,), std: tuple = (0.5,),
                 channels: int = 3, **kwargs) -> None:
        super().__init__(mode, **kwargs)
        self.mean, self.std, self.channels = tuple(mean), tuple(std), int(channels)

    def call(self, inputs):
        x = super().call(inputs)
        if self.mode == "equalize":
            x = x / math.sqrt(12.0) + 0.5  # back from unit variance to the 0..1 histogram
        elif self.mode == "per_image":
            x = 0.5 + 0.25 * x
        x = ops.repeat(x, self.channels, axis=-1) if self.channels > 1 else x
        mean = ops.convert_to_tensor(_per_channel(self.mean, self.channels), dtype=x.dtype)
        std = ops.convert_to_tensor(_per_channel(self.std, self.channels), dtype=x.dtype)
        return (x - mean) / std

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.channels)

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": list(self.mean), "std": list(self.std),
                "channels": self.channels}


def _per_channel(values: tuple, channels: int) -> list[float]:
    values = [float(v) for v in values]
    return values * channels if len(values) == 1 else values[:channels]
