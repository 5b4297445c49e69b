"""Retrain with the best hyperparameters, export the model, and evaluate it on test."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from xraynet import ModelConfig, Trainer, XRayDataModule
from xraynet.backend import backend_name
from xraynet.bundle import write_json
from xraynet.errors import XRayNetError
from xraynet.trainer import FitResult, new_run_dir

from .hypermodel import module_from_values
from .search import BEST_FILE

log = logging.getLogger("xraynet")


def latest_best_file(out_dir: str | Path) -> Path:
    """The newest ``best_hyperparameters.json`` under ``out_dir``."""
    found = sorted(Path(out_dir).glob(f"**/{BEST_FILE}"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise XRayNetError(f"no {BEST_FILE} under {out_dir}: run the search first "
                           "(scripts/tune.py) or pass --hyperparameters FILE")
    return found[-1]


def export_saved_model(result: FitResult) -> Path | None:
    """``model.export()`` as a TensorFlow SavedModel where the backend supports it."""
    if backend_name() not in ("tensorflow", "jax"):
        log.info("SavedModel export is not supported on the %s backend; model.keras only",
                 backend_name())
        return None
    target = result.run_dir / "saved_model"
    try:
        result.model.export(str(target), format="tf_saved_model", verbose=False)
    except Exception as exc:  # export depends on optional pieces (tensorflow, jax2tf)
        log.warning("warning: SavedModel export failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return None
    log.info("SavedModel exported to %s", target)
    return target


def train_best(*, hyperparameters: str | Path | None = None, out_dir: str | Path = "runs",
               data: str | Path | None = None, epochs: int = 40, patience: int = 15,
               cache_dir: str | Path | None = None, use_cache: bool = True) -> tuple[Path, str]:
    """Retrain with the best hyperparameters into a new run directory; returns it and the report.

    Args:
        hyperparameters: a ``best_hyperparameters.json``; default: the newest under ``out_dir``.
        out_dir: folder of searches and runs.
        data: dataset folder (default: the one the search used).
        epochs: maximum epochs of the final training (early stopping on validation loss).
    """
    best_path = Path(hyperparameters) if hyperparameters else latest_best_file(out_dir)
    payload = json.loads(best_path.read_text())
    values = payload["hyperparameters"]
    log.info("best hyperparameters from %s: %s", best_path, values)
    data_cfg = {**payload["data"], **({"root": str(data)} if data else {})}
    dm = XRayDataModule(**data_cfg, cache_dir=cache_dir, use_cache=use_cache)
    module = module_from_values(values, ModelConfig.from_dict(payload["base_model"]))
    trainer = Trainer(epochs=epochs, batch_size=int(values["batch_size"]),
                      seed=payload["search"]["seed"], patience=patience, out_dir=out_dir)
    run_dir = new_run_dir(out_dir, prefix="best")
    result = trainer.fit(module, dm, run_dir=run_dir)
    write_json(run_dir / "hyperparameters.json", {**payload, "source": str(best_path)})
    export_saved_model(result)
    report = trainer.test(result.model, dm, run_dir)
    return run_dir, report
