import numpy as np

from xraynet.data.loaders import SplitImages
from xraynet.data.loaders import SplitDataset
from xraynet.reporting import SHORTCUT_THRESHOLD, shortcut_check


class _BorderLovingExplainer:
    """Stands in for an Explainer: class 1's maps sit on the image border, class 0's in the centre."""

    def predicted_maps(self, images, method):
        maps = np.zeros((len(images), 20, 20), np.float32)
        maps[:, 8:12, 8:12] = 1.0
        maps[self.labels == 1] = 0.0
        maps[self.labels == 1, 0, :] = 1.0  # top row: inside the outer 10%
        return maps, None


def test_shortcut_check_flags_the_class_that_looks_at_the_border():
    labels = np.array([0, 0, 1, 1, 1])
    split = SplitDataset(SplitImages(np.zeros((5, 20, 20, 1), np.uint8), labels,
                                     [f"f{i}" for i in range(5)]), n_classes=2)
    explainer = _BorderLovingExplainer()
    explainer.labels = labels
    result = shortcut_check(explainer, split, ["Centre", "Border"])
    assert result["per_class"]["Centre"]["mean_border_share"] == 0.0
    assert result["per_class"]["Border"]["mean_border_share"] == 1.0
    assert result["flagged"] == ["Border"] and result["threshold"] == SHORTCUT_THRESHOLD
    assert result["per_class"]["Border"]["n"] == 3 and np.isclose(result["uniform_share"], 0.36)


class _ContentExplainer:
    """Maps on the border for images whose pixels say 1; records how many images each call got."""

    def __init__(self):
        self.calls = []

    def predicted_maps(self, images, method):
        self.calls.append(len(images))
        maps = np.zeros((len(images), 20, 20), np.float32)
        border = images[:, 0, 0, 0] == 1
        maps[~border, 8:12, 8:12] = 1.0
        maps[border, 0, :] = 1.0
        return maps, None


def test_a_large_split_is_explained_a_chunk_at_a_time():
    from xraynet.reporting.trust_checks import SHORTCUT_CHUNK

    labels = np.arange(150) % 2
    images = np.zeros((150, 20, 20, 1), np.uint8)
    images[labels == 1] = 1
    split = SplitDataset(SplitImages(images, labels, [f"f{i}" for i in range(150)]), n_classes=2)
    explainer = _ContentExplainer()
    result = shortcut_check(explainer, split, ["Centre", "Border"])
    assert max(explainer.calls) <= SHORTCUT_CHUNK and sum(explainer.calls) == 150
    assert result["per_class"]["Border"]["mean_border_share"] == 1.0
    assert result["per_class"]["Centre"]["mean_border_share"] == 0.0
