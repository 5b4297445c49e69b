"""The acquisition-shift stress suite: each variant changes the file as described, and the
suite counts the predictions a change moves."""

import numpy as np
import pytest
from PIL import Image

from xraynet.data.decode import DecodeSettings, decode_image
from xraynet.evaluation.acquisition import VARIANTS, acquisition_check, stressed_images

NAMES = ["Covid", "Normal", "Viral Pneumonia"]
SETTINGS = DecodeSettings(image_size=32)


def _xray_like(path, seed, size=(120, 96)):
    """A smooth grey image with a bright disk and fine texture (so blur and noise show)."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[:h, :w]
    img = 60 + 80 * (((yy - h / 2) ** 2 + (xx - w / 2) ** 2) < (h / 3) ** 2) + rng.normal(0, 20, (h, w))
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def files(tmp_path):
    return [_xray_like(tmp_path / f"{i}.png", i) for i in range(6)]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_every_variant_changes_the_model_input_and_keeps_its_shape(variant, files):
    images, kept = stressed_images(files, SETTINGS, variant)
    assert kept == list(range(len(files))) and images.shape == (6, 32, 32)
    base = np.stack([decode_image(f, SETTINGS) for f in files])
    assert np.abs(images.astype(int) - base).mean() > 0.2, "the change should be visible to the model"


def test_blur_lowers_fine_contrast_and_squeeze_changes_the_proportions(files):
    by_name = {v.name: v for v in VARIANTS}
    base = np.stack([decode_image(f, SETTINGS) for f in files])
    blurred, _ = stressed_images(files, SETTINGS, by_name["blur"])
    assert _roughness(blurred).max() < 0.7 * _roughness(base).min()
    # the 120x96 disk image squeezed to a square: the central-square crop then sees it all
    squeezed = by_name["squeeze_224"].apply(Image.open(files[0]).convert("L"), 32, None)
    assert squeezed.size == (224, 224)


def _roughness(x):
    return np.abs(np.diff(x.astype(float), axis=2)).mean(axis=(1, 2))


def test_unreadable_files_are_left_out(files, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    images, kept = stressed_images([files[0], bad, files[1]], SETTINGS, VARIANTS[0])
    assert kept == [0, 2] and len(images) == 2


def test_a_model_that_reads_sharpness_is_flagged_and_a_constant_one_is_not(files):
    y = np.array([0, 1, 2, 0, 1, 2])

    def constant(x):
        return np.tile([0.2, 0.7, 0.1], (len(x), 1))

    def sharpness(x):  # Covid when the image is rough, Normal when smooth
        rough = _roughness(x[..., 0]) > 5
        return np.where(rough[:, None], [[0.9, 0.05, 0.05]], [[0.05, 0.9, 0.05]])

    steady = acquisition_check(constant, files, y, NAMES, SETTINGS, threshold=0.1)
    assert steady["flagged"] == [] and steady["max_changed"] == 0.0
    assert set(steady["variants"]) == {v.name for v in VARIANTS}
    assert steady["accuracy"] == pytest.approx(2 / 6) and steady["n"] == 6

    shaky = acquisition_check(sharpness, files, y, NAMES, SETTINGS, threshold=0.1)
    assert "blur" in shaky["flagged"]
    assert shaky["variants"]["blur"]["moves"] == {"Covid -> Normal": 6}
    assert shaky["variants"]["blur"]["changed"] == 1.0


def test_the_suite_gives_the_same_answer_a_few_files_at_a_time(files, tmp_path):
    """Files are read in chunks (memory independent of their number); the chunks change nothing,
    not even the noise drawn, and an unreadable file inside a chunk keeps the indices right."""
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    paths = [files[0], bad, *files[1:]]
    y = np.array([0, 1, 1, 2, 0, 1, 2])
    calls = []

    def noise_reader(x):  # a prediction that moves with any pixel change, noise included
        calls.append(len(x))
        m = x.reshape(len(x), -1).astype(float).std(axis=1)
        return _onehot_like(np.floor(m * 7).astype(int) % 3)

    whole = acquisition_check(noise_reader, paths, y, NAMES, SETTINGS)
    assert max(calls) == 6
    calls.clear()
    chunked = acquisition_check(noise_reader, paths, y, NAMES, SETTINGS, chunk=2)
    assert max(calls) == 2
    assert chunked == whole and whole["n"] == 6


def _onehot_like(classes):
    return np.eye(3)[classes]
