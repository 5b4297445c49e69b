"""Pixel checks of the input-quality gate, and the facts decoding reports."""

import io

import numpy as np
from PIL import Image

from xraynet.data.decode import DecodeSettings, ImageFacts, decode_with_facts
from xraynet.quality import COLOUR_LIMIT, MIN_SIDE, pixel_reasons


def _encoded(array: np.ndarray, fmt: str) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    buffer.seek(0)
    return buffer


def _xray_like(size: int = 256) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size] / size
    return np.clip(60 + 120 * np.exp(-((xx - .5) ** 2 + (yy - .5) ** 2) * 6)
                   + rng.normal(0, 10, (size, size)), 0, 255).astype(np.uint8)


def test_a_grey_image_stored_as_rgb_jpeg_is_not_called_colour():
    grey = _xray_like()
    image, facts = decode_with_facts(_encoded(np.stack([grey] * 3, -1), "JPEG"), DecodeSettings(image_size=64))
    assert facts.mode == "RGB" and facts.colourfulness < 3
    assert (facts.width, facts.height) == (256, 256)
    assert pixel_reasons(facts, image) == []


def test_colour_small_and_uniform_images_are_each_named():
    rng = np.random.default_rng(1)
    colour = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    image, facts = decode_with_facts(_encoded(colour, "PNG"), DecodeSettings(image_size=64))
    assert facts.colourfulness > COLOUR_LIMIT
    assert any(r.startswith("colour image") for r in pixel_reasons(facts, image))
    # a colour JPEG's colour survives decoding at reduced scale
    _, jpeg_facts = decode_with_facts(_encoded(colour, "JPEG"), DecodeSettings(image_size=64))
    assert jpeg_facts.colourfulness > COLOUR_LIMIT

    tiny = np.zeros((1, 1), np.uint8)
    image, facts = decode_with_facts(_encoded(tiny, "PNG"), DecodeSettings(image_size=64))
    reasons = pixel_reasons(facts, image)
    assert any(r.startswith("very small image (1x1 px") for r in reasons)
    assert any(r.startswith("near-uniform image") for r in reasons)

    small = _xray_like(MIN_SIDE - 1)
    image, facts = decode_with_facts(_encoded(small, "PNG"), DecodeSettings(image_size=64))
    assert [r.split(" (")[0] for r in pixel_reasons(facts, image)] == ["very small image"]


def test_an_array_without_facts_is_checked_for_uniformity_only():
    assert pixel_reasons(None, _xray_like(32)) == []
    assert pixel_reasons(ImageFacts(32, 32, "L"), _xray_like(32))[0].startswith("very small")
    assert pixel_reasons(None, np.full((32, 32), 9, np.uint8))[0].startswith("near-uniform")
