"""Stratified train/validation split that keeps duplicate images on the same side."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold


def stratified_group_folds(labels: np.ndarray, groups: np.ndarray, *, n_splits: int,
                           seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, held_out)`` index pairs of a shuffled stratified K-fold that never splits a group
    (groups are duplicate clusters from the audit)."""
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels, groups))


def stratified_group_split(labels: np.ndarray, groups: np.ndarray, *, val_fraction: float,
                           seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, val)``: about ``val_fraction`` of each class in val, groups never split.

    Groups are duplicate clusters from the audit, so no image has a copy on the other side.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    n_splits = max(2, int(round(1.0 / val_fraction)))
    min_count = int(np.bincount(labels).min())
    if min_count < n_splits:
        raise ValueError(
            f"the smallest class has {min_count} training images; a validation fraction of "
            f"{val_fraction} needs at least {n_splits}"
        )
    train_idx, val_idx = stratified_group_folds(labels, groups, n_splits=n_splits, seed=seed)[0]
    return np.sort(train_idx), np.sort(val_idx)
