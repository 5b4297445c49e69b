"""One typed, versioned run configuration: data, model, optimisation and trainer settings.

Every setting is declared here once, with its default, help and valid range
(:func:`~xraynet.config_schema.setting`); the command line's flags, ``config.json``, the bundle and
every rebuild (evaluate, report, train-best, tune) derive from these dataclasses. Each validates
itself on construction and reports every invalid value, one line each
(:class:`~xraynet.config_schema.ConfigError`). ``config.json`` files of the first format (no
``schema_version``) load through the bundle's one migration, :func:`xraynet.schema.migrate`. No
Keras import here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from .defaults import (CNN_EPOCHS, CNN_PATIENCE, FINE_TUNE_EPOCHS, FINE_TUNE_PATIENCE,
                       DEFAULT_ASPECT_JITTER, DEFAULT_MAX_DISTANCE, DEFAULT_MAX_PIXELS, DEFAULT_BLUR_AUG, DEFAULT_FILL, DEFAULT_GAMMA_AUG,
                       DEFAULT_IMAGE_SIZE, DEFAULT_INTENSITY, DEFAULT_NOISE_AUG, DEFAULT_RESIZE,
                       DEFAULT_RESOLUTION_AUG, DEFAULT_STEM_STRIDE, FILL_MODES, INTENSITY_MODES, RESIZE_MODES)
from .runs import RUNS_DIR
from .registry import KERAS_HUB_PREFIX, backbone_spec, list_backbones
from .config_schema import ConfigError, check, known_fields, problems, setting
from .schema import SCHEMA_VERSION, migrate

__all__ = ["AugmentationConfig", "backbone_kind", "config_from_dict", "DataConfig", "DEFAULT_SEED",
           "EnsembleConfig", "feature_side", "flat_setting_owners", "is_pretrained", "LAST_CONV_NAME",
           "MIN_FEATURE_SIDE", "ModelConfig", "NORMALIZATIONS", "OptimConfig",
           "OPTIMIZERS", "PRETRAINED_REDUCTION", "RunConfig", "RUNS_DIR", "SCHEDULES",
           "SCHEMA_VERSION", "seed_or_default", "TrainerConfig"]

#: Name of the last convolutional block's output (the Grad-CAM target layer).
LAST_CONV_NAME = "last_conv"
#: what may follow each convolution
NORMALIZATIONS = ("batch", "none")
#: smallest side of the last block's feature map that a model may have
MIN_FEATURE_SIDE = 2
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("cosine", "constant")
DEFAULT_SEED = 42
#: how much a pretrained backbone divides its input's side by, at most (its feature map's side
#: must stay at least 2)
PRETRAINED_REDUCTION = 32


def seed_or_default(seed: int | None) -> int:
    """A seed left to the run (None) where no run gave it one: :data:`DEFAULT_SEED`."""
    return DEFAULT_SEED if seed is None else seed


def backbone_kind(name: str) -> str | None:
    """What builds the backbone ``ModelConfig.backbone`` names, from the registry
    (:mod:`xraynet.registry`): ``"cnn"`` (trained from scratch), ``"efficientnet_lite"``,
    ``"keras_hub"``, ``"keras_model"`` or ``"registered"``; None when it names none."""
    spec = backbone_spec(name)
    return spec.kind if spec is not None else None


def is_pretrained(name: str) -> bool:
    """Whether the backbone ``name`` comes trained, as its registry entry says (False for a
    name the registry does not know)."""
    spec = backbone_spec(name)
    return spec is not None and spec.pretrained


def feature_side(image_size: int, stem_stride: int, depth: int) -> int:
    """Side of the CNN's last feature map: the strided first convolution ("same" padding, so
    rounded up), then a 2x2 max pooling ("valid") after every block but the last."""
    side = -(-image_size // stem_stride)
    for _ in range(depth - 1):
        side //= 2
    return side


@dataclass(frozen=True)
class DataConfig:
    """What the data module reads and how (see :class:`~xraynet.data.XRayDataModule`)."""

    root: str = setting("", help="dataset folder, or a CSV manifest", flag="")
    image_size: int = setting(DEFAULT_IMAGE_SIZE, help="square input side, pixels", min=16, max=2048)
    resize: str = setting(DEFAULT_RESIZE, help="fit images to the square by keeping their central "
                          "square (crop: no framing cue), by squeezing them in (stretch), or by "
                          "squeezing in the body's box, background cut away (body)", choices=RESIZE_MODES)
    val_fraction: float = setting(0.2, help="validation share of each class of train", min=0.05,
                                  max=0.5)
    test_fraction: float = setting(0.2, help="test share of each class, for data without a "
                                   "train/test split (class folders, a manifest without a split "
                                   "column)", min=0.05, max=0.5)
    seed: int | None = setting(None, help="seed of the test and validation splits", flag="", min=0,
                               default_text="the run's seed (TrainerConfig.seed)")
    val_source: str = setting("", help="validate on whole sources instead of a share of train: "
                              "the named source(s) of a manifest's source column (comma-"
                              "separated) are the validation split, never trained on; the "
                              "members' cross-validation then leaves one source out per fold",
                              default_text="none: a stratified share of train")
    max_pixels: int = setting(DEFAULT_MAX_PIXELS, help="larger files are refused (decompression "
                              "bombs)", flag="", min=1, max=DEFAULT_MAX_PIXELS)
    dup_max_distance: int = setting(DEFAULT_MAX_DISTANCE, help="dHash distance (of 256 bits) up "
                                    "to which two images are duplicates", flag="", min=0, max=128)
    describe: str = setting("", help="the data's description for the report and model card: a "
                            ".json or .md file (source, licence, provenance, limitations)",
                            default_text="a dataset.json or DATASET.md beside the data; the "
                            "shipped one for the Kaggle set")

    def __post_init__(self) -> None:
        check(self, section="data")


@dataclass(frozen=True)
class AugmentationConfig:
    """Augmentation applied in training only (see :class:`~xraynet.layers.XRayAugmentation`)."""

    rotation: float = setting(10.0, help="largest random rotation, degrees", flag="--aug-rotation",
                              min=0, max=45)
    zoom: float = setting(0.1, help="largest random zoom, as a share", flag="--aug-zoom", min=0, max=0.5)
    aspect: float = setting(DEFAULT_ASPECT_JITTER, help="largest random change of width against "
                            "height, as a share", flag="--aspect", min=0, max=0.5)
    translation: float = setting(0.08, help="largest random shift, as a share of the side",
                                 flag="--aug-translation", min=0, max=0.3)
    contrast: float = setting(0.2, help="largest random contrast change, as a share",
                              flag="--aug-contrast", min=0, max=0.9)
    gamma: float = setting(DEFAULT_GAMMA_AUG, help="exposure jitter: gamma in 1/(1+G)..1+G",
                           flag="--aug-gamma", min=0, max=2)
    horizontal_flip: bool = setting(False, help="random horizontal flips (off: the heart is on "
                                    "the left)", flag="--hflip")
    resolution: float = setting(DEFAULT_RESOLUTION_AUG, help="probability of a half-resolution "
                                "round trip", flag="--aug-resolution", min=0, max=1)
    blur: float = setting(DEFAULT_BLUR_AUG, help="largest Gaussian blur, sigma in pixels",
                          flag="--aug-blur", min=0, max=5)
    noise: float = setting(DEFAULT_NOISE_AUG, help="largest sensor noise, in grey levels",
                           flag="--aug-noise", min=0, max=64)
    fill: str = setting(DEFAULT_FILL, help="what rotations, zooms and shifts show beyond the "
                        "image's edge: black (constant) or the image mirrored (reflect)",
                        flag="--aug-fill", choices=FILL_MODES)
    zoom_in_only: bool = setting(False, help="zoom only into the image (scale 1..1+zoom), never "
                                 "out of it", flag="--zoom-in-only")

    def __post_init__(self) -> None:
        check(self, section="augmentation")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the classifier; validated on construction (ranges, the backbone's name,
    and the image size against the depth and stem stride).

    Attributes:
        image_size: input side in pixels; inputs are ``(image_size, image_size, 1)`` raw 0..255.
        n_classes: number of output classes.
        backbone: what sits between the preprocessing layers and the classification head
            (an entry of :mod:`xraynet.registry`): ``"cnn"``, the network below trained from
            scratch; a pretrained ``"efficientnet_lite0"`` (1, 2); ``"keras_hub:<preset>"``; a
            path to a ``.keras`` model used as a feature extractor; or any backbone registered
            with :func:`~xraynet.registry.register_backbone`.
        fine_tune_blocks: pretrained backbones: top blocks fine-tuned after the head's warm-up
            (0: a linear probe on the frozen backbone's features).
        depth: number of conv blocks of the CNN (each but the last halves the resolution).
        base_filters: filters of the first block; doubled each block up to ``max_filters``.
        max_filters: cap on the filters per block.
        convs_per_block: 3x3 convolutions per block.
        dropout: dropout rate before the classifier.
        normalization: ``"batch"`` or ``"none"`` after each convolution.
        bn_momentum: batch-norm moving-average momentum; 0.9 suits the few steps per epoch
            of a small dataset (Keras' 0.99 lags by several epochs).
        intensity: ``"per_image"`` (default), ``"scale"`` or ``"equalize"`` (see
            :class:`IntensityNormalization`).
        stem_stride: stride of the very first convolution (default 2); 2 lets a larger input
            (finer detail in the first filters) cost about what an input of half its side costs.
        antialias: sigma in pixels of a fixed Gaussian low-pass before the first convolution
            (:class:`~xraynet.layers.AntiAlias`; 0: none).
        augmentation: training-time augmentation, or None for none.
        seed: seed of the augmentation layer (None: the run's, ``TrainerConfig.seed``).
    """

    image_size: int = setting(DEFAULT_IMAGE_SIZE, help="square input side, pixels", flag="",
                              min=16, max=2048)
    n_classes: int = setting(3, help="output classes", flag="", min=2)
    backbone: str = setting("cnn", help="between preprocessing and head, a backbone of the "
                            "registry (xraynet.registry)",
                            values_text=lambda: ", ".join(list_backbones(families=True)))
    fine_tune_blocks: int = setting(2, help="pretrained backbones: top blocks fine-tuned after "
                                    "the head's warm-up (0: linear probe)", min=0, max=64)
    depth: int = setting(4, help="conv blocks", min=1, max=8)
    base_filters: int = setting(16, help="filters of the first block", min=1, max=512)
    max_filters: int = setting(128, help="cap on the filters per block", flag="", min=1, max=2048)
    convs_per_block: int = setting(2, help="3x3 convolutions per block", flag="", min=1, max=8)
    dropout: float = setting(0.3, help="dropout before the classifier", min=0, max=0.9)
    normalization: str = setting("batch", help="after each convolution", flag="",
                                 choices=NORMALIZATIONS)
    bn_momentum: float = setting(0.9, help="batch-norm momentum", flag="", above=0, max=0.9999)
    intensity: str = setting(DEFAULT_INTENSITY, help="how raw intensities enter the model: "
                             "standardised per image, divided by 255, or equalised",
                             choices=INTENSITY_MODES)
    stem_stride: int = setting(DEFAULT_STEM_STRIDE, help="stride of the first convolution", min=1, max=4)
    antialias: float = setting(0.0, help="fixed Gaussian low-pass before the first convolution, "
                               "sigma in pixels (0: off)", flag="--antialias", min=0, max=3)
    augmentation: AugmentationConfig | None = field(default_factory=AugmentationConfig)
    seed: int | None = setting(None, help="seed of the augmentation layer", flag="", min=0,
                               default_text="the run's seed (TrainerConfig.seed)")

    def __post_init__(self) -> None:
        lines = problems(self, section="model")
        if backbone_kind(self.backbone) is None:
            lines.append(f"model.backbone = {self.backbone!r}: must be a registered backbone: "
                         f"{', '.join(list_backbones(families=True))} (--backbone)")
        elif self.pretrained and self.image_size < 2 * PRETRAINED_REDUCTION:
            lines.append(f"model.image_size = {self.image_size}: a pretrained backbone needs at "
                         f"least {2 * PRETRAINED_REDUCTION} (--image-size)")
        sizes = ("image_size", "depth", "stem_stride")
        if not any(line.startswith(f"model.{name} = ") for line in lines for name in sizes):
            lines += self._size_problems()  # only when each of them is in range
        if lines:
            raise ConfigError(lines)

    @property
    def pretrained(self) -> bool:
        """Whether the backbone comes trained (its registry entry says; the CNN does not)."""
        return is_pretrained(self.backbone)

    def feature_side(self) -> int:
        """Side of the CNN's last block's feature map (what Grad-CAM resolves)."""
        return feature_side(self.image_size, self.stem_stride, self.depth)

    def _size_problems(self) -> list[str]:
        if backbone_kind(self.backbone) != "cnn" or self.feature_side() >= MIN_FEATURE_SIDE:
            return []
        return [f"model.image_size = {self.image_size}: too small for depth {self.depth} and "
                f"stem stride {self.stem_stride} (the last block would see "
                f"{self.feature_side()}x{self.feature_side()} pixels, needs at least "
                f"{MIN_FEATURE_SIDE}x{MIN_FEATURE_SIDE}); raise --image-size or lower --depth "
                "or --stem-stride"]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        """From :meth:`to_dict`'s output (unknown keys ignored)."""
        values = known_fields(cls, data)
        if isinstance(values.get("augmentation"), dict):
            values["augmentation"] = AugmentationConfig(**known_fields(AugmentationConfig,
                                                                       values["augmentation"]))
        return cls(**values)


