"""Sub-models cut out of a functional model's graph (layers and weights shared)."""

from __future__ import annotations

import keras


def submodel(model: keras.Model, outputs, *, name: str | None = None) -> keras.Model:
    """``model``'s input to ``outputs``. A model with one input takes it bare, not as a list of
    one: Keras warns on every call of a list-input model given a bare tensor (under torch)."""
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, outputs, name=name)
