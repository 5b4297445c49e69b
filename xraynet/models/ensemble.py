"""Average the probabilities of several trained classifiers into one exportable model."""

from __future__ import annotations

import keras
from keras import layers

MEMBER_PREFIX = "member"


def average_ensemble(members: list[keras.Model], *, name: str = "xraynet_ensemble") -> keras.Model:
    """One functional model: the same raw image into every member, mean of their softmax outputs.

    Members keep their own layers (and their ``last_conv`` for Grad-CAM) under the names
    ``member1``, ``member2``, ...; a single member is returned unchanged.
    """
    if not members:
        raise ValueError("an ensemble needs at least one member")
    if len(members) == 1:
        return members[0]
    shape = tuple(members[0].inputs[0].shape[1:])
    for i, member in enumerate(members, start=1):
        if tuple(member.inputs[0].shape[1:]) != shape:
            raise ValueError(f"member {i} takes {tuple(member.inputs[0].shape[1:])}, not {shape}")
        member.name = f"{MEMBER_PREFIX}{i}"
    inputs = keras.Input(shape, name="image")
    outputs = layers.Average(name="probabilities")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name=name)


def ensemble_members(model: keras.Model) -> list[keras.Model]:
    """The member models of an :func:`average_ensemble` (the model itself if it is not one)."""
    found = [layer for layer in model.layers
             if isinstance(layer, keras.Model) and layer.name.startswith(MEMBER_PREFIX)]
    return found or [model]
