"""The settings of the commands that use a saved model or only read data (``evaluate``,
``predict``, ``explain``, ``report``, and where every data-reading command writes): one
:func:`~xraynet.config_schema.setting` field each, from which the command line derives its flag,
help, range and default. (``fit``'s are the run config's, :mod:`xraynet.config`; ``serve``'s
:class:`~xraynet.serve.settings.ServeSettings`; ``tune`` and ``train-best``'s :mod:`tuning.settings`.)
No Keras import here."""

from __future__ import annotations

from dataclasses import dataclass

from ..runs import RUNS_DIR
from ..config_schema import check, setting

#: what ``explain --method`` may name
EXPLAIN_METHODS = ("gradcam", "occlusion", "both")
#: what ``export --format`` may name
EXPORT_FORMATS = ("onnx", "saved_model")


@dataclass(frozen=True)
class StorageSettings:
    """Where a data-reading command writes and caches."""

    out: str = setting(RUNS_DIR, help="folder that receives run directories")
    cache_dir: str | None = setting(None, help="cache of decoded images",
                                    default_text="~/.cache/xraynet")
    cache: bool = setting(True, help="read and write the cache of decoded images (--no-cache: "
                          "decode every image, write none)")


@dataclass(frozen=True)
class EvaluateSettings:
    """``xraynet evaluate``."""

    seed: int = setting(0, help="bootstrap seed of the confidence intervals", min=0)
    name: str | None = setting(None, help="external set: its name",
                               default_text="the folder's (or manifest's) name")

    def __post_init__(self) -> None:
        check(self, section="evaluate")


@dataclass(frozen=True)
class PredictSettings:
    """``xraynet predict``."""

    tta: int = setting(0, help="average N test-time augmentations and report their spread "
                       "(0: off)", min=0, max=1024)
    seed: int = setting(0, help="seed of the test-time augmentations", min=0)

    def __post_init__(self) -> None:
        check(self, section="predict")


@dataclass(frozen=True)
class ExplainSettings:
    """``xraynet explain``."""

    out: str = setting("explanations", help="folder for one overlay PNG per image and method")
    method: str = setting("both", help="explanation method", choices=EXPLAIN_METHODS)

    def __post_init__(self) -> None:
        check(self, section="explain")


@dataclass(frozen=True)
class ExportSettings:
    """``xraynet export``."""

    format: str = setting("onnx", help="what to export: an ONNX model (onnxruntime, any "
                          "backend) or a TensorFlow SavedModel (TF Serving; the tensorflow and "
                          "jax backends)", choices=EXPORT_FORMATS)
    out: str = setting("", help="where to write the exported model (its description beside it, "
                       "as <out>.json)", default_text="RUN/export/model.onnx or RUN/export/saved_model")

    def __post_init__(self) -> None:
        check(self, section="export")


@dataclass(frozen=True)
class ReportSettings:
    """``xraynet report``."""

    seed: int | None = setting(None, help="bootstrap seed", min=0, default_text="the run's seed")

    def __post_init__(self) -> None:
        check(self, section="report")
