"""Decoding straight down to the model's size: strips, block means, and the same picture from
8-bit, 16-bit, colour and DICOM copies of one image."""

import io

import numpy as np
from PIL import Image

from dicom_files import write_dicom
from xraynet.data.decode import DecodeSettings, decode_cost, decode_image
from xraynet.data.shrink import block_mean, reduce_factor, shrink_to_uint8, strips


def _encoded(array, fmt="PNG") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    buffer.seek(0)
    return buffer


def _scan(height=1000, width=1300) -> np.ndarray:
    """A smooth grey picture with a bright 'body' in the middle, spanning 0..255 (as a 16-bit
    file's own range is stretched to)."""
    y, x = np.mgrid[0:height, 0:width]
    body = np.exp(-(((y - height / 2) / (height / 3)) ** 2 + ((x - width / 2) / (width / 3)) ** 2))
    picture = 200 * body + 10 * np.sin(x / 17.0)
    return (picture - picture.min()) * 255 / (picture.max() - picture.min())


def test_strips_cover_whole_blocks_and_block_mean_averages_them():
    covered = list(strips(width=5000, height=1003, factor=4))
    assert covered[0][0] == 0 and covered[-1][1] == 1000
    assert all((b - a) % 4 == 0 for a, b in covered)
    assert all(a2 == b1 for (_, b1), (a2, _) in zip(covered, covered[1:]))
    values = np.arange(48, dtype=np.float32).reshape(4, 12)
    assert np.allclose(block_mean(values, 2), values.reshape(2, 2, 6, 2).mean(axis=(1, 3)))
    assert reduce_factor(11800, 11800, 192) == 30 and reduce_factor(300, 500, 192) == 1


def test_shrinking_reads_rows_strip_by_strip():
    image = np.arange(60 * 90, dtype=np.float32).reshape(60, 90) % 251
    reads = []

    def read(top, bottom):
        reads.append(bottom - top)
        return image[top:bottom]

    out = shrink_to_uint8(read, 90, 60, 3)
    expected = np.clip(image.reshape(20, 3, 30, 3).mean(axis=(1, 3)) + 0.5, 0, 255).astype(np.uint8)
    assert np.array_equal(out, expected) and sum(reads) == 60


def test_one_picture_decodes_alike_from_8_bit_16_bit_colour_and_dicom(tmp_path):
    settings = DecodeSettings(image_size=64)  # factor 7: every copy is block-averaged
    grey = _scan()
    eight = decode_image(_encoded(np.round(grey).astype(np.uint8)), settings).astype(int)
    deep = np.round(grey / 255 * 60000 + 1000).astype(np.uint16)
    sixteen = decode_image(_encoded(deep), settings).astype(int)
    colour = decode_image(_encoded(np.stack([np.round(grey).astype(np.uint8)] * 3, -1)), settings).astype(int)
    dicom = decode_image(write_dicom(tmp_path / "x.dcm", deep), settings).astype(int)
    for other in (sixteen, colour, dicom):
        assert np.abs(other - eight).max() <= 2


def test_decode_cost_is_read_from_the_header(tmp_path):
    settings = DecodeSettings(image_size=64)
    assert decode_cost(_encoded(np.zeros((300, 400), np.uint16)), settings) == 300 * 400 * 2
    assert decode_cost(_encoded(np.zeros((300, 400, 3), np.uint8)), settings) == 300 * 400 * 4
    jpeg = _encoded(np.zeros((2048, 1024), np.uint8), "JPEG")
    assert decode_cost(jpeg, settings) == (2048 // 8) * (1024 // 8)  # drafted at 1/8 scale
    assert jpeg.tell() == 0  # left ready for decoding
    dicom = write_dicom(tmp_path / "x.dcm", np.zeros((30, 40), np.uint16))
    assert decode_cost(dicom, settings) == 30 * 40 * 2
    assert decode_cost(io.BytesIO(b"not an image"), settings) == 0
