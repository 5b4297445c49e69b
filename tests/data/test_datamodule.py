import logging
from pathlib import Path

import numpy as np
from PIL import Image

from xraynet.data import XRayDataModule


def test_splits_counts_and_class_weights(dataset: Path, cache_dir):
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    assert dm.class_names == ["Alpha", "Beta", "Gamma"]
    assert len(dm.train) + len(dm.val) == 72 and len(dm.test) == 24
    assert dm.train.x.shape[1:] == (32, 32, 1) and dm.train.x.dtype == np.uint8
    assert dm.val.counts(3) == [5, 5, 5]
    assert not set(dm.train.paths) & set(dm.val.paths)
    weights = dm.class_weights()
    assert set(weights) == {0, 1, 2} and all(abs(w - 1.0) < 1e-6 for w in weights.values())


def test_class_weights_follow_imbalance(dataset: Path, cache_dir):
    for f in sorted((dataset / "train" / "Gamma").iterdir())[:12]:
        f.unlink()
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    w = dm.class_weights()
    assert w[2] > w[0] and abs(w[0] - w[1]) < 1e-6


def test_second_setup_hits_the_cache_and_a_changed_file_misses(dataset: Path, cache_dir, caplog):
    caplog.set_level(logging.INFO, logger="xraynet")
    first = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    assert not first.cache_hit and "cache miss" in caplog.text
    caplog.clear()
    second = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    assert second.cache_hit and "decoding skipped" in caplog.text
    assert np.array_equal(first.train.x, second.train.x)
    other_size = XRayDataModule(root=dataset, image_size=24, cache_dir=cache_dir).setup()
    assert not other_size.cache_hit
    Image.new("L", (48, 48), 9).save(dataset / "train" / "Alpha" / "new.png")
    assert not XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup().cache_hit


def test_bad_files_are_skipped_with_one_warning_each(dataset: Path, cache_dir, caplog):
    caplog.set_level(logging.INFO, logger="xraynet")
    alpha = dataset / "train" / "Alpha"
    (alpha / "notes.txt").write_text("hello")
    (alpha / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    Image.new("RGBA", (40, 40), (200, 10, 10, 128)).save(alpha / "rgba.png")
    Image.new("P", (40, 40), 3).save(alpha / "palette.png")
    Image.new("CMYK", (40, 40), (0, 0, 0, 100)).save(alpha / "cmyk.jpg")
    Image.fromarray(np.full((8, 8), 40000, np.uint16)).save(alpha / "deep.png")
    Image.new("L", (1, 1), 100).save(alpha / "tiny.png")
    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    assert sorted(p for p, _ in dm.skipped) == ["train/Alpha/broken.jpg", "train/Alpha/notes.txt"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("notes.txt" in w for w in warnings) == 1
    assert any("2 file(s) skipped" in w for w in warnings)
    assert len(dm.train) + len(dm.val) == 72 + 5
    assert dm.summary()["skipped"]


def test_the_resize_mode_is_part_of_the_cache_key_and_config(dataset, cache_dir):
    from xraynet import XRayDataModule

    from xraynet.defaults import DEFAULT_RESIZE

    a = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup()
    b = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir, resize="stretch").setup()
    assert not b.cache_hit and b.config.resize == "stretch" and a.config.resize == DEFAULT_RESIZE
    assert XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir,
                          resize="stretch").setup().cache_hit



def test_resize_mix_reads_training_images_whole_and_squeezed(tmp_path: Path, cache_dir, caplog):
    """Wide images: the central square hides their sides, the other view squeezes them in."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 10), ("test", 3)):
        for name in ("Alpha", "Beta", "Gamma"):
            folder = tmp_path / "wide" / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                image = rng.integers(90, 110, (32, 64), dtype=np.uint8)
                image[:, :16] = 255  # a bright left quarter: only a squeezed view shows it
                Image.fromarray(image).save(folder / f"{i}.png")
    dm = XRayDataModule(root=tmp_path / "wide", image_size=32, cache_dir=cache_dir, resize="crop").setup()
    plain, _ = dm.fit_datasets(batch_size=64, seed=0)
    caplog.set_level(logging.INFO, logger="xraynet")
    mixed, val = dm.fit_datasets(batch_size=64, seed=0, resize_mix=1.0)
    assert "(stretch)" in caplog.text and dm.cache_hit is False  # decoded once, on demand
    assert plain[0][0][..., :8, 0].max() < 200  # the central square: no bright edge
    whole = mixed[0][0]
    assert np.all(whole[..., :6, 0] > 200) and np.all(whole[..., 12:, 0] < 200)  # squeezed in
    assert val.alternate is None  # validation keeps the model's own view
    caplog.clear()
    again = XRayDataModule(root=tmp_path / "wide", image_size=32, cache_dir=cache_dir, resize="crop").setup()
    again.fit_datasets(batch_size=64, seed=0, resize_mix=0.5)
    assert "(stretch)" not in caplog.text and caplog.text.count("decoding skipped") == 2


def test_prepare_data_decodes_once_and_setup_splits(dataset: Path, cache_dir):
    import pytest

    dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir)
    prepared = dm.prepare_data()
    assert prepared.found.class_names and len(prepared.stored.paths) > 0
    # stage 1 sets none of the module's state: setup does
    assert dm.class_names == [] and dm.layout is None and dm.train is None and dm.audit_result is None
    assert dm.prepare_data() is prepared  # once
    dm.setup("fit")
    assert dm.prepare_data() is prepared and dm.class_names == prepared.found.class_names
    total = sum(len(dm.split(s)) for s in ("train", "val", "test"))
    assert total == len(prepared.stored.paths) and dm.split("train") is dm.train
    with pytest.raises(ValueError, match="unknown split"):
        dm.split("training")
    with pytest.raises(ValueError, match="setup stage"):
        XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir).setup("training")


def test_the_data_split_follows_the_runs_seed_unless_its_own_is_given(dataset: Path, cache_dir):
    """One seed: DataConfig.seed None takes the seed setup is given (the trainer's)."""
    def test_paths(**kwargs):
        seed = kwargs.pop("run_seed", None)
        dm = XRayDataModule(root=dataset, image_size=32, cache_dir=cache_dir, **kwargs).setup(seed=seed)
        return dm.seed, sorted(dm.split("val").paths)

    assert test_paths()[0] == 42  # no seed anywhere: the default
    seven = test_paths(run_seed=7)
    assert seven[0] == 7 and test_paths(seed=7) == seven  # the run's seed, or its own: the same
    assert test_paths(seed=3, run_seed=7)[0] == 3  # a seed of its own is kept


def test_the_audit_hash_does_not_depend_on_the_image_size_or_framing(dataset: Path, cache_dir):
    """Hashed at HASH_IMAGE_SIZE in the default framing, whatever the model's input."""
    from xraynet.data.audit import HASH_IMAGE_SIZE

    def hashes(**settings):
        return XRayDataModule(root=dataset, cache_dir=cache_dir, **settings).prepare_data().stored.dhash

    reference = hashes(image_size=HASH_IMAGE_SIZE)
    assert np.array_equal(hashes(image_size=24), reference)
    assert np.array_equal(hashes(image_size=32, resize="crop"), reference)
    assert np.array_equal(hashes(image_size=256), reference)
