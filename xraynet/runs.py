"""The run directory: its name, what every run records beside its bundle (the duplicate audit,
every file's split), and the one loader of a saved run's model and data that ``evaluate`` and
``report`` share."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from .backend import backend_name
from .bundle import CONFIG_FILE, Bundle, load_bundle, write_json
from .data.datamodule import XRayDataModule
from .data.split_record import SPLITS_FILE
from .errors import XRayNetError


#: the run directory's folder of exported models (``xraynet export``)
EXPORT_DIR = "export"


def export_description_path(exported: str | Path) -> Path:
    """Where an exported model's description is written: ``<exported>.json`` beside it."""
    exported = Path(exported)
    return exported.with_name(exported.name + ".json")


def new_run_dir(out_dir: str | Path, prefix: str = "fit") -> Path:
    """``<out_dir>/<prefix>-<YYYYmmdd-HHMMSS>-<backend>``, made unique if needed (not created)."""
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
    run_dir = Path(run_dir)
    audit = datamodule.audit_result
    write_json(run_dir / "audit.json", {**audit.to_dict(), "skipped": datamodule.skipped,
                                        "layout": datamodule.layout})
    (run_dir / "audit.txt").write_text("\n".join(audit.summary_lines()) + "\n")
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
    bundle = load_bundle(model)
    return bundle, load_run_data(bundle, run_data_root(bundle, data), cache_dir=cache_dir,
                                 use_cache=use_cache)