@dataclass(frozen=True)
class OptimConfig:
    """Loss, optimizer and schedule (see :class:`~xraynet.module.XRayClassifier`)."""

    learning_rate: float = setting(1e-3, help="initial learning rate", flag="--lr", above=0, max=1)
    optimizer: str = setting("adamw", help="optimizer", choices=OPTIMIZERS)
    weight_decay: float = setting(1e-4, help="decoupled weight decay of adamw", min=0, max=1)
    label_smoothing: float = setting(0.0, help="categorical label smoothing", min=0, max=0.5)
    schedule: str = setting("cosine", help="learning-rate schedule: cosine decay to 1%% over the "
                            "run, or constant", choices=SCHEDULES)
    ema_momentum: float | None = setting(None, help="keep an exponential moving average of the "
                                         "weights with this momentum (validation, checkpoints "
                                         "and the saved model use it, with batch-norm statistics "
                                         "recomputed for it)", flag="--ema",
                                         above=0, max=0.9999)
    warmup_epochs: int = setting(40, help="pretrained backbones: epochs of the head's warm-up "
                                 "on the frozen backbone's cached features (the best by "
                                 "validation loss is kept)", min=1, max=10_000)
    warmup_views: int = setting(0, help="pretrained backbones: augmented views of each training "
                                "image whose features the warm-up adds to the clean ones (0: "
                                "clean features only)", min=0, max=32)
    fine_tune_lr: float = setting(0.1, help="pretrained backbones: learning rate of the "
                                  "fine-tuning stage, as a share of --lr", above=0, max=1)

    def __post_init__(self) -> None:
        check(self, section="module")


