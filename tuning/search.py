"""The Hyperband search: runs (or resumes) it and writes the best hyperparameters and a table."""

from __future__ import annotations

import csv
import json
import logging
import os
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import keras
import keras_tuner as kt

from xraynet import DataConfig, ModelConfig, OptimConfig, TrainerConfig, XRayDataModule
from xraynet.backend import backend_name, seed_everything
from xraynet.errors import XRayNetError
from xraynet.loop import early_stopping, monitor_mode
from xraynet.runs import (SEARCH_BEST_FILE as BEST_FILE, SEARCH_INPUTS_FILE as INPUTS_FILE,
                          SEARCH_TABLE_FILE as TABLE_FILE, SEARCH_WALL_FILE as WALL_FILE)

from .hypermodel import XRayHyperModel
from .settings import SearchSettings

log = logging.getLogger("xraynet")
#: what a search was started with (data settings, base model, search settings), so that resuming
#: it with other settings is refused instead of mixing trials of two searches
#: distinct configurations kept, best first, in ``best_hyperparameters.json`` (for ensembles).
TOP_CONFIGURATIONS = 5

#: Hyperband continues a trial from an earlier one's weights with a fresh optimizer, by design;
#: Keras warns about it on every such trial (silenced inside :func:`run_search` only).
OPTIMIZER_RELOAD_WARNING = "Skipping variable loading for optimizer"


