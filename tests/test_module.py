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


def test_recompute_batch_norm_takes_the_cumulative_average_of_batch_statistics():
    from xraynet.module import recompute_batch_norm

    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.9)(inputs))
    batches = [np.array([[0.0, 10.0], [2.0, 10.0]]), np.array([[4.0, 0.0], [6.0, 0.0]])]
    assert recompute_batch_norm(model, iter(batches)) == 2
    bn = model.layers[-1]
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_mean), [3.0, 5.0])  # (1 + 5) / 2, (10 + 0) / 2
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_variance), [1.0, 0.0], atol=1e-3)
    assert bn.momentum == 0.9  # restored
    assert recompute_batch_norm(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), iter(batches)) == 0


def test_ema_fit_recomputes_batch_norm_for_the_averaged_weights():
    """After a fit with EMA, the saved (averaged) weights' batch norm holds statistics of those
    weights: recomputing them again changes nothing, where the live weights' statistics differ."""
    from xraynet.module import RecomputeBatchNorm, recompute_batch_norm

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (32, 16, 16, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 32), 3)
    batches = [x[:16], x[16:]]
    module = XRayClassifier(model=TINY, ema_momentum=0.5, schedule="constant", learning_rate=0.05)
    callbacks = module.callbacks(3, [(b,) for b in batches])
    assert isinstance(callbacks[-1], RecomputeBatchNorm)
    model = module.build()
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_data=(x, y), callbacks=callbacks)
    # at the end the averaged weights are in the model (SwapEMAWeights keeps them for the save)
    bn = [v for v in model.non_trainable_variables if "moving_mean" in v.path][0]
    after_fit = keras.ops.convert_to_numpy(bn).copy()
    recompute_batch_norm(model, iter(batches))
    assert np.allclose(keras.ops.convert_to_numpy(bn), after_fit, rtol=1e-3, atol=1e-3)
    assert module.callbacks(3)[-1].__class__ is keras.callbacks.SwapEMAWeights  # no data: no recompute