@dataclass(frozen=True)
class TrainerConfig:
    """The training loop's settings (see :class:`~xraynet.trainer.Trainer`)."""

    epochs: int | None = setting(None, help="maximum epochs", min=1, max=10_000,
                                 default_text=f"{CNN_EPOCHS} for the CNN, {FINE_TUNE_EPOCHS} for "
                                 "a pretrained backbone's fine-tuning")
    batch_size: int = setting(16, help="images per step", min=1, max=4096)
    devices: int = setting(1, help="devices of this host to train on, in data parallel (JAX: "
                           "keras.distribution; TensorFlow: MirroredStrategy)", min=1, max=1024)
    seed: int = setting(DEFAULT_SEED, help="the run's one seed: of weights, shuffling, and (where "
                        "they leave theirs to the run) the augmentation and the splits", min=0)
    monitor: str = setting("val_loss", help="validation metric that picks the best epoch",
                           flag="", choices=("val_loss", "val_accuracy", "val_auc"))
    patience: int | None = setting(None, help="epochs without improvement before early stopping",
                                   min=1, max=10_000, default_text=f"{CNN_PATIENCE} for the CNN, "
                                   f"{FINE_TUNE_PATIENCE} for fine-tuning")
    mixup: float = setting(0.0, help="mixup: train on blends of two images and of their labels, "
                           "blend weight ~ Beta(A, A) (0: off)", min=0, max=2)
    resize_mix: float = setting(0.0, help="share of training images, drawn anew every epoch, "
                                "shown fitted to the square the other way (the central "
                                "square, or for crop the whole image squeezed in; 0: off)", min=0, max=1)
    out_dir: str = setting(RUNS_DIR, help="folder that receives run directories", flag="")
    tensorboard: bool = setting(True, help="write TensorBoard logs where installed", flag="")

    def __post_init__(self) -> None:
        check(self, section="trainer")

    def resolved(self, pretrained: bool) -> "TrainerConfig":
        """These settings with the training length filled in for the model's kind (what a run
        records in ``config.json``)."""
        epochs, patience = ((FINE_TUNE_EPOCHS, FINE_TUNE_PATIENCE) if pretrained
                            else (CNN_EPOCHS, CNN_PATIENCE))
        return replace(self, epochs=self.epochs or epochs, patience=self.patience or patience)