class XRayHyperband(kt.Hyperband):
    """Hyperband that times every trial and logs progress (trial n of about N, best so far)."""

    def __init__(self, *args, expected_trials: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.expected_trials = expected_trials
        self.search_start = time.perf_counter()

    def run_trial(self, trial, *args, **kwargs):
        done = sum(t.status == "COMPLETED" for t in self.oracle.trials.values()) \
            if hasattr(self.oracle, "trials") else 0
        values = searched_values(trial)
        log.info("trial %s (%d done of about %d; %.0fs elapsed): %s", trial.trial_id, done,
                 self.expected_trials, time.perf_counter() - self.search_start, values)
        start = time.perf_counter()
        result = super().run_trial(trial, *args, **kwargs)
        seconds = time.perf_counter() - start
        trial_dir = Path(self.get_trial_dir(trial.trial_id))
        trial_dir.mkdir(parents=True, exist_ok=True)
        (trial_dir / WALL_FILE).write_text(json.dumps({"seconds": seconds}))
        # batch_size is defined inside fit(), so only now are all of the trial's values known
        log.info("trial %s finished in %.0fs: %s", trial.trial_id, seconds, searched_values(trial))
        return result

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        try:
            best = self.oracle.get_best_trials(1)
        except Exception:  # the client of a distributed oracle may not answer this
            best = []
        if best and best[0].score is not None:
            log.info("best so far: trial %s, %s = %.4f", best[0].trial_id,
                     self.oracle.objective.name, best[0].score)


def make_tuner(datamodule: XRayDataModule, base: ModelConfig, settings: SearchSettings, *,
               fresh: bool = False, trainer: TrainerConfig | None = None,
               optim: OptimConfig | None = None) -> XRayHyperband:
    """The tuner; resumes the search in ``settings.project_dir`` unless ``fresh``. Every trial
    trains with ``trainer``'s and ``optim``'s settings but what the search decides (epochs,
    batch size, learning rate, seed)."""
    hypermodel = XRayHyperModel(datamodule=datamodule, base=base, backbones=settings.backbone_list,
                                trainer=trainer, optim=optim)
    return XRayHyperband(
        hypermodel, objective=kt.Objective(settings.objective, monitor_mode(settings.objective)),
        max_epochs=settings.max_epochs, factor=settings.factor,
        hyperband_iterations=settings.iterations, seed=settings.seed,
        directory=settings.directory, project_name=settings.project, overwrite=fresh,
        expected_trials=settings.expected_trials())


def trial_rows(tuner: kt.Tuner) -> list[dict]:
    """One row per trial: id, status, score, epochs, wall time and hyperparameters."""
    rows = []
    for trial in tuner.oracle.trials.values():
        values = trial.hyperparameters.values
        wall = Path(tuner.get_trial_dir(trial.trial_id)) / WALL_FILE
        rows.append({
            "trial_id": trial.trial_id, "status": trial.status, "score": trial.score,
            "epochs": values.get("tuner/epochs"), "initial_epoch": values.get("tuner/initial_epoch"),
            "wall_seconds": round(json.loads(wall.read_text())["seconds"], 1) if wall.is_file() else None,
            **searched_values(trial),
        })
    rows.sort(key=lambda r: (r["score"] is None, r["score"] if r["score"] is not None else 0))
    return rows


def searched_values(trial) -> dict:
    """A trial's hyperparameter values without Hyperband's bookkeeping (``tuner/...``)."""
    return {k: float(f"{v:.6g}") if isinstance(v, float) else v
            for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}


def top_configurations(tuner: kt.Tuner, n: int) -> list[dict]:
    """The ``n`` best distinct configurations, best first: ``{trial_id, score, hyperparameters}``.

    Hyperband trains a configuration again in later rounds under a new trial id; each
    configuration counts once, with its best trial.
    """
    top, seen = [], set()
    for trial in tuner.oracle.get_best_trials(len(tuner.oracle.trials)):
        values = searched_values(trial)
        key = json.dumps(values, sort_keys=True)
        if trial.score is None or key in seen:
            continue
        seen.add(key)
        top.append({"trial_id": trial.trial_id, "score": trial.score, "hyperparameters": values})
        if len(top) == n:
            break
    return top


def write_results(tuner: kt.Tuner, settings: SearchSettings, data: DataConfig,
                  base: ModelConfig, seconds: float, optim: OptimConfig | None = None) -> Path:
    """``best_hyperparameters.json`` and ``trials.csv`` in the project folder; returns the JSON.

    ``search_seconds`` is this call's wall time (the last part of a resumed search);
    ``trial_seconds_total`` sums every trial's own wall time, whichever run trained it.
    """
    rows = trial_rows(tuner)
    table = settings.project_dir / TABLE_FILE
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with table.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    top = top_configurations(tuner, TOP_CONFIGURATIONS)
    best = top[0]
    payload = {"hyperparameters": best["hyperparameters"], "trial_id": best["trial_id"],
               "score": best["score"], "top": top,
               "objective": settings.objective, "search": asdict(settings),
               "data": asdict(data), "base_model": base.to_dict(),
               "optim": asdict(optim or OptimConfig()), "backend": backend_name(), "trials": len(rows), "search_seconds": round(seconds, 1),
               "trial_seconds_total": round(sum(r["wall_seconds"] or 0.0 for r in rows), 1)}
    path = settings.project_dir / BEST_FILE
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def format_top(rows: list[dict], n: int = 5) -> str:
    """The top ``n`` trials as a text table (a hyperparameter that a trial does not have, such
    as a CNN's fine-tuned blocks, is left blank)."""
    keys = list(dict.fromkeys(k for row in rows[:n] for k in row if k != "status"))
    lines = ["  ".join(f"{k:>13s}" for k in keys)]
    for row in rows[:n]:
        lines.append("  ".join(f"{(f'{v:.4g}' if isinstance(v, float) else str(v)):>13s}"
                               for v in (row.get(k, "") for k in keys)))
    return "\n".join(lines)


def search_inputs(data_config: DataConfig, base: ModelConfig, settings: SearchSettings,
                  trainer: TrainerConfig | None = None, optim: OptimConfig | None = None) -> dict:
    """What decides a search's trials: the data settings (not the folder's path), the base model,
    the search settings (not where the state lives) and the trials' training and optimisation
    settings (not where runs are written)."""
    data = {k: v for k, v in asdict(data_config).items() if k != "root"}
    search = {k: v for k, v in asdict(settings).items() if k not in ("directory", "project")}
    training = {k: v for k, v in asdict(trainer or TrainerConfig()).items()
                if k not in ("out_dir", "tensorboard")}
    return json.loads(json.dumps({"data": data, "base_model": base.to_dict(), "search": search,
                                  "trainer": training, "optim": asdict(optim or OptimConfig())}))


def check_resumable(project_dir: Path, inputs: dict) -> None:
    """Refuse to resume a search started with other inputs: its trials would mix two searches.
    (A search saved before its inputs were recorded cannot be checked.)"""
    path = project_dir / INPUTS_FILE
    if not path.is_file():
        return
    saved = json.loads(path.read_text())
    changed = [f"{section}.{key}: {saved.get(section, {}).get(key)!r} -> {value!r}"
               for section, values in inputs.items() if section in saved  # older: fewer sections
               for key, value in values.items() if saved[section].get(key) != value]
    if changed:
        raise XRayNetError(f"the search in {project_dir} was started with other settings "
                           f"({'; '.join(changed)}); pass --fresh to discard it, or "
                           "--project NAME to start another beside it")


def run_search(datamodule: XRayDataModule, base: ModelConfig, settings: SearchSettings, *,
               fresh: bool = False, trainer: TrainerConfig | None = None,
               optim: OptimConfig | None = None) -> Path | None:
    """Run or resume the search; returns the best-hyperparameters JSON (None on a worker).
    ``trainer`` and ``optim``: the trials' training and optimisation settings but what the
    search decides (default: their defaults). Resuming with other data, model, search, training
    or optimisation settings is refused (:func:`check_resumable`)."""
    seed_everything(settings.seed)
    datamodule.setup()
    resuming = not fresh and settings.project_dir.is_dir()
    chief = os.environ.get("KERASTUNER_TUNER_ID", "chief") == "chief"
    inputs = search_inputs(datamodule.config, base, settings, trainer, optim)
    if resuming and chief:
        check_resumable(settings.project_dir, inputs)
    try:
        tuner = make_tuner(datamodule, base, settings, fresh=fresh, trainer=trainer, optim=optim)
    except (ValueError, KeyError, TypeError, OSError) as exc:  # a damaged saved state
        if not resuming:
            raise
        raise XRayNetError(f"cannot resume the search in {settings.project_dir}: its saved state "
                           f"is unreadable ({type(exc).__name__}: {exc}); run it again with "
                           "--fresh (this discards it)") from exc
    if chief:  # after the tuner: a fresh one clears the project folder first
        settings.project_dir.mkdir(parents=True, exist_ok=True)
        (settings.project_dir / INPUTS_FILE).write_text(json.dumps(inputs, indent=2) + "\n")
    log.info("search: %s, about %d trials, max %d epochs each, objective %s (validation)",
             settings.project_dir, settings.expected_trials(), settings.max_epochs,
             settings.objective)
    start = time.perf_counter()
    stop = early_stopping(settings.objective, settings.patience)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=OPTIMIZER_RELOAD_WARNING)
        tuner.search(epochs=settings.max_epochs, callbacks=[stop], verbose=0)
    if not chief:
        return None  # a worker: the chief writes the results
    path = write_results(tuner, settings, datamodule.config, base, time.perf_counter() - start, optim)
    print(format_top(trial_rows(tuner)))
    return path
