"""The run directory: its name, the name of every file and folder a run writes (this module is
their one home), what every run records beside its bundle (the duplicate audit, every file's
split), and the one loader of a saved run's model and data that ``evaluate`` and ``report``
share. Importing it loads neither Keras nor the data module."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import XRayNetError

if TYPE_CHECKING:
    from .bundle import Bundle
    from .data.datamodule import XRayDataModule

__all__ = ["AUDIT_FILE", "AUDIT_TEXT_FILE", "BACKUP_DIR", "BEST_WEIGHTS", "CHECKPOINT_DIR",
           "CONFIG_FILE", "CURVES_FILE", "EXPLANATIONS_DIR", "EXPLANATIONS_FILE", "EXPORT_DIR",
           "EXTERNAL_CONFUSION_FILE", "EXTERNAL_PREFIX", "HEATMAPS_FILE", "HISTORY_FILE",
           "HTML_FILE", "HYPERPARAMETERS_FILE", "load_run", "load_run_data", "MEMBERS_DIR",
           "member_dir", "METADATA_FILE", "METRICS_FILE", "MODEL_CARD_FILE", "MODEL_FILE",
           "new_run_dir", "own_data_root", "PREDICTIONS_FILE", "QUALITY_FILE",
           "recorded_splits", "RELIABILITY_FILE", "REPORT_FILE", "run_data_root", "run_seed", "RUNS_DIR",
           "SEARCH_BEST_FILE", "SEARCH_INPUTS_FILE", "SEARCH_SELECTION_FILE", "SEARCH_TABLE_FILE", "SEARCH_WALL_FILE",
           "SPLITS_FILE", "TENSORBOARD_DIR", "TRUST_FILE", "WARMUP_HISTORY", "confusion_file",
           "export_description_path", "write_audit"]

#: the folder that receives run directories unless told otherwise (``TrainerConfig.out_dir``, every
#: command's ``--out``)
RUNS_DIR = "runs"

# -- the bundle (xraynet.bundle) ----------------------------------------------------------------
#: the Keras 3 model (takes raw 0..255 grayscale images)
MODEL_FILE = "model.keras"
#: the resolved settings of data, model, optimiser and trainer (:class:`~xraynet.config.RunConfig`)
CONFIG_FILE = "config.json"
#: class names, input size, backend, versions, calibration, audit summary
METADATA_FILE = "metadata.json"
#: the fitted input-quality gate (:mod:`xraynet.quality`)
QUALITY_FILE = "quality.npz"
#: an ensemble's members, each a bundle of its own: ``members/member<i>``
MEMBERS_DIR = "members"

# -- training (xraynet.trainer, xraynet.transfer) ------------------------------------------------
CHECKPOINT_DIR = "checkpoints"
#: the best epoch's weights so far
BEST_WEIGHTS = f"{CHECKPOINT_DIR}/best.weights.h5"
#: Keras' BackupAndRestore folder: its presence means an interrupted run that can resume
BACKUP_DIR = "backup"
TENSORBOARD_DIR = "tensorboard"
#: the fitting stage's per-epoch history (fine-tuning, or the CNN's training)
HISTORY_FILE = "history.csv"
#: a pretrained backbone's head warm-up history
WARMUP_HISTORY = "warmup.csv"
#: loss and AUC per epoch, train and validation
CURVES_FILE = "curves.png"
#: a train-best run's hyperparameters and search record
HYPERPARAMETERS_FILE = "hyperparameters.json"

# -- data (xraynet.data) --------------------------------------------------------------------------
AUDIT_FILE = "audit.json"
AUDIT_TEXT_FILE = "audit.txt"
#: every file's split, one row each (what later commands reuse for data without a split)
SPLITS_FILE = "splits.csv"

# -- evaluation and the report (xraynet.evaluation, xraynet.reporting) ---------------------------
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.txt"
TRUST_FILE = "trust.json"
RELIABILITY_FILE = "reliability_diagram.png"
MODEL_CARD_FILE = "model_card.md"
HTML_FILE = "report.html"
#: an external set's folder in the run directory: ``external-<name>``
EXTERNAL_PREFIX = "external-"
#: in an external set's folder: every image's prediction
PREDICTIONS_FILE = "predictions.csv"
EXTERNAL_CONFUSION_FILE = "confusion_matrix.png"

# -- explanations (xraynet.explain) ---------------------------------------------------------------
#: the report's explanation overlays (one PNG per image and method)
EXPLANATIONS_DIR = "explanations"
EXPLANATIONS_FILE = "explanations.json"
HEATMAPS_FILE = "heatmaps.npz"

# -- exports and searches ---------------------------------------------------------------------------
#: the run directory's folder of exported models (``xraynet export``)
EXPORT_DIR = "export"
#: a search directory's best trial's hyperparameters (what train-best reads)
SEARCH_BEST_FILE = "best_hyperparameters.json"
#: a search directory's table of every trial
SEARCH_TABLE_FILE = "trials.csv"
SEARCH_WALL_FILE = "wall_time.json"
#: what a search was given (data, base model, search settings): a resume must match it
SEARCH_INPUTS_FILE = "search_inputs.json"
#: a search directory's record of the members' cross-validation (each fold's scores, for resuming)
SEARCH_SELECTION_FILE = "selection.jsonl"


def confusion_file(split: str) -> str:
    """A split's confusion-matrix figure: ``confusion_matrix_<split>.png``."""
    return f"confusion_matrix_{split}.png"


