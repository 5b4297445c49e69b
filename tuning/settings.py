"""The search's settings (Hyperband and where its state lives): no Keras, so that the command
line can offer them as flags without loading it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from xraynet.config import DEFAULT_SEED
from xraynet.settings import check, setting


@dataclass(frozen=True)
class SearchSettings:
    """Hyperband settings.

    Attributes:
        max_epochs: most epochs a trial trains (default 15).
        factor: Hyperband's reduction factor (default 3).
        iterations: Hyperband iterations (default 1).
        seed: seed of the oracle and of every trial's weights (default 42).
        objective: validation metric to minimise (default ``"val_loss"``; never a test metric).
        patience: early-stopping patience inside a trial (default 5).
        directory: folder of the search state (default ``runs/tuning``).
        project: project name inside ``directory`` (default ``xraynet_hyperband``).
    """

    max_epochs: int = setting(15, help="most epochs a trial trains", min=2, max=1000)
    factor: int = setting(3, help="Hyperband's reduction factor", min=2, max=10)
    iterations: int = setting(1, help="Hyperband iterations", min=1, max=100)
    seed: int = setting(DEFAULT_SEED, help="seed of the oracle and of every trial", min=0)
    objective: str = setting("val_loss", help="validation metric the search optimises", flag="",
                             choices=("val_loss", "val_accuracy", "val_auc"))
    patience: int = setting(5, help="early-stopping patience inside a trial", min=1, max=1000)
    directory: str = setting("runs/tuning", help="folder of the search state", flag="")
    project: str = setting("xraynet_hyperband", help="project name inside the folder")

    def __post_init__(self) -> None:
        check(self, section="search")

    @property
    def project_dir(self) -> Path:
        return Path(self.directory) / self.project

    def expected_trials(self) -> int:
        """Trials a full search runs (KerasTuner's bracket sizes, all iterations)."""
        brackets, epochs = 0, self.max_epochs
        while epochs >= 1:
            epochs /= self.factor
            brackets += 1
        end_size = math.ceil(1 + math.log(self.max_epochs, self.factor))
        total = sum(math.ceil(end_size / (b + 1) * self.factor ** (b - r))
                    for b in range(brackets) for r in range(b + 1))
        return total * self.iterations