@dataclass(frozen=True)
class RunConfig:
    """Everything one training run was given: what ``config.json`` holds (``schema_version``
    :data:`SCHEMA_VERSION`). The data's and the model's image sizes must agree. One seed: the
    trainer's; the data's and the model's derive from it where they leave theirs to the run
    (None), so ``config.json`` records all three."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    module: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    backend: str | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        seed = self.trainer.seed
        if self.data.seed is None:
            object.__setattr__(self, "data", replace(self.data, seed=seed))
        if self.model.seed is None:
            object.__setattr__(self, "model", replace(self.model, seed=seed))
        if self.data.image_size != self.model.image_size:
            raise ConfigError([f"data.image_size = {self.data.image_size} differs from "
                               f"model.image_size = {self.model.image_size}: they must agree"])

    def resolved(self, backend: str | None = None) -> "RunConfig":
        """This config as a run records it: the training length filled in for the model's kind
        (:meth:`TrainerConfig.resolved`) and the backend that runs it."""
        return replace(self, trainer=self.trainer.resolved(self.model.pretrained),
                       backend=backend or self.backend)

    def to_dict(self) -> dict:
        return {"schema_version": self.schema_version, "backend": self.backend,
                "data": asdict(self.data), "model": asdict(self.model),
                "module": asdict(self.module), "trainer": asdict(self.trainer)}

    def with_overrides(self, **flat) -> "RunConfig":
        """This config with settings named by their field alone (``learning_rate=3e-4,
        rotation=5, epochs=10``): the one converter from flat keys (a search's hyperparameters,
        a study's recipe, the command line's flags) to the typed config. ``seed`` sets the one
        seed of data, model and trainer; ``image_size`` the data's and the model's; an
        augmentation setting gives the model its augmentation where it had none.

        Raises:
            ConfigError: a key that names no setting (all of them listed), or an invalid value.
        """
        owners = flat_setting_owners()
        unknown = sorted(k for k in flat if k not in owners)
        if unknown:
            raise ConfigError([f"unknown setting(s) {', '.join(unknown)}: known are the fields of "
                               "DataConfig, ModelConfig, AugmentationConfig, OptimConfig and "
                               "TrainerConfig"])
        parts: dict[str, dict] = {}
        for key, value in flat.items():
            for section in owners[key]:
                parts.setdefault(section, {})[key] = value
        model = replace(self.model, **parts.get("model", {}))
        if "augmentation" in parts:
            model = replace(model, augmentation=replace(model.augmentation or AugmentationConfig(),
                                                        **parts["augmentation"]))
        return replace(self, data=replace(self.data, **parts.get("data", {})), model=model,
                       module=replace(self.module, **parts.get("module", {})),
                       trainer=replace(self.trainer, **parts.get("trainer", {})))

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        """From ``config.json`` of any version (:func:`xraynet.schema.migrate`)."""
        data = migrate(config=data)[0]
        return cls(data=DataConfig(**known_fields(DataConfig, data.get("data", {}))),
                   model=ModelConfig.from_dict(data.get("model", {})),
                   module=OptimConfig(**known_fields(OptimConfig, data.get("module", {}))),
                   trainer=TrainerConfig(**known_fields(TrainerConfig, data.get("trainer", {}))),
                   backend=data.get("backend"))


def flat_setting_owners() -> dict[str, tuple[str, ...]]:
    """Each setting's field name -> the sections of :class:`RunConfig` that hold it (``seed``
    and ``image_size`` more than one; ``augmentation``: the model's
    :class:`AugmentationConfig`). ``ModelConfig.augmentation`` itself is not a flat key."""
    sections = {"data": DataConfig, "model": ModelConfig, "augmentation": AugmentationConfig,
                "module": OptimConfig, "trainer": TrainerConfig}
    owners: dict[str, tuple[str, ...]] = {}
    for section, cls in sections.items():
        for f in fields(cls):
            if not (section == "model" and f.name == "augmentation"):
                owners[f.name] = (*owners.get(f.name, ()), section)
    return owners


@dataclass(frozen=True)
class EnsembleConfig:
    """An ensemble's ``config.json`` (train-best with several members): the data settings the
    members share and each member's own run config, in the members' order."""

    data: DataConfig
    members: tuple[RunConfig, ...]
    backend: str | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if not self.members:
            raise ConfigError(["ensemble.members: an ensemble has at least one member"])

    def to_dict(self) -> dict:
        return {"schema_version": self.schema_version, "backend": self.backend,
                "data": asdict(self.data), "members": [m.to_dict() for m in self.members]}

    @classmethod
    def from_dict(cls, data: dict) -> "EnsembleConfig":
        """From an ensemble's ``config.json`` of any version (:func:`xraynet.schema.migrate`)."""
        data = migrate(config=data)[0]
        members = tuple(RunConfig.from_dict(m) for m in data["members"])
        shared = data.get("data") or asdict(members[0].data)
        return cls(data=DataConfig(**known_fields(DataConfig, shared)), members=members,
                   backend=data.get("backend"))


def config_from_dict(data: dict) -> RunConfig | EnsembleConfig:
    """The typed config of a ``config.json`` of any format: an ensemble's or one model's."""
    return EnsembleConfig.from_dict(data) if "members" in data else RunConfig.from_dict(data)