def member_dir(run_dir: str | Path, index: int) -> Path:
    """The ``index``-th (from 0) member's bundle in an ensemble's run directory."""
    return Path(run_dir) / MEMBERS_DIR / f"member{index + 1}"


def export_description_path(exported: str | Path) -> Path:
    """Where an exported model's description is written: ``<exported>.json`` beside it."""
    exported = Path(exported)
    return exported.with_name(exported.name + ".json")


def new_run_dir(out_dir: str | Path, prefix: str = "fit") -> Path:
    """``<out_dir>/<prefix>-<YYYYmmdd-HHMMSS>-<backend>``, made unique if needed (not created)."""
    from .backend import backend_name

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(out_dir) / f"{prefix}-{stamp}-{backend_name()}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def write_audit(datamodule: XRayDataModule, run_dir: str | Path) -> None:
    """The duplicate audit as ``audit.json`` and ``audit.txt`` in ``run_dir``, and every file's
    split as ``splits.csv`` (what later commands reuse for data without a split of its own)."""
    from .bundle import write_json

    run_dir = Path(run_dir)
    audit = datamodule.audit_result
    write_json(run_dir / AUDIT_FILE, {**audit.to_dict(), "skipped": datamodule.skipped,
                                      "layout": datamodule.layout})
    (run_dir / AUDIT_TEXT_FILE).write_text("\n".join(audit.summary_lines()) + "\n")
    datamodule.write_splits(run_dir)


def run_seed(run_dir: str | Path) -> int:
    """The run's seed, as its ``config.json`` records it (an ensemble's: its first member's, the
    search's seed); the default seed for a run without one. What every report of the run draws
    its bootstrap intervals with, whichever command writes it."""
    from .config import DEFAULT_SEED, EnsembleConfig, config_from_dict

    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        return DEFAULT_SEED
    try:
        config = config_from_dict(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError):
        return DEFAULT_SEED
    first = config.members[0] if isinstance(config, EnsembleConfig) else config
    return first.trainer.seed


def recorded_splits(directory: str | Path | None) -> Path | None:
    """A run's ``splits.csv`` (the data module applies it only to data without a split of its
    own); None for runs written before it was kept."""
    path = Path(directory) / SPLITS_FILE if directory else None
    return path if path is not None and path.is_file() else None


def run_data_root(bundle: Bundle, data: str | Path | None) -> Path:
    """The dataset a saved run is scored on: ``data`` when given, else the run's own dataset
    where it still is, else the default locations (:func:`~xraynet.locate.resolve_data_dir`)."""
    from .locate import resolve_data_dir

    own = own_data_root(bundle)
    if data is None and own is not None and own.exists():
        return own
    return resolve_data_dir(data)


def own_data_root(bundle: Bundle) -> Path | None:
    """The dataset the run was trained on, as its config records it (None without one)."""
    return Path(bundle.data_config.root) if bundle.config.get("data") else None


def load_run_data(bundle: Bundle, root: str | Path, *, cache_dir: str | Path | None = None,
                  use_cache: bool = True) -> XRayDataModule:
    """The data module of a saved run, set up on ``root`` with the run's data settings and its
    recorded split; its classes must be the model's."""
    from .data.datamodule import XRayDataModule

    if not bundle.config.get("data"):
        raise XRayNetError(f"{bundle.directory} has no config.json with the data settings")
    dm = XRayDataModule.from_config(bundle.data_config, root=root, cache_dir=cache_dir,
                                    use_cache=use_cache,
                                    splits_file=recorded_splits(bundle.directory)).setup()
    if dm.class_names != bundle.class_names:
        raise XRayNetError(f"dataset classes {dm.class_names} differ from the model's "
                           f"{bundle.class_names}")
    return dm


def load_run(model: str | Path, *, data: str | Path | None = None,
             cache_dir: str | Path | None = None, use_cache: bool = True
             ) -> tuple[Bundle, XRayDataModule]:
    """A saved run's bundle and its data (:func:`run_data_root`, :func:`load_run_data`)."""
    from .bundle import load_bundle

    bundle = load_bundle(model)
    return bundle, load_run_data(bundle, run_data_root(bundle, data), cache_dir=cache_dir,
                                 use_cache=use_cache)
