import json

import scale_bench


def test_decode_best_decodes_into_empty_caches_and_keeps_the_fastest(tmp_path, monkeypatch):
    cache = tmp_path / "cache-10"
    (cache / "images-old").mkdir(parents=True)  # a store from before: must not be reused
    seen, times = [], iter([3.0, 2.0, 4.0])

    def fake_run(code, data, target):
        assert code == "decode" and not (tmp_path / target).exists()  # an empty cache
        seen.append(target)
        (tmp_path / target).mkdir(parents=True, exist_ok=True)
        (tmp_path / target / "images-new").mkdir()
        return {"seconds": next(times), "images": 10, "in_memory": True, "peak_rss_mib": 100.0 + len(seen)}

    monkeypatch.setattr(scale_bench, "run", fake_run)
    best = scale_bench.decode_best(tmp_path / "n10", cache, repeats=3)
    assert best["seconds"] == 2.0 and best["images_per_s"] == 5.0
    assert best["runs_seconds"] == [3.0, 2.0, 4.0] and best["peak_rss_mib"] == 103.0
    assert seen[-1] == str(cache) and seen[0] != str(cache)  # the last run is left for the audit
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache-10"]  # scratch caches removed
    assert [p.name for p in cache.iterdir()] == ["images-new"]


def _results(decode_runs, audit_repeats):
    one = {"decode": {"seconds": 10.0, "images_per_s": 1000.0, "peak_rss_mib": 900.0},
           "audit": {"seconds": 0.02, "pairs": 3, "peak_rss_mib": 700.0, "growth_mib": 1.0},
           "train": {"images_per_s": 100.0, "peak_rss_mib": 1000.0, "in_memory": True},
           "hashes": {"sample": 10, "median_distance": 70.0, "compared_share": 0.01}}
    if decode_runs:
        one["decode"]["runs_seconds"] = [10.0] * decode_runs
    if audit_repeats:
        one["audit"]["repeats"] = audit_repeats
    return [json.loads(json.dumps({**one, "n": n})) for n in (10, 100)]


def test_the_section_says_how_many_runs_each_time_is_the_best_of():
    real = {"images_per_s": 100.0, "peak_rss_mib": 900.0,
            "hashes": {"sample": 10, "median_distance": 70.0, "compared_share": 0.02}}
    text = scale_bench.markdown(_results(3, 25), real, "cmd", decode_measured="today")
    assert "best of 25 runs" in text and "the best of 3 runs, each into an empty cache" in text
    assert "measured again at today" in text
    old = scale_bench.markdown(_results(0, 0), real, "cmd")  # a scale.json from before the repeats
    assert "best of 5 runs" in old and "one run, into an empty cache" in old


def test_the_measurements_run_as_modules_on_a_small_set(tmp_path):
    from synthetic import make_dataset

    data, cache = tmp_path / "data", tmp_path / "cache"
    make_dataset(data, n_train=12, n_test=6, size=48)
    decoded = scale_bench.run("decode", str(data), str(cache))
    assert decoded["images"] == 18 * 3 and decoded["peak_rss_mib"] > 0
    audited = scale_bench.run("audit", str(cache), "2")
    assert audited["repeats"] == 2 and audited["seconds"] > 0 and audited["traced_mib"] > 0
    assert scale_bench.run("hashes", str(cache))["sample"] == 18 * 3
