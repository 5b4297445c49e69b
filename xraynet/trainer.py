"""The trainer: wraps ``model.fit`` with callbacks, checkpoints, seeding and the run directory."""

from __future__ import annotations

import datetime as _dt
import logging
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from .backend import backend_name, data_parallel, has_tensorboard, seed_everything, versions
from .bundle import save_bundle, write_json
from .completion import complete_bundle
from .loop import early_stopping, fit_model, monitor_mode
from .config import DataConfig, RunConfig, TrainerConfig
from .data.datamodule import XRayDataModule
from .evaluation.scoring import read_history, write_curves
from .models import LAST_CONV_NAME
from .metadata import BundleMetadata
from .models.backbones import backbone_source, describe
from .distributed import Process, leave_cluster
from .errors import XRayNetError
from .module import XRayClassifier
from .runs import (BACKUP_DIR, CONFIG_FILE, BEST_WEIGHTS, CHECKPOINT_DIR, HISTORY_FILE, TENSORBOARD_DIR,
                   WARMUP_HISTORY, new_run_dir, write_audit)
from .transfer import warm_up_and_unfreeze
from .config_schema import ConfigView, configure

__all__ = ["BEST_WEIGHTS", "FitResult", "Trainer"]

log = logging.getLogger("xraynet")


@dataclass
class FitResult:
    """What :meth:`Trainer.fit` leaves: the run directory, the best model and its history (a
    cluster's other processes than 0 leave no model: they write nothing)."""

    run_dir: Path
    model: keras.Model | None
    history: dict = field(default_factory=dict)
    best_epoch: int | None = None
    best_value: float | None = None


def fine_tunes(module: XRayClassifier) -> bool:
    """Whether ``module``'s training has a fitting stage after any warm-up: the CNN's whole
    training, or a pretrained backbone's fine-tuning (not a linear probe)."""
    return not module.pretrained or module.model_config.fine_tune_blocks > 0


