import numpy as np

from xraynet.explain import border_mask, border_share, correlation, mass_share
from xraynet.explain.heatmap import normalise, upsample


def test_mass_share_and_border_share():
    heat = np.zeros((20, 20))
    heat[:2, :] = 1.0  # the top border only
    assert border_share(heat) == 1.0
    heat[10, 10] = 40.0  # as much mass again in the centre
    assert np.isclose(border_share(heat), 0.5)
    assert np.isclose(mass_share(heat, ~border_mask(20)), 0.5)
    assert np.isnan(mass_share(np.zeros((4, 4)), np.ones((4, 4), bool)))


def test_border_mask_covers_a_tenth_of_each_side():
    mask = border_mask(100)
    assert mask[:10].all() and mask[:, -10:].all() and not mask[10:90, 10:90].any()
    assert np.isclose(mask.mean(), 1 - 0.8 ** 2)


def test_upsample_normalise_correlation():
    small = np.arange(16, dtype=np.float32).reshape(4, 4)
    big = upsample(small, 32)
    assert big.shape == (32, 32)
    assert big[0, 0] < big[-1, -1]
    n = normalise(big - 5)
    assert n.min() == 0 and n.max() == 1
    assert correlation(big, 2 * big + 1) > 0.999
    assert correlation(big, -big) < -0.999
