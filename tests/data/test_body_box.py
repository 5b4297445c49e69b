import numpy as np
import pytest
from PIL import Image

from xraynet.data.body_box import body_box, crop_to_body
from xraynet.data.decode import DecodeSettings, decode_image, fit_to_square


def _chest(width: int = 300, height: int = 200, body: tuple[int, int, int, int] = (60, 10, 240, 200),
           seed: int = 0) -> Image.Image:
    """A dark frame with a textured bright 'body' inside ``body`` (left, top, right, bottom)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 20, (height, width)).astype(np.uint8)
    left, top, right, bottom = body
    ribs = (np.sin(np.arange(bottom - top) / 3.0)[:, None] * 40 + 150).astype(np.uint8)
    pixels[top:bottom, left:right] = ribs + rng.integers(0, 30, (bottom - top, right - left)).astype(np.uint8)
    return Image.fromarray(pixels, "L")


def test_box_is_the_body_without_the_dark_background():
    left, top, right, bottom = body_box(_chest())
    assert abs(left - 60) <= 3 and abs(right - 240) <= 3
    assert abs(top - 10) <= 3 and bottom == 200


def test_no_background_or_an_untrustworthy_box_keeps_the_whole_image():
    blank = Image.new("L", (120, 80), 0)
    assert body_box(blank) == (0, 0, 120, 80)
    full = _chest(body=(0, 0, 300, 200))
    assert body_box(full) == (0, 0, 300, 200)
    label = np.zeros((200, 300), np.uint8)
    label[5:25, 5:40] = 255  # a bright marker on an empty frame: narrower than half a side
    assert body_box(Image.fromarray(label)) == (0, 0, 300, 200)
    assert crop_to_body(blank) is blank


def test_a_squeezed_copy_gives_the_same_input_in_body_mode_only():
    """The point of the mode: squeezing a wide scan to a square (as public re-encodes do) leaves
    what the model sees nearly unchanged, where the central-square crop shows another picture."""
    wide = _chest(width=420, height=240, body=(90, 0, 330, 240))
    squeezed = wide.resize((224, 224), Image.Resampling.BILINEAR)

    def difference(resize: str) -> float:
        settings = DecodeSettings(image_size=64, resize=resize)
        a, b = fit_to_square(wide, settings), fit_to_square(squeezed, settings)
        return float(np.abs(a.astype(np.float32) - b).mean())

    assert difference("body") < 2.0  # grey levels: resampling only
    assert difference("crop") > 20.0


def test_cutting_background_from_the_sides_leaves_the_input_unchanged():
    wide = _chest(width=420, height=240, body=(90, 0, 330, 240))
    tighter = wide.crop((60, 0, 360, 240))  # a narrower frame around the same body
    settings = DecodeSettings(image_size=64, resize="body")
    a, b = fit_to_square(wide, settings), fit_to_square(tighter, settings)
    assert float(np.abs(a.astype(np.float32) - b).mean()) < 2.0


@pytest.mark.parametrize("mode", ["crop", "stretch", "body"])
def test_decode_accepts_every_resize_mode(tmp_path, mode):
    path = tmp_path / "chest.png"
    _chest().save(path)
    out = decode_image(path, DecodeSettings(image_size=48, resize=mode))
    assert out.shape == (48, 48) and out.dtype == np.uint8
    if mode == "body":  # the dark sides are gone: every column holds body
        assert out.mean(axis=0).min() > 100
