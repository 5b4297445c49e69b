import keras
import numpy as np
import pytest
from keras import ops

from xraynet.layers import IntensityNormalization, XRayAugmentation


def _images(n=4, size=24):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (n, size, size, 1)).astype("float32")


@pytest.mark.parametrize("layer", [
    IntensityNormalization("scale", name="n1"),
    IntensityNormalization("per_image", epsilon=0.5, name="n2"),
    IntensityNormalization("equalize", name="n3"),
    XRayAugmentation(rotation=5, zoom=0.2, translation=0.1, contrast=0.3, aspect=0.2, gamma=0.25,
                     horizontal_flip=True, seed=3, name="aug"),
    XRayAugmentation(zoom=0.2, fill="reflect", seed=4, name="aug_reflect"),
    XRayAugmentation(zoom=0.2, zoom_in_only=True, seed=6, name="aug_zoom_in"),
])
def test_get_config_round_trip(layer):
    config = layer.get_config()
    clone = layer.__class__.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config


def test_per_image_normalisation_standardises_each_image():
    out = ops.convert_to_numpy(IntensityNormalization("per_image")(_images()))
    assert np.allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    assert np.allclose(out.std(axis=(1, 2, 3)), 1, atol=1e-3)
    scaled = ops.convert_to_numpy(IntensityNormalization("scale")(_images()))
    assert scaled.max() <= 1.0 and scaled.min() >= 0.0


def test_equalize_flattens_the_histogram_and_ignores_exposure():
    rng = np.random.default_rng(1)
    dark = rng.beta(2, 8, (2, 64, 64, 1)).astype("float32") * 255  # skewed towards black
    layer = IntensityNormalization("equalize")
    out = ops.convert_to_numpy(layer(dark))
    assert np.allclose(out.mean(axis=(1, 2, 3)), 0, atol=0.1)
    assert np.allclose(out.std(axis=(1, 2, 3)), 1, atol=0.1)
    quartiles = np.quantile(out[0], [0.25, 0.5, 0.75])  # uniform on [-sqrt(3), sqrt(3)]
    assert np.allclose(quartiles, [-0.866, 0, 0.866], atol=0.12)
    order = np.argsort(dark[0].ravel())
    assert np.all(np.diff(out[0].ravel()[order]) >= -1e-6)  # monotone in the input
    brighter = np.clip(dark * 0.6 + 80, 0, 255)  # another exposure of the same image
    assert np.corrcoef(ops.convert_to_numpy(layer(brighter))[0].ravel(), out[0].ravel())[0, 1] > 0.98


def test_unknown_mode_rejected():
    with pytest.raises(ValueError):
        IntensityNormalization("nope")


def test_augmentation_only_in_training_and_keeps_shape_and_range():
    x = _images()
    aug = XRayAugmentation(seed=1)
    assert np.array_equal(ops.convert_to_numpy(aug(x, training=False)), x)
    out = ops.convert_to_numpy(aug(x, training=True))
    assert out.shape == x.shape and not np.allclose(out, x)
    assert out.min() >= 0 and out.max() <= 255


def test_no_flip_by_default_and_flip_mirrors():
    x = np.zeros((1, 16, 16, 1), "float32")
    x[:, :, :4] = 255  # bright left edge
    keep = XRayAugmentation(rotation=0, zoom=0, translation=0, contrast=0, seed=0)
    assert np.array_equal(ops.convert_to_numpy(keep(x, training=True)), x)
    flips = XRayAugmentation(rotation=0, zoom=0, translation=0, contrast=0, horizontal_flip=True, seed=0)
    outs = [ops.convert_to_numpy(flips(x, training=True)) for _ in range(12)]
    assert any(o[0, :, -4:].mean() > 200 for o in outs)  # some were mirrored to the right


def test_aspect_jitter_stretches_width_against_height():
    x = np.zeros((1, 41, 41, 1), "float32")
    x[:, 10:31, 10:31] = 255  # a centred 21 x 21 square
    aug = XRayAugmentation(rotation=0, zoom=0, translation=0, contrast=0, aspect=0.4, seed=0)
    ratios = []
    for _ in range(12):
        out = ops.convert_to_numpy(aug(x, training=True))[0, :, :, 0] > 127
        height, width = out.any(axis=1).sum(), out.any(axis=0).sum()
        ratios.append(width / height)
    assert min(ratios) < 0.95 and max(ratios) > 1.05  # both directions, never a plain zoom


