import keras
import numpy as np
import pytest

from xraynet import ModelConfig, XRayClassifier

TINY = ModelConfig(image_size=16, depth=2, base_filters=4, augmentation=None, stem_stride=1)


class _WeightsAtEpochEdges(keras.callbacks.Callback):
    """Records the first kernel as checkpoints see it (epoch end) and as training sees it."""

    def __init__(self):
        super().__init__()
        self.at_end, self.at_begin = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.at_begin.append(keras.ops.convert_to_numpy(self.model.trainable_variables[0]).copy())

    def on_epoch_end(self, epoch, logs=None):
        self.at_end.append(keras.ops.convert_to_numpy(self.model.trainable_variables[0]).copy())


@pytest.mark.parametrize("ema", [None, 0.5])
def test_ema_weights_are_what_validation_and_checkpoints_see(ema):
    module = XRayClassifier(model=TINY, ema_momentum=ema, schedule="constant")
    model = module.build()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (16, 16, 16, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 16), 3)
    probe = _WeightsAtEpochEdges()
    model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=module.callbacks(3) + [probe])
    swapped = [not np.allclose(end, begin) for end, begin in zip(probe.at_end[:-1], probe.at_begin[1:])]
    assert all(swapped) if ema else not any(swapped)
    assert module.config.ema_momentum == ema


def test_invalid_ema_momentum_rejected():
    with pytest.raises(ValueError):
        XRayClassifier(ema_momentum=1.5)
