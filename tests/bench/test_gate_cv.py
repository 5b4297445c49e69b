from types import SimpleNamespace

import numpy as np
from scipy import stats

import gate_cv


def test_gamma_limit_reads_the_quantile_of_gamma_distributed_squared_distances():
    squared = stats.gamma.rvs(4.0, scale=2.5, size=20000, random_state=np.random.default_rng(0))
    gate = SimpleNamespace(distances=lambda features: np.sqrt(features))
    truth = np.sqrt(stats.gamma.ppf(0.99, 4.0, scale=2.5))
    assert abs(gate_cv.limit_gamma99(gate, squared) - truth) < 0.02 * truth
    assert abs(gate_cv.limit_q99(gate, squared) - truth) < 0.03 * truth
    few = squared[:50]  # the empirical quantile of 50 is at most their largest
    assert gate_cv.limit_q99(gate, few) <= np.sqrt(few.max())


def test_assess_counts_held_out_flags_and_every_way_a_non_xray_is_detected():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0] * 4, [6.0] * 4])
    y = np.repeat([0, 1], 40)
    parts = {"train": centres[y] + rng.normal(size=(80, 4)), "train_y": y,
             "val": centres[np.repeat([0, 1], 25)] + rng.normal(size=(50, 4)),
             "held_out": np.vstack([centres[[0, 1]] + rng.normal(size=(2, 4)) * 0.1, [[30.0] * 4]]),
             "non_xray": np.array([[40.0] * 4, [3.0] * 4, [0.0] * 4]),
             # four non-X-rays: one refused, then three readable: far, between the classes
             # (flagged by its distance only if the limit is tight), and pixel-flagged at a centre
             "non_xray_refused": np.array([True, False, False, False]),
             "non_xray_pixel_flag": np.array([False, False, True])}
    result = gate_cv.assess(parts, gate_cv.limit_q99)
    assert result["held_n"] == 3 and result["held_flagged"] == 1  # only the far one
    assert result["non_xray_n"] == 4
    assert result["detected"] == 4  # refused, far, between the classes (4+ sd), pixel checks
    parts["non_xray_pixel_flag"] = np.array([False, False, False])
    assert gate_cv.assess(parts, gate_cv.limit_q99)["detected"] == 3  # the centre one passes


def test_a_small_study_saves_features_and_writes_a_summary(dataset, cache_dir, tmp_path):
    out = tmp_path / "gate"
    assert gate_cv.main(["--data", str(dataset), "--folds", "2", "--seeds", "1,2", "--epochs", "1",
                         "--image-size", "32", "--out", str(out), "--cache-dir", str(cache_dir)]) == 0
    saved = sorted(p.name for p in out.glob("*.npz"))
    assert saved == ["fold0-seed1.npz", "fold0-seed2.npz", "fold1-seed1.npz", "fold1-seed2.npz"]
    with np.load(out / "fold0-seed1.npz") as d:
        assert d["train"].shape[0] == len(d["train_y"]) and d["train"].shape[1] == d["val"].shape[1]
        assert len(d["held_out"]) == len(d["held_out_index"]) > 0
        assert len(d["non_xray_names"]) == len(d["non_xray_refused"])
        assert len(d["non_xray"]) == len(d["non_xray_pixel_flag"]) == (~d["non_xray_refused"]).sum()
    summary = tmp_path / "gate.md"
    assert gate_cv.main(["--analyse", "--out", str(out), "--summary", str(summary)]) == 0
    text = summary.read_text()
    assert "| fold 1 ensemble |" in text and "| gamma99 | ensembles |" in text