def test_fill_reflect_shows_no_black_border_where_constant_does():
    x = np.full((8, 32, 32, 1), 200.0, "float32")  # a bright image: any black pixel is fill
    x[:, 12:20, 12:20] = 100.0
    settings = dict(rotation=30, zoom=0.3, translation=0.2, contrast=0, seed=5)
    black = ops.convert_to_numpy(XRayAugmentation(**settings)(x, training=True))
    mirrored = ops.convert_to_numpy(XRayAugmentation(fill="reflect", **settings)(x, training=True))
    assert (black < 50).mean() > 0.05
    assert (mirrored < 50).mean() == 0 and mirrored.std() > 0  # moved, yet never black
    with pytest.raises(ValueError, match="fill"):
        XRayAugmentation(fill="wrap")


def test_zoom_in_only_never_shrinks_the_image():
    x = np.zeros((1, 41, 41, 1), "float32")
    x[:, 10:31, 10:31] = 255  # a centred 21 x 21 square
    only_in = XRayAugmentation(rotation=0, zoom=0.3, translation=0, contrast=0, zoom_in_only=True, seed=0)
    both = XRayAugmentation(rotation=0, zoom=0.3, translation=0, contrast=0, seed=0)
    sides_in, sides_both = [], []
    for _ in range(12):
        sides_in.append((ops.convert_to_numpy(only_in(x, training=True))[0, 20, :, 0] > 127).sum())
        sides_both.append((ops.convert_to_numpy(both(x, training=True))[0, 20, :, 0] > 127).sum())
    assert min(sides_in) >= 21 and max(sides_in) > 23  # the square only grows
    assert min(sides_both) < 20  # the symmetric zoom also shrinks it


def test_gamma_jitter_changes_exposure_within_its_range_and_keeps_black_and_white():
    x = np.tile(np.array([0.0, 128.0, 255.0], "float32").reshape(1, 1, 3, 1), (16, 3, 1, 1))
    aug = XRayAugmentation(rotation=0, zoom=0, translation=0, contrast=0, gamma=0.25, seed=0)
    out = ops.convert_to_numpy(aug(x, training=True))
    assert np.allclose(out[..., 0, :], 0) and np.allclose(out[..., 2, :], 255, atol=1e-3)
    mid = out[:, 0, 1, 0]
    low, high = 255 * (128 / 255) ** 1.25, 255 * (128 / 255) ** 0.8
    assert (mid >= low - 1e-3).all() and (mid <= high + 1e-3).all()
    assert mid.min() < 125 and mid.max() > 131  # darker and brighter images in one batch
    assert np.array_equal(ops.convert_to_numpy(aug(x, training=False)), x)


def test_acquisition_augmentations_blur_add_noise_and_lower_resolution():
    import keras

    from xraynet.layers import XRayAugmentation, gaussian_blur

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (4, 32, 32, 1)).astype("float32")

    def rough(a):
        return float(np.abs(np.diff(np.asarray(a), axis=2)).mean())

    plain = dict(rotation=0, zoom=0, translation=0, contrast=0, seed=1)
    blurred = keras.ops.convert_to_numpy(gaussian_blur(x, 1.0))
    assert blurred.shape == x.shape and rough(blurred) < 0.5 * rough(x)
    low = XRayAugmentation(**plain, resolution=1.0)(x, training=True)
    assert rough(low) < 0.7 * rough(x)
    smooth = np.full((4, 32, 32, 1), 100.0, "float32")
    noisy = keras.ops.convert_to_numpy(XRayAugmentation(**plain, noise=20.0)(smooth, training=True))
    assert 0 < noisy.std() < 20 and noisy.min() >= 0
    layer = XRayAugmentation(**plain, resolution=0.5, blur=1.5, noise=8.0)
    again = XRayAugmentation.from_config(layer.get_config())
    assert (again.resolution, again.blur, again.noise) == (0.5, 1.5, 8.0)
    assert np.array_equal(layer(x, training=False), x)  # inference: untouched


def test_antialias_removes_fine_detail_keeps_coarse_and_round_trips():
    from xraynet.layers import AntiAlias

    yy, xx = np.mgrid[:32, :32]
    checker = ((yy + xx) % 2 * 2.0 - 1.0).astype("float32")  # the finest detail there is
    ramp = (xx / 31.0).astype("float32")  # coarse
    x = np.stack([checker, ramp])[..., None]
    layer = AntiAlias(1.0)
    y = np.asarray(keras.ops.convert_to_numpy(layer(x)))
    inner = (slice(4, -4), slice(4, -4))  # away from the zero-padded edge
    assert np.abs(y[0][inner]).max() < 0.05 * np.abs(x[0][inner]).max()
    np.testing.assert_allclose(y[1][inner], x[1][inner], atol=1e-4)
    again = AntiAlias.from_config(layer.get_config())
    assert again.sigma == 1.0
    with pytest.raises(ValueError):
        AntiAlias(0.0)
