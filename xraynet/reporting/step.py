"""The model report as one explicit step after evaluation: calibrate on validation, run the
trust checks, and write ``trust.json``, ``model_card.md`` and ``report.html``."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np

from ..data.split_data import SplitData
from .trust_checks import assess_model
from .render import write_model_report
from .assessment import Assessment

log = logging.getLogger("xraynet")


def write_report(model: keras.Model, data: SplitData, run_dir: str | Path, *,
                 seed: int | None = None, probabilities: dict[str, np.ndarray] | None = None) -> Assessment:
    """Assess the model in ``run_dir`` on ``data`` (a set-up data module's splits,
    ``dm.split_data()``) (:func:`assess_model`: calibration on validation, test
    intervals, shortcut, exposure and acquisition checks, explanations) and render its report.
    ``seed``: the bootstrap's (default: the run's own, :func:`~xraynet.runs.run_seed`, so every
    command that writes a run's report draws the same intervals).
    ``probabilities``: the model's uncalibrated probabilities per split where the caller has them
    (e.g. :attr:`~xraynet.evaluation.scoring.Evaluation.probabilities`). Returns the assessment."""
    from ..runs import run_seed

    seed = run_seed(run_dir) if seed is None else seed
    assessment = assess_model(model, data, run_dir, seed=seed, probabilities=probabilities)
    card, page = write_model_report(run_dir)
    log.info("model report: %s and %s", page, card)
    return assessment
