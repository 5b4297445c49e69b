"""The search's settings (Hyperband and where its state lives): no Keras, so that the command
line can offer them as flags without loading it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from xraynet.config import DEFAULT_SEED
from xraynet.config_schema import check, setting


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
        backbones: comma-separated backbones the search chooses among (default ``""``: the CNN
            and every installed pretrained backbone).
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
    backbones: str = setting("", help="backbones the search chooses among, comma-separated "
                             "(cnn, efficientnet_lite0, keras_hub:DIR, a .keras path)",
                             default_text="cnn and every installed pretrained one")
    directory: str = setting("runs/tuning", help="folder of the search state", flag="")
    project: str = setting("xraynet_hyperband", help="project name inside the folder")

    def __post_init__(self) -> None:
        check(self, section="search")
        from xraynet.config import backbone_kind
        from xraynet.config_schema import ConfigError

        wrong = [b for b in self.backbone_list or [] if backbone_kind(b) is None]
        if wrong:
            raise ConfigError([f"search.backbones = {self.backbones!r}: {', '.join(wrong)} is no "
                               "backbone (cnn, efficientnet_lite0, keras_hub:DIR, a .keras path) "
                               "(--backbones)"])

    @property
    def backbone_list(self) -> list[str] | None:
        """The backbones named by ``backbones`` (None: the default choice)."""
        names = [b.strip() for b in self.backbones.split(",") if b.strip()]
        return names or None

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


@dataclass(frozen=True)
class MemberSettings:
    """How train-best chooses and trains the exported model's members (see
    :func:`tuning.best.train_best`)."""

    members: int = setting(3, help="best distinct configurations trained and averaged into the "
                           "exported model (1: the best configuration alone)", min=1, max=100)
    select_folds: int = setting(3, help="rank the search's best configurations and the default "
                                "one by K-fold cross-validation of the train folder before "
                                "training the members (0: the search's validation ranking)",
                                min=0, max=20)
    candidates: int = setting(3, help="search configurations cross-validated beside the default",
                              min=1, max=100)

    def __post_init__(self) -> None:
        check(self, section="members")
        if self.select_folds == 1:
            from xraynet.config_schema import ConfigError

            raise ConfigError(["members.select_folds = 1: must be 0 (the search's order) or at "
                               "least 2 (--select-folds)"])