class Trainer(ConfigView):
    """Runs training and testing; owns callbacks, checkpoints and the run directory.

    Args:
        config: the loop's settings (:class:`~xraynet.config.TrainerConfig`, where each one's
            default, range and meaning is declared); default: every default.
        callbacks: extra Keras callbacks.
        verbose: Keras ``fit`` verbosity (default 2: one line per epoch).
        process: this process's place in a training cluster (default: alone; see
            :mod:`xraynet.distributed`): only process 0 writes the run directory.
        **overrides: any :class:`~xraynet.config.TrainerConfig` setting by name (``epochs``,
            ``batch_size``, ``devices``, ``seed``, ``monitor``, ``patience``, ``mixup``,
            ``resize_mix``, ``out_dir``, ``tensorboard``), validated as the config validates
            itself (:class:`~xraynet.config_schema.ConfigError`).
    """

    def __init__(self, *, config: TrainerConfig | None = None, callbacks: list | None = None,
                 verbose: int | str = 2, process: Process | None = None, **overrides) -> None:
        if "out_dir" in overrides:
            overrides["out_dir"] = str(overrides["out_dir"])
        self.config = configure(TrainerConfig, config, overrides, section="trainer")
        self.extra_callbacks = list(callbacks or [])
        self.verbose = verbose
        self.process = process if process is not None else Process()

    @property
    def parallel_devices(self) -> int:
        """Devices the batches are split over: ``devices`` of this host, or across processes
        every device of the cluster."""
        if self.process.count > 1:
            return len(keras.distribution.list_devices())
        return self.devices

    @property
    def out_dir(self) -> Path:
        return Path(self.config.out_dir)

    @property
    def mode(self) -> str:
        return monitor_mode(self.monitor)

    def callbacks(self, run_dir: Path, *, resuming: bool, start_value: float | None = None,
                  patience: int | None = None) -> list[keras.callbacks.Callback]:
        """Checkpoint of the best epoch, early stopping, CSV history, backup and TensorBoard
        (``start_value``: the monitor's value of the weights the fit starts from, which an epoch
        must beat to replace them)."""
        history = read_history(run_dir / HISTORY_FILE) if resuming else {}
        seen = history.get(self.monitor, []) + ([start_value] if start_value is not None else [])
        best_so_far = (min(seen) if self.mode == "min" else max(seen)) if seen else None
        (run_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
        callbacks = [
            keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR)),
            keras.callbacks.ModelCheckpoint(str(run_dir / BEST_WEIGHTS), monitor=self.monitor,
                                            mode=self.mode, save_best_only=True,
                                            save_weights_only=True,
                                            initial_value_threshold=best_so_far),
            early_stopping(self.monitor, patience or self.patience or 1),
            keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE), append=resuming),
        ]
        if self.tensorboard and has_tensorboard():
            callbacks.append(keras.callbacks.TensorBoard(
                str(run_dir / TENSORBOARD_DIR), write_graph=backend_name() == "tensorflow"))
        return callbacks + self.extra_callbacks

    def fit(self, module: XRayClassifier, datamodule: XRayDataModule, *,
            run_dir: str | Path | None = None) -> FitResult:
        """Train, keep the best epoch by ``monitor``, and save the bundle into the run directory,
        complete: calibrated on validation and with its input-quality gate
        (:func:`~xraynet.completion.complete_bundle`).

        A pretrained backbone trains in two stages (:mod:`xraynet.transfer`): the head's warm-up
        on the frozen backbone's cached features, then ``epochs`` of fine-tuning of its top
        blocks (none for ``fine_tune_blocks`` 0: a linear probe, whose history is the warm-up's).
        Passing the ``run_dir`` of an interrupted run resumes it from its last finished epoch.

        One seed: the trainer's ``seed`` also splits the data and seeds the augmentation where
        their configs leave theirs to the run (``DataConfig.seed``, ``ModelConfig.seed`` None);
        a data module set up before keeps its split.
        """
        datamodule.setup("fit", seed=self.seed)
        if datamodule.seed != self.seed:
            log.info("data split with the data module's seed %d (the run's seed is %d)",
                     datamodule.seed, self.seed)
        if self.process.count > 1 and module.pretrained:
            raise XRayNetError("training across processes is implemented for the from-scratch "
                               "CNN (--backbone cnn); a pretrained backbone's warm-up runs in "
                               "one process")
        if not self.process.is_chief:  # trains its share, writes nothing that stays
            with tempfile.TemporaryDirectory(prefix="xraynet-peer-") as scratch:
                return self._fit(module, datamodule, Path(scratch) / "run")
        return self._fit(module, datamodule,
                         Path(run_dir) if run_dir is not None else new_run_dir(self.out_dir))

    def _fit(self, module: XRayClassifier, datamodule: XRayDataModule, run_dir: Path) -> FitResult:
        """The run: its config and audit first (``--resume`` reads the config), then
        :meth:`train` in the run directory, then :meth:`save_run`."""
        resuming = (run_dir / BACKUP_DIR).is_dir()
        run_dir.mkdir(parents=True, exist_ok=True)
        log.info("run directory: %s%s", run_dir, " (resuming)" if resuming else "")
        write_json(run_dir / CONFIG_FILE, self.run_config(module, datamodule.config).to_dict())
        write_audit(datamodule, run_dir)
        trained = self.train(module, datamodule, work_dir=run_dir, resuming=resuming)
        if trained.model is None:
            return trained  # a cluster's other process: process 0 writes the run
        return self.save_run(trained, module, datamodule)

    def run_config(self, module: XRayClassifier, data: DataConfig) -> RunConfig:
        """The run's resolved config (what ``config.json`` records), of the data's settings."""
        return RunConfig(data=data, model=module.model_config, module=module.config,
                         trainer=self.config).resolved(backend_name())

    def train(self, module: XRayClassifier, datamodule: XRayDataModule, *, work_dir: str | Path,
              resuming: bool = False) -> FitResult:
        """Training alone: a pretrained backbone's warm-up, then :meth:`fit_loop` with the
        checkpoint and early-stopping callbacks, and the best epoch's weights restored. Writes
        only its working files into ``work_dir`` (checkpoints, backups, the history CSVs);
        :meth:`save_run` makes a run of the result. Cross-validation folds and studies call this
        alone. Returns the model (None on a cluster's other processes), its history and best
        epoch, with ``run_dir`` = ``work_dir``."""
        work_dir = Path(work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        chief = self.process.is_chief
        module.seed_from(self.seed)
        run = self.run_config(module, datamodule.config).trainer
        seed_everything(self.seed)
        train, val = self.fit_datasets(datamodule)
        with data_parallel(self.parallel_devices, across_processes=self.process.count > 1):
            model = module.build()
            start_value = None
            fine_tune = fine_tunes(module)
            if module.pretrained:
                warm_up_and_unfreeze(model, module, datamodule, batch_size=self.batch_size,
                                     seed=self.seed, run_dir=work_dir)
                if fine_tune:  # a linear probe is the warmed-up model: nothing to compare
                    start_value = self._keep_as_best(model, val, work_dir)
            if fine_tune:
                self.fit_loop(model, module, datamodule, epochs=run.epochs, datasets=(train, val),
                              callbacks=self.callbacks(work_dir, resuming=resuming,
                                                       start_value=start_value,
                                                       patience=run.patience))
            if self.process.count > 1:  # the replicated weights, read while the cluster stands
                weights = model.get_weights()
        if self.process.count > 1:
            leave_cluster(self.process)
            if not chief:
                return FitResult(work_dir, None)
            model = module.build()  # the chief goes on alone, with a model of its own
            model.set_weights(weights)
        if fine_tune and (work_dir / BEST_WEIGHTS).is_file():
            with warnings.catch_warnings():  # the warm-up's checkpoint has no optimizer state yet
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                model.load_weights(work_dir / BEST_WEIGHTS)
        history = read_history(self._history_file(module, work_dir))
        best_epoch, best_value = self._best(history)
        if fine_tune and start_value is not None and (best_value is None or (
                start_value <= best_value if self.mode == "min" else start_value >= best_value)):
            best_epoch, best_value = 0, start_value  # no fine-tuning epoch beat the warm-up
        log.info("best epoch %s (%s = %s)", best_epoch, self.monitor,
                 None if best_value is None else round(best_value, 4))
        return FitResult(work_dir, model, history, best_epoch, best_value)

    def save_run(self, trained: FitResult, module: XRayClassifier,
                 datamodule: XRayDataModule) -> FitResult:
        """Make a run of :meth:`train`'s result in its directory: the bundle (model, config,
        metadata), completed with its temperature and input-quality gate (validation and train
        only: :func:`~xraynet.completion.complete_bundle`), and the curves."""
        run_dir = trained.run_dir
        metadata = self._metadata(datamodule, module, trained.best_epoch, trained.best_value)
        config = self.run_config(module, datamodule.config).to_dict()
        save_bundle(trained.model, run_dir, config=config, metadata=metadata)
        complete_bundle(trained.model, datamodule.split_data(), run_dir)  # temperature and gate: no test image
        write_curves(self._history_file(module, run_dir), run_dir)
        return trained

    @staticmethod
    def _history_file(module: XRayClassifier, work_dir: Path) -> Path:
        """The history of the stage that chose the model: fine-tuning's, or a linear probe's
        warm-up."""
        return work_dir / (HISTORY_FILE if fine_tunes(module) else WARMUP_HISTORY)

    def fit_datasets(self, datamodule: XRayDataModule):
        """The training and validation datasets of these settings (batch size, seed, devices,
        mixup, resize mix; see :meth:`~xraynet.data.XRayDataModule.fit_datasets`)."""
        return datamodule.fit_datasets(batch_size=self.batch_size, seed=self.seed,
                                       devices=self.parallel_devices, mixup=self.mixup,
                                       resize_mix=self.resize_mix, shard=self.process.shard)

    def fit_loop(self, model: keras.Model, module: XRayClassifier, datamodule: XRayDataModule, *,
                 epochs: int, callbacks: list | tuple = (), leading_callbacks: list | tuple = (),
                 datasets: tuple | None = None, **fit_kwargs) -> keras.callbacks.History:
        """The one training loop every fit runs through (:meth:`fit`, and each trial of the
        search): ``model.fit`` on :meth:`fit_datasets` (or ``datasets``) with the class weights,
        the module's callbacks (learning-rate schedule, EMA batch-norm) between
        ``leading_callbacks`` and ``callbacks``, and ``fit_kwargs`` (e.g. the tuner's
        ``initial_epoch``, ``verbose``) forwarded untouched."""
        train, val = datasets if datasets is not None else self.fit_datasets(datamodule)
        fit_kwargs.setdefault("verbose", self.verbose)
        return fit_model(model, train, validation_data=val, epochs=epochs,
                         class_weight=datamodule.class_weights() if self.parallel_devices == 1 else None,
                         callbacks=[*leading_callbacks, *module.callbacks(epochs, train), *callbacks],
                         **fit_kwargs)

    # -- internals ----------------------------------------------------------------------------
    def _keep_as_best(self, model: keras.Model, val, run_dir: Path) -> float | None:
        """Save the warmed-up model as the best checkpoint so far; returns its monitor value
        (fine-tuning keeps an epoch only if it beats the warm-up)."""
        logs = model.evaluate(val, verbose=0, return_dict=True)
        value = logs.get(self.monitor.removeprefix("val_"))
        (run_dir / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
        model.save_weights(run_dir / BEST_WEIGHTS)
        log.info("warmed-up model: %s = %s", self.monitor, None if value is None else round(value, 4))
        return None if value is None else float(value)

    def _best(self, history: dict) -> tuple[int | None, float | None]:
        values = history.get(self.monitor)
        if not values:
            return None, None
        index = int(np.argmin(values) if self.mode == "min" else np.argmax(values))
        return index + 1, float(values[index])

    def _metadata(self, datamodule: XRayDataModule, module: XRayClassifier, best_epoch,
                  best_value) -> dict:
        audit = datamodule.audit_result
        return BundleMetadata(
            architecture=describe(module.model_config),
            backbone=backbone_source(module.model_config),
            class_names=datamodule.class_names, image_size=datamodule.image_size,
            resize=datamodule.resize, gradcam_layer=LAST_CONV_NAME, backend=backend_name(),
            versions=versions(),
            created=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            best_epoch=best_epoch, monitor=self.monitor, best_value=best_value,
            data=datamodule.summary(),
            audit={"leaked_test": audit.leaked_test, "pairs": len(audit.pairs)}).to_dict()

