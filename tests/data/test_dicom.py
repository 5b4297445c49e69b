"""DICOM: read like any image (modality and VOI LUT, MONOCHROME1 inverted), refused clearly
when it cannot be used, in every layout and in predict."""

import io

import numpy as np
import pytest
from PIL import Image

from dicom_files import write_dicom
from xraynet.data.decode import DecodeSettings, ImageDecodeError, decode_image, decode_with_facts

pytest.importorskip("pydicom")
SETTINGS = DecodeSettings(image_size=64, resize="stretch")


def _xray(h=96, w=80, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    return np.clip(40 + 150 * np.exp(-((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / 900)
                   + rng.normal(0, 5, (h, w)), 0, 255).astype(np.uint8)


def test_a_dicom_decodes_like_the_same_pixels_as_png(tmp_path):
    pixels = _xray()
    # a DICOM's values are stretched to 0..255 (they have no fixed display range): the PNG gets
    # the same stretch, then both must decode alike
    lo, hi = int(pixels.min()), int(pixels.max())
    png = io.BytesIO()
    Image.fromarray(np.round((pixels.astype(float) - lo) * 255 / (hi - lo)).astype(np.uint8)).save(png, format="PNG")
    png.seek(0)
    from_png = decode_image(png, SETTINGS).astype(int)
    path = write_dicom(tmp_path / "a.dcm", pixels)
    from_dicom, facts = decode_with_facts(path, SETTINGS)
    assert np.abs(from_dicom.astype(int) - from_png).max() <= 1
    assert (facts.width, facts.height, facts.mode) == (80, 96, "DICOM MONOCHROME2")
    # from bytes (an upload) too: found by the DICM marker, not the name
    again = decode_image(io.BytesIO(path.read_bytes()), SETTINGS)
    np.testing.assert_array_equal(again, from_dicom)


def test_monochrome1_is_inverted_and_16_bit_windows_are_applied(tmp_path):
    pixels = _xray()
    plain = decode_image(write_dicom(tmp_path / "m2.dcm", pixels), SETTINGS).astype(int)
    inverted = decode_image(write_dicom(tmp_path / "m1.dcm", 255 - pixels, photometric="MONOCHROME1"),
                            SETTINGS).astype(int)
    assert np.abs(plain - inverted).max() <= 1
    wide = (pixels.astype(np.uint16) * 16) + 1000  # 12-bit-like values around the window
    windowed = decode_image(write_dicom(tmp_path / "w.dcm", wide, window=(1000 + 16 * 128, 16 * 128)),
                            SETTINGS)
    full = decode_image(write_dicom(tmp_path / "f.dcm", wide), SETTINGS)
    # the window cuts both ends of the range: more pixels at black and at white than without it
    assert (windowed <= 5).sum() > (full <= 5).sum() and (windowed >= 250).sum() > (full >= 250).sum()


def test_unusable_dicoms_are_one_clear_error(tmp_path):
    with pytest.raises(ImageDecodeError, match="multi-frame DICOM \\(3 frames\\)"):
        decode_image(write_dicom(tmp_path / "multi.dcm", _xray(), frames=3), SETTINGS)
    with pytest.raises(ImageDecodeError, match="exceeds the limit"):
        decode_image(write_dicom(tmp_path / "big.dcm", _xray()), DecodeSettings(max_pixels=100))
    (tmp_path / "broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"garbage")
    with pytest.raises(ImageDecodeError, match="DICOM"):
        decode_image(tmp_path / "broken.dcm", SETTINGS)


def test_dicom_files_in_a_dataset_and_in_predict(tmp_path, trained_run):
    from synthetic import make_dataset
    from xraynet.data import XRayDataModule
    from xraynet.predict import Predictor

    root = make_dataset(tmp_path / "ds")
    for png in list(root.rglob("*.png"))[::3]:  # a third of the set as DICOM, from its pixels
        write_dicom(png.with_suffix(".dcm"), np.asarray(Image.open(png)))
        png.unlink()
    dm = XRayDataModule(root=root, image_size=32, cache_dir=tmp_path / "cache").setup()
    assert dm.skipped == [] and sum(p.endswith(".dcm") for p in dm.train.paths + dm.test.paths) > 20
    predictor = Predictor.from_path(trained_run["result"].run_dir)
    dicoms = sorted((root / "test").rglob("*.dcm"))[:3]
    predictions, failed = predictor.predict_files(dicoms)
    assert not failed and len(predictions) == 3


@pytest.mark.integration
def test_a_real_xray_as_dicom_decodes_like_its_jpeg(real_data, tmp_path):
    """Real pixel data: a leak-free test X-ray of the dataset, written as a 16-bit MONOCHROME1
    DICOM with a rescale (as an archive might store it), decodes like the file itself."""
    from xraynet.data.decode import load_grayscale

    source = sorted((real_data / "test" / "Normal").iterdir())[0]
    settings = DecodeSettings(image_size=128)
    gray = np.asarray(load_grayscale(source, DecodeSettings(image_size=1024)), dtype=np.float64)
    lo, hi = gray.min(), gray.max()
    stored = np.round((hi - gray) * 16).astype(np.uint16)  # inverted, 12-bit-like values
    path = write_dicom(tmp_path / "real.dcm", stored, photometric="MONOCHROME1", slope=0.5,
                       intercept=-100.0)
    from_dicom = decode_image(path, settings).astype(int)
    stretched = Image.fromarray(np.round((gray - lo) * 255 / (hi - lo)).astype(np.uint8))
    buffer = io.BytesIO()
    stretched.save(buffer, format="PNG")
    buffer.seek(0)
    from_file = decode_image(buffer, settings).astype(int)
    assert np.abs(from_dicom - from_file).max() <= 2
