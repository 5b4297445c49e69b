"""Heatmaps point at the place that decides the class (synthetic set, shape in a known quadrant)."""

import numpy as np
import pytest

from synthetic import make_place_dataset, place_image, place_mask
from xraynet import ModelConfig, Predictor, Trainer, XRayClassifier, XRayDataModule, load_bundle
from xraynet.explain import Explainer, mass_share


@pytest.fixture(scope="module")
def place_explainer(tmp_path_factory):
    root = make_place_dataset(tmp_path_factory.mktemp("place") / "ds")
    dm = XRayDataModule(root=root, image_size=32, cache_dir=tmp_path_factory.mktemp("cache"))
    config = ModelConfig(image_size=32, depth=3, base_filters=8, seed=0, stem_stride=1,
                         augmentation=None)  # shifts would blur where the shape is
    trainer = Trainer(epochs=15, batch_size=16, seed=0, out_dir=tmp_path_factory.mktemp("runs"),
                      tensorboard=False, verbose=0)
    result = trainer.fit(XRayClassifier(model=config, learning_rate=3e-3), dm)
    return Explainer(Predictor(load_bundle(result.run_dir)))


@pytest.mark.parametrize("method", ["gradcam", "occlusion"])
def test_at_least_half_the_heatmap_mass_falls_on_the_deciding_place(place_explainer, method):
    rng = np.random.default_rng(123)
    labels = np.repeat(np.arange(3), 3)
    images = np.stack([place_image(int(k), rng) for k in labels])[..., None]
    maps, proba = place_explainer.predicted_maps(images, method, class_indices=labels)
    assert (proba.argmax(axis=1) == labels).mean() >= 0.8  # the model learnt the shapes
    shares = [mass_share(m, place_mask(32)) for m in maps]
    assert maps.shape == (9, 32, 32) and maps.min() >= 0 and maps.max() <= 1
    # the quadrant is a quarter of the image: a uniform map would put 25% there
    assert min(shares) >= 0.5, np.round(shares, 2)
