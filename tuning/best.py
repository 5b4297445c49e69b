"""Retrain with the best hyperparameters, export the model, and evaluate it on test."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from xraynet import ModelConfig, Trainer, XRayDataModule, export_bundle, load_bundle
from xraynet.backend import backend_name
from xraynet.config import DataConfig, EnsembleConfig, OptimConfig, TrainerConfig
from xraynet.metadata import EnsembleMember
from xraynet.config_schema import known_fields
from xraynet.bundle import read_json, read_metadata, read_run_config, save_bundle, write_json
from xraynet.completion import complete_bundle
from xraynet.evaluation import evaluate_run, write_member_curves
from xraynet.errors import XRayNetError
from xraynet.reporting import write_report
from xraynet.models.ensemble import MEMBER_PREFIX, average_ensemble
from xraynet.runs import HISTORY_FILE, HYPERPARAMETERS_FILE, member_dir, new_run_dir, write_audit
from xraynet.trainer import FitResult

from .hypermodel import module_from_values
from .search import BEST_FILE
from .settings import MemberSettings
from .selection import SELECTION_FILE, cross_validate, format_ranking, members_estimate
from .selection import candidates as candidates_of

log = logging.getLogger("xraynet")


def latest_best_file(out_dir: str | Path) -> Path:
    """The newest ``best_hyperparameters.json`` under ``out_dir``."""
    found = sorted(Path(out_dir).glob(f"**/{BEST_FILE}"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise XRayNetError(f"no {BEST_FILE} under {out_dir}: run the search first "
                           "(scripts/tune.py) or pass --hyperparameters FILE")
    return found[-1]


def export_saved_model(run_dir: Path) -> Path | None:
    """The bundle in ``run_dir`` exported as a TensorFlow SavedModel (calibrated, its
    description beside it: :func:`xraynet.export_bundle`) where the backend can; None where not."""
    try:
        target = export_bundle(load_bundle(run_dir), "saved_model", run_dir / "saved_model")
    except XRayNetError as exc:  # another backend, or a converter's failure: model.keras stays
        log.info("no SavedModel: %s", str(exc).splitlines()[0])
        return None
    log.info("SavedModel exported to %s", target)
    return target


def member_configurations(payload: dict, members: int) -> list[dict]:
    """Hyperparameters of each ensemble member: the search's best ``members`` distinct
    configurations, best first; the best one again (with another seed) where the search
    kept fewer."""
    top = [t["hyperparameters"] for t in payload.get("top", [])] or [payload["hyperparameters"]]
    return [top[i] for i in member_picks(len(top), members)]


def member_picks(ranked: int, members: int) -> list[int]:
    """Positions, in a best-first list of ``ranked`` configurations, that the ``members`` take:
    the first ones, the best again where fewer were ranked."""
    return [i if i < ranked else 0 for i in range(members)]


def train_best(*, hyperparameters: str | Path | None = None, data: str | Path | None = None,
               trainer: TrainerConfig | None = None, members: MemberSettings | None = None,
               cache_dir: str | Path | None = None, use_cache: bool = True) -> tuple[Path, str]:
    """Retrain the best configurations into a new run directory, export and evaluate the model.

    The members are the best ``members.members`` distinct configurations, each trained with its
    own seed. With ``members.select_folds`` = K > 0 they are ranked by K-fold cross-validation
    of the train folder (:mod:`tuning.selection`) among the search's best
    ``members.candidates`` configurations and ``xraynet fit``'s default; with 0, by the
    search's validation score alone. A 50-image validation split ranks close configurations
    almost at random; scoring every train image once, and averaging members, cuts that
    variance. With more than one member the exported model averages the members'
    probabilities; each member keeps its own run directory under ``members/``. Returns the run
    directory and report.

    Args:
        hyperparameters: a ``best_hyperparameters.json``; default: the newest under the
            trainer's ``out_dir``.
        data: dataset folder (default: the one the search used).
        trainer: every member's training settings (:class:`~xraynet.config.TrainerConfig`;
            its ``batch_size`` and ``seed`` come from the configuration and the search);
            ``out_dir`` holds the searches and receives the run.
        members: how many members, and how they are chosen (:class:`tuning.settings.MemberSettings`).
        cache_dir, use_cache: the decoded-image cache (see :class:`~xraynet.data.XRayDataModule`).
    """
    trainer = trainer if trainer is not None else TrainerConfig()
    chosen = members if members is not None else MemberSettings()
    out_dir = Path(trainer.out_dir)
    best_path = Path(hyperparameters) if hyperparameters else latest_best_file(out_dir)
    payload = read_json(best_path, "best hyperparameters",
                        fix="run the search again (scripts/tune.py --fresh)")
    if "hyperparameters" not in payload or "data" not in payload:
        raise XRayNetError(f"{best_path} is not a search's {BEST_FILE} (it lacks the "
                           "hyperparameters or the data settings); pass the one the search wrote")
    log.info("best hyperparameters from %s: %s", best_path, payload["hyperparameters"])
    data_cfg = {**payload["data"], **({"root": str(data)} if data else {})}
    dm = XRayDataModule(config=DataConfig(**known_fields(DataConfig, data_cfg)),
                        cache_dir=cache_dir, use_cache=use_cache).setup()
    base = ModelConfig.from_dict(payload["base_model"])
    optim = OptimConfig(**known_fields(OptimConfig, payload.get("optim", {})))
    seed = int(payload["search"]["seed"])
    selection = None
    if chosen.select_folds > 0:
        ranked, held = cross_validate(
            candidates_of(payload, base, chosen.candidates), dm, base=base,
            folds=chosen.select_folds, seed=seed, trainer=trainer, optim=optim,
            path=best_path.parent / SELECTION_FILE)
        log.info("members' choice by %d-fold cross-validation of the train folder:\n%s",
                 chosen.select_folds, format_ranking(ranked))
        picks = member_picks(len(ranked), chosen.members)
        configs = [ranked[i]["hyperparameters"] for i in picks]
        sources = [ranked[i]["source"] for i in picks]
        selection = {"folds": chosen.select_folds, "ranking": ranked, "members": sources,
                     "members_estimate": members_estimate(held, sources)}
        log.info("the members' average on the held-out train images: log-loss %.3f, accuracy "
                 "%.3f, macro-F1 %.3f (the test split not read)",
                 *(selection["members_estimate"][k] for k in ("log_loss", "accuracy", "macro_f1")))
    else:
        configs = member_configurations(payload, chosen.members)
    run_dir = new_run_dir(out_dir, prefix="best")
    results: list[FitResult] = []
    for i, values in enumerate(configs):
        directory = run_dir if len(configs) == 1 else member_dir(run_dir, i)
        if len(configs) > 1:
            log.info("member %d of %d: %s", i + 1, len(configs), values)
        module = module_from_values(values, dataclasses.replace(base, seed=seed + i), optim)
        fit = Trainer(config=trainer, batch_size=int(values["batch_size"]), seed=seed + i)
        results.append(fit.fit(module, dm, run_dir=directory))
    write_json(run_dir / HYPERPARAMETERS_FILE,
               {**payload, "source": str(best_path), "members": configs,
                "selection": selection})
    model = results[0].model if len(results) == 1 else _save_ensemble(results, dm, run_dir)
    export_saved_model(run_dir)
    data = dm.split_data()
    evaluation = evaluate_run(model, data, run_dir)
    write_report(model, data, run_dir, probabilities=evaluation.probabilities)  # the run's seed
    return run_dir, evaluation.text


def _save_ensemble(results: list[FitResult], dm: XRayDataModule, run_dir: Path):
    """Average the members into one bundle in ``run_dir``, with member curves and reports."""
    for result in results:  # each member's own evaluation, beside its model
        evaluate_run(result.model, dm.split_data(), result.run_dir)
    model = average_ensemble([r.model for r in results])
    member_dirs = [r.run_dir.relative_to(run_dir).as_posix() for r in results]
    metadata = dataclasses.replace(
        read_metadata(results[0].run_dir), architecture=f"average of {len(results)} members' probabilities",
        members=tuple(EnsembleMember(f"{MEMBER_PREFIX}{i + 1}", d, r.best_epoch, r.best_value)
                      for i, (d, r) in enumerate(zip(member_dirs, results))),
        best_epoch=None, best_value=None).to_dict()
    config = EnsembleConfig(data=dm.config, backend=backend_name(),
                            members=tuple(read_run_config(r.run_dir) for r in results))
    save_bundle(model, run_dir, config=config.to_dict(), metadata=metadata)
    complete_bundle(model, dm.split_data(), run_dir, refit=True)  # the ensemble's own temperature and gate (not member 1's)
    write_audit(dm, run_dir)  # like every run directory: the report quotes it
    write_member_curves({f"member {i + 1}": r.run_dir / HISTORY_FILE for i, r in enumerate(results)},
                        run_dir)
    return model
