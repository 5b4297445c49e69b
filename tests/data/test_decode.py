from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from xraynet.data.decode import DecodeSettings, ImageDecodeError, decode_image

S = DecodeSettings(image_size=32)


def _gradient(size=64):
    return np.tile(np.linspace(0, 255, size, dtype=np.float32), (size, 1))


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "CMYK", "1", "I;16", "I", "F"])
def test_every_mode_decodes_to_uint8_square(tmp_path: Path, mode: str):
    base = Image.fromarray(_gradient().astype(np.uint8), "L")
    if mode == "I;16":
        img = Image.fromarray((_gradient() * 257).astype(np.uint16))
    elif mode in ("I", "F"):
        img = Image.fromarray((_gradient() * 100).astype(np.int32 if mode == "I" else np.float32))
    else:
        img = base.convert(mode)
    path = tmp_path / ("img.tiff" if mode in ("CMYK", "I", "F", "I;16") else "img.png")
    img.save(path)
    out = decode_image(path, S)
    assert out.shape == (32, 32) and out.dtype == np.uint8
    if mode not in ("1",):  # the gradient survives: dark left, bright right
        assert out[:, -4:].mean() > out[:, :4].mean() + 100


def test_sixteen_bit_uses_full_range(tmp_path: Path):
    arr = np.full((40, 40), 1000, np.uint16)
    arr[:, 20:] = 3000  # all values would clip to 255 in a naive 8-bit conversion
    Image.fromarray(arr).save(tmp_path / "a.png")
    # the whole image (the body box would cut the dark half away as background)
    out = decode_image(tmp_path / "a.png", DecodeSettings(image_size=32, resize="stretch"))
    assert out.min() < 10 and out.max() > 245


def test_tiny_image_is_upscaled(tmp_path: Path):
    Image.new("L", (2, 3), 200).save(tmp_path / "tiny.png")
    assert decode_image(tmp_path / "tiny.png", S).shape == (32, 32)


def test_corrupt_truncated_and_non_image_are_refused(tmp_path: Path):
    (tmp_path / "text.jpg").write_text("not an image")
    Image.fromarray(_gradient().astype(np.uint8)).save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    for name in ("text.jpg", "cut.jpg", "garbage.png"):
        with pytest.raises(ImageDecodeError):
            decode_image(tmp_path / name, S)


def test_decompression_bomb_refused_before_decoding(tmp_path: Path):
    Image.new("L", (3000, 3000)).save(tmp_path / "big.png")
    with pytest.raises(ImageDecodeError, match="decompression bomb"):
        decode_image(tmp_path / "big.png", DecodeSettings(image_size=32, max_pixels=1_000_000))


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims width x height pixels, with almost no pixel data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_decompression_bomb_refused_with_default_limit(tmp_path: Path):
    _png_header_only(tmp_path / "bomb.png", 20000, 20000)  # 400 megapixels claimed
    with pytest.raises(ImageDecodeError, match="decompression bomb"):
        decode_image(tmp_path / "bomb.png", S)


def test_crop_keeps_the_central_square_and_stretch_squeezes(tmp_path):
    import numpy as np
    from PIL import Image

    from xraynet.data.decode import DecodeSettings, decode_image

    wide = np.zeros((40, 80), np.uint8)
    wide[:, 20:60] = 200  # the central 40x40 square is bright, the sides dark
    path = tmp_path / "wide.png"
    Image.fromarray(wide).save(path)
    crop = decode_image(path, DecodeSettings(image_size=20, resize="crop"))
    stretch = decode_image(path, DecodeSettings(image_size=20, resize="stretch"))
    assert crop.shape == stretch.shape == (20, 20)
    assert crop.min() >= 190  # only the bright centre is left
    assert stretch[:, 0].max() < 10 and stretch[:, 10].min() > 190  # sides squeezed in


def test_resize_mode_is_validated():
    import pytest

    from xraynet.data.decode import DecodeSettings

    with pytest.raises(ValueError):
        DecodeSettings(resize="pad")


@pytest.mark.parametrize("aspect, bright_columns", [(1.0, (0, 20)), (1.5, (4, 16))])
def test_center_aspect_crops_centrally_to_that_width_per_height(aspect, bright_columns):
    from xraynet.data.decode import center_aspect, fit_to_square

    wide = np.zeros((40, 80), np.uint8)
    wide[:, 20:60] = 200  # bright central 40 columns, dark sides
    wide[:5] = wide[-5:] = 100  # grey top and bottom rows: a width-limited crop keeps them
    framed = fit_to_square(center_aspect(Image.fromarray(wide), aspect),
                           DecodeSettings(image_size=20, resize="stretch"))
    assert framed.shape == (20, 20)
    middle = framed[8:12]  # rows away from the grey bands
    lo, hi = bright_columns  # aspect 1.0 keeps columns 20..60 only; 1.5 keeps 10..70
    assert middle[:, lo:hi].min() > 190
    assert aspect == 1.0 or middle[:, :2].max() < 10
    assert framed[0].max() < 120 and framed[0].min() > 80  # the full height is kept


def test_center_aspect_crops_height_of_an_image_taller_than_asked():
    from xraynet.data.decode import center_aspect

    tall = np.zeros((80, 40), np.uint8)
    tall[20:60] = 200
    framed = np.asarray(center_aspect(Image.fromarray(tall), 1.0))
    assert framed.shape == (40, 40) and framed.min() > 190  # only the central 40 rows are left
