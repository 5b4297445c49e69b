"""The run config: one typed, versioned config.json, and bundles of the first format still load
through the migration (fixture: tests/fixtures/bundle_v1, written by the previous code)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from xraynet.bundle import CONFIG_FILE, MODEL_FILE, load_bundle, read_run_config
from xraynet.config import SCHEMA_VERSION, DataConfig, ModelConfig, RunConfig
from xraynet.schema import migrate
from xraynet.config_schema import ConfigError

FIXTURE = Path(__file__).parent / "fixtures" / "bundle_v1"


def test_round_trip_through_a_dict():
    config = RunConfig(data=DataConfig(root="/x", image_size=64),
                       model=ModelConfig(image_size=64, depth=3), backend="jax")
    data = config.to_dict()
    assert data["schema_version"] == SCHEMA_VERSION
    assert RunConfig.from_dict(json.loads(json.dumps(data))) == config


def test_data_and_model_image_sizes_must_agree():
    with pytest.raises(ConfigError, match="differs from model.image_size"):
        RunConfig(data=DataConfig(image_size=64), model=ModelConfig(image_size=96))


def test_a_config_of_the_first_format_migrates():
    v1 = json.loads((FIXTURE / CONFIG_FILE).read_text())
    assert "schema_version" not in v1 and "model" in v1["module"]
    config = RunConfig.from_dict(v1)
    assert (config.model.depth, config.model.base_filters, config.model.stem_stride) == (3, 8, 2)
    assert config.module.learning_rate == v1["module"]["learning_rate"]
    assert config.trainer.seed == 7 and config.data.image_size == 64


def test_options_missing_from_old_configs_get_their_former_behaviour():
    v1 = json.loads((FIXTURE / CONFIG_FILE).read_text())
    del v1["module"]["model"]["stem_stride"], v1["data"]["resize"]
    migrated, _ = migrate(config=v1)
    assert migrated["model"]["stem_stride"] == 1 and migrated["data"]["resize"] == "stretch"


def test_a_config_from_a_newer_xraynet_is_refused_with_advice():
    with pytest.raises(ConfigError, match="upgrade xraynet"):
        migrate(config={"schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(ConfigError, match="upgrade xraynet"):
        migrate(metadata={"schema_version": SCHEMA_VERSION + 1})


def test_a_bundle_of_the_first_format_loads_predicts_and_reports_its_config(tmp_path):
    from xraynet import Predictor
    from xraynet.models import build_cnn

    bundle_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, bundle_dir)
    config = RunConfig.from_dict(json.loads((FIXTURE / CONFIG_FILE).read_text()))
    build_cnn(replace(config.model, augmentation=None)).save(bundle_dir / MODEL_FILE)
    bundle = load_bundle(bundle_dir)
    assert bundle.config["schema_version"] == SCHEMA_VERSION
    assert bundle.run_config == config and read_run_config(bundle_dir) == config
    assert bundle.data_config.image_size == 64 and bundle.temperature == 1.3
    proba = Predictor(bundle).predict_arrays(np.full((2, 64, 64), 100, np.uint8))
    assert proba.shape == (2, 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)


def test_training_length_follows_the_model_kind_unless_set():
    from xraynet.config import TrainerConfig
    from xraynet.defaults import CNN_EPOCHS, CNN_PATIENCE, FINE_TUNE_EPOCHS, FINE_TUNE_PATIENCE

    assert TrainerConfig().resolved(False).epochs == CNN_EPOCHS
    assert TrainerConfig().resolved(False).patience == CNN_PATIENCE
    assert TrainerConfig().resolved(True).epochs == FINE_TUNE_EPOCHS
    assert TrainerConfig().resolved(True).patience == FINE_TUNE_PATIENCE
    assert TrainerConfig(epochs=3, patience=2).resolved(True) == TrainerConfig(epochs=3, patience=2)


def test_metadata_of_every_version_loads_through_the_one_migration():
    """Version 1 (tests/fixtures/bundle_v1, before schema_version) and version 2 (written by
    this code: tests/fixtures/metadata_v2) load to the same structured layout."""
    from xraynet.metadata import BundleMetadata

    old = json.loads((FIXTURE / "metadata.json").read_text())
    current = json.loads((FIXTURE.parent / "metadata_v2" / "metadata.json").read_text())
    assert "schema_version" not in old and current["schema_version"] == SCHEMA_VERSION == 2
    for data in (old, current):
        meta = BundleMetadata.from_dict(data)
        assert meta.schema_version == SCHEMA_VERSION
        assert meta.input["shape"] == [64, 64, 1] and meta.input["value_range"] == [0, 255]
        assert meta.output["class_names"] == ["Covid", "Normal", "Viral Pneumonia"]
        assert BundleMetadata.from_dict(meta.to_dict()) == meta  # a fixed point
    assert BundleMetadata.from_dict(old).resize == "crop" and BundleMetadata.from_dict(current).resize == "body"
    no_resize = {k: v for k, v in old.items() if k != "resize"}
    assert migrate(metadata=no_resize)[1]["resize"] == "stretch"  # the first bundles squeezed
    with pytest.raises(ValueError, match="upgrade xraynet"):
        migrate(metadata={**current, "schema_version": SCHEMA_VERSION + 1})


def test_one_schema_version_and_one_migration_for_the_whole_bundle():
    """config.json and metadata.json carry the bundle's one version; the migration takes both
    (each from its own version) and returns both stamped with it."""
    import xraynet.config
    import xraynet.metadata
    from xraynet.schema import STEPS

    assert xraynet.config.SCHEMA_VERSION is xraynet.metadata.SCHEMA_VERSION
    assert sorted(STEPS) == list(range(1, SCHEMA_VERSION))  # one step per earlier version
    config = json.loads((FIXTURE / CONFIG_FILE).read_text())
    metadata = json.loads((FIXTURE / "metadata.json").read_text())
    new_config, new_metadata = migrate(config=config, metadata=metadata)
    assert new_config["schema_version"] == new_metadata["schema_version"] == SCHEMA_VERSION
    assert migrate(config=new_config, metadata=new_metadata) == (new_config, new_metadata)
    assert "model" in new_config and isinstance(new_metadata["input"], dict)
    ensemble = {"schema_version": SCHEMA_VERSION, "members": [config]}
    assert migrate(config=ensemble)[0]["members"][0] == new_config


def test_an_ensemble_config_is_typed_and_round_trips():
    from xraynet.config import EnsembleConfig, config_from_dict

    member = RunConfig(data=DataConfig(root="d", image_size=64),
                       model=ModelConfig(image_size=64, depth=2))
    ensemble = EnsembleConfig(data=member.data, members=(member, replace(member, backend="jax")))
    typed = config_from_dict(json.loads(json.dumps(ensemble.to_dict())))
    assert typed == ensemble and isinstance(typed, EnsembleConfig)
    assert isinstance(config_from_dict(member.to_dict()), RunConfig)
    with pytest.raises(ConfigError, match="at least one member"):
        EnsembleConfig(data=member.data, members=())


def test_the_objects_take_a_config_plus_overrides_validated_alike():
    from xraynet import Trainer, XRayClassifier, XRayDataModule
    from xraynet.config import OptimConfig, TrainerConfig

    base = TrainerConfig(epochs=3, batch_size=8)
    trainer = Trainer(config=base, batch_size=4)
    assert (trainer.epochs, trainer.batch_size, trainer.config) == (3, 4, replace(base, batch_size=4))
    with pytest.raises(ConfigError, match=r"trainer.batch_size = 0: must be at least 1"):
        Trainer(config=base, batch_size=0)
    with pytest.raises(ConfigError, match="trainer.epoch: no such setting"):
        Trainer(epoch=3)
    module = XRayClassifier(config=OptimConfig(optimizer="adam"), learning_rate=0.01)
    assert (module.optimizer, module.learning_rate) == ("adam", 0.01)
    with pytest.raises(ConfigError, match="module.learning_rate"):
        XRayClassifier(learning_rate=-1.0)
    dm = XRayDataModule(config=DataConfig(root="somewhere", image_size=64), val_fraction=0.3)
    assert (dm.image_size, dm.val_fraction, dm.source.name) == (64, 0.3, "somewhere")
    with pytest.raises(ConfigError, match="data.root"):
        XRayDataModule(image_size=64)


def test_with_overrides_puts_flat_keys_in_their_sections_and_refuses_unknown_ones():
    from xraynet.config import RunConfig
    from xraynet.config_schema import ConfigError

    config = RunConfig().with_overrides(seed=7, image_size=64, weight_decay=0.01, schedule="constant",
                                        optimizer="adam", rotation=3.0, epochs=5, val_source="east")
    assert (config.data.seed, config.model.seed, config.trainer.seed) == (7, 7, 7)
    assert config.data.image_size == config.model.image_size == 64
    assert (config.module.weight_decay, config.module.schedule, config.module.optimizer) == (
        0.01, "constant", "adam")
    assert config.model.augmentation.rotation == 3.0 and config.trainer.epochs == 5
    assert config.data.val_source == "east"
    with pytest.raises(ConfigError, match="unknown setting.*lerning_rate"):
        RunConfig().with_overrides(lerning_rate=0.1)
    with pytest.raises(ConfigError, match="--epochs"):
        RunConfig().with_overrides(epochs=0)
