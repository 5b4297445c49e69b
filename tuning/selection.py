"""Cross-validated choice of train-best's members.

The search ranks configurations on one validation split (about 50 images here) after at most
``max_epochs`` epochs: close configurations come out in near-random order, and one that learns
fast in a few epochs is favoured over one that ends better. So before the members are trained,
each candidate (the search's best distinct configurations and ``xraynet fit``'s default) is
trained on every fold of a K-fold cross-validation of the train folder, the way a member is
trained (same epochs, patience and early stopping on the fold's own validation split), and scored
on the fold's held-out images. Every train image is then scored once per candidate by a model
that did not see it; candidates are ranked by that pooled log-loss (the search's own objective).
All fits share the folds and the seed, so the comparison is paired. The test split is never read.

Each fold's scores are appended to ``selection.jsonl`` beside the search's results as soon as
they exist, so an interrupted choice resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from xraynet import ModelConfig, Trainer, XRayDataModule
from xraynet.config import OptimConfig, TrainerConfig
from xraynet.data.loaders import SplitImages, SplitDataset
from xraynet.errors import XRayNetError
from xraynet.runs import SEARCH_SELECTION_FILE as SELECTION_FILE
from xraynet.evaluation.calibration import negative_log_likelihood

from .hypermodel import module_from_values
from .space import default_values

log = logging.getLogger("xraynet")
#: where a candidate comes from
SEARCH, DEFAULT = "search", "default"


def candidates(payload: dict, base: ModelConfig, n: int) -> list[dict]:
    """The search's ``n`` best distinct configurations (best first), then ``xraynet fit``'s
    default unless it is one of them: ``{"source", "hyperparameters", "validation_score"}``."""
    top = payload.get("top") or [{"hyperparameters": payload["hyperparameters"],
                                  "score": payload.get("score")}]
    found = [{"source": f"{SEARCH} #{i + 1}", "hyperparameters": t["hyperparameters"],
              "validation_score": t.get("score")} for i, t in enumerate(top[:n])]
    default = default_values(base)
    if not any(_same(c["hyperparameters"], default) for c in found):
        found.append({"source": DEFAULT, "hyperparameters": default, "validation_score": None})
    return found


def _same(a: dict, b: dict) -> bool:
    def equal(x, y) -> bool:
        if isinstance(x, str) or isinstance(y, str):
            return x == y
        return bool(np.isclose(float(x), float(y)))

    return set(a) == set(b) and all(equal(a[k], b[k]) for k in b)


#: the members' training settings that a fold's score depends on (its cache key)
TRAINER_KEYS = ("epochs", "patience", "devices", "mixup", "resize_mix")


def fold_scores(values: dict, fold: XRayDataModule, held_out: SplitImages, *, base: ModelConfig,
                seed: int, trainer: TrainerConfig, optim: OptimConfig | None = None) -> dict:
    """Train ``values`` on one fold with the members' training settings (``trainer``; batch
    size and seed from ``values`` and ``seed``) and predict its held-out images: their labels
    and probabilities."""
    module = module_from_values(values, dataclasses.replace(base, seed=seed), optim)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        fitted = Trainer(config=trainer, batch_size=int(values["batch_size"]), seed=seed,
                         out_dir=tmp, tensorboard=False, verbose=0).train(module, fold, work_dir=tmp)
        proba = fitted.model.predict(SplitDataset(held_out, n_classes=len(fold.class_names),
                                                  batch_size=32), verbose=0)
    return {"y": held_out.y.tolist(), "proba": np.round(np.asarray(proba, np.float64), 6).tolist(),
            "best_epoch": fitted.best_epoch, "seconds": round(time.perf_counter() - start, 1)}


def probability_scores(y: np.ndarray, proba: np.ndarray) -> dict:
    """Log-loss, accuracy and macro-F1 (over the classes of ``proba``'s columns) of held-out
    probabilities."""
    y, proba = np.asarray(y, int), np.asarray(proba, np.float64)
    pred = proba.argmax(axis=1)
    return {"n": int(len(y)), "log_loss": negative_log_likelihood(y, proba),
            "accuracy": float(accuracy_score(y, pred)),
            "macro_f1": float(f1_score(y, pred, labels=list(range(proba.shape[1])),
                                       average="macro", zero_division=0))}


def pooled(folds: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Every fold's held-out labels and probabilities, together."""
    return (np.concatenate([f["y"] for f in folds]).astype(int),
            np.concatenate([np.asarray(f["proba"], np.float64) for f in folds]))


def members_estimate(held_out: dict[str, tuple[np.ndarray, np.ndarray]],
                     members: list[str]) -> dict:
    """Scores of the average of ``members``' held-out probabilities (candidates by source, a
    repeated one counted each time): a train-folder estimate of the exported model."""
    y = held_out[members[0]][0]
    return probability_scores(y, np.mean([held_out[m][1] for m in members], axis=0))


def cross_validate(found: list[dict], dm: XRayDataModule, *, base: ModelConfig, folds: int,
                   seed: int, trainer: TrainerConfig, path: Path, optim: OptimConfig | None = None
                   ) -> tuple[list[dict], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Score every candidate on ``folds`` folds of the train folder (resuming from ``path``).
    Returns the candidates with their pooled scores, best (lowest log-loss) first, and each
    candidate's held-out labels and probabilities by source (the same images, in the same
    order, for every candidate)."""
    try:
        splits = dm.setup().cross_validation(folds, seed=seed)
    except ValueError as exc:
        raise XRayNetError(f"cannot cross-validate the members' choice on {folds} folds of the "
                           f"train folder: {exc}; pass --select-folds 0 (the search's order) or "
                           "fewer folds") from exc
    done = _read(path)
    ranked, held = [], {}
    for ci, cand in enumerate(found):
        scores = []
        for fi, (fold, held_out) in enumerate(splits):
            key = _key(cand["hyperparameters"], fi, len(splits), seed, trainer, dm, optim)
            if key not in done:
                done[key] = fold_scores(cand["hyperparameters"], fold, held_out, base=base,
                                        seed=seed, trainer=trainer, optim=optim)
                _append(path, {"key": key, **done[key]})
                log.info("members' choice: candidate %d of %d (%s), fold %d of %d: held-out "
                         "log-loss %.3f (%.0f s)", ci + 1, len(found), cand["source"], fi + 1,
                         folds, probability_scores(held_out.y, done[key]["proba"])["log_loss"],
                         done[key]["seconds"])
            scores.append(done[key])
        held[cand["source"]] = pooled(scores)
        ranked.append({**cand, "cross_validation": {
            **probability_scores(*held[cand["source"]]),
            "seconds": round(sum(f["seconds"] for f in scores), 1)}})
    ranked.sort(key=lambda c: c["cross_validation"]["log_loss"])
    return ranked, held


def format_ranking(ranked: list[dict]) -> str:
    """The candidates as a text table, best first."""
    lines = [f"{'rank':>4s}  {'source':>9s}  {'cv log-loss':>11s}  {'cv accuracy':>11s}  "
             f"{'cv macro-F1':>11s}  {'val loss':>8s}  hyperparameters"]
    for i, c in enumerate(ranked):
        cv, val = c["cross_validation"], c["validation_score"]
        lines.append(f"{i + 1:>4d}  {c['source']:>9s}  {cv['log_loss']:>11.3f}  "
                     f"{cv['accuracy']:>11.3f}  {cv['macro_f1']:>11.3f}  "
                     f"{'' if val is None else f'{val:.3f}':>8s}  {c['hyperparameters']}")
    return "\n".join(lines)


def _key(values: dict, fold: int, folds: int, seed: int, trainer: TrainerConfig,
         dm: XRayDataModule, optim: OptimConfig | None = None) -> str:
    data = {k: v for k, v in dataclasses.asdict(dm.config).items() if k != "root"}
    settings = {k: getattr(trainer, k) for k in TRAINER_KEYS}
    own = {"optim": dataclasses.asdict(optim)} if optim is not None and optim != OptimConfig() else {}
    return json.dumps({"hyperparameters": values, "fold": fold, "folds": folds, "seed": seed,
                       "trainer": settings, "data": data, **own}, sort_keys=True)


def _append(path: Path, row: dict) -> None:
    """One line more in ``path``, on a line of its own after a torn last line (an interrupted
    write: only the last byte is read)."""
    with path.open("ab+") as fh:  # writes append wherever the file was read
        size, torn = fh.seek(0, 2), False
        if size:
            fh.seek(size - 1)
            torn = fh.read(1) != b"\n"
        fh.write((b"\n" if torn else b"") + json.dumps(row).encode() + b"\n")


def _read(path: Path) -> dict[str, dict]:
    """Fold scores written by an earlier (perhaps interrupted) choice; a torn last line is
    skipped."""
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "key" in row and "proba" in row:
                done[row.pop("key")] = row
    return done
