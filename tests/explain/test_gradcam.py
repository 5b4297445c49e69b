import keras
import numpy as np
import pytest

from xraynet.backend import gradient
from xraynet.explain import GradCAM
from xraynet.models import ModelConfig, average_ensemble, build_cnn


def test_gradient_uses_the_backend_autodiff():
    x = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)
    grad = gradient(lambda t: keras.ops.sum(t ** 3), x)
    assert np.allclose(grad, 3 * x ** 2, rtol=1e-5)


def _model(seed):
    return build_cnn(ModelConfig(image_size=32, depth=2, base_filters=4, seed=seed))


def test_gradcam_of_an_ensemble_averages_its_members():
    keras.utils.set_random_seed(0)
    a = _model(0)
    images = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 1)).astype(np.float32)
    classes = np.array([0, 1, 2])
    single = GradCAM(a).heatmaps(images, classes)
    twin = keras.models.clone_model(a)
    twin.set_weights(a.get_weights())
    both = GradCAM(average_ensemble([a, twin])).heatmaps(images, classes)
    assert single.shape == (3, 32, 32)
    assert np.allclose(single, both, atol=1e-5)


def test_gradcam_names_a_missing_layer():
    with pytest.raises(ValueError, match="no layer 'nope'"):
        GradCAM(_model(0), layer="nope")
