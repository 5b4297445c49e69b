"""The synthetic scale sets: every layout reads back through the data module."""

from make_synthetic import main as make_synthetic
from xraynet.data import XRayDataModule


def test_every_layout_of_the_synthetic_set_reads_back(tmp_path):
    for layout in ("split", "flat", "manifest"):
        out = tmp_path / layout
        assert make_synthetic([str(out), "--n", "300", "--layout", layout, "--size", "64",
                               "--workers", "1"]) == 0
        source = out / "manifest.csv" if layout == "manifest" else out
        dm = XRayDataModule(root=source, image_size=32, cache_dir=tmp_path / "cache").setup()
        assert dm.layout == {"split": "split-folders", "flat": "class-folders"}.get(layout, "manifest")
        assert len(dm.train) + len(dm.val) + len(dm.test) == 300
        assert dm.audit_result.pairs  # the planted copies are found
