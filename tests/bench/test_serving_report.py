"""The Serving section of BENCHMARKS.md: targets judged from the figures, spliced in place."""

from xraynet_bench.serving import SECTION, section_of, serving_markdown, splice_section


def _results(p95_explain=400.0, false_flags=1):
    run = {"clients": 4, "seconds": 120, "requests": 1500, "throughput_rps": 12.5, "p50_ms": 300,
           "p95_ms": p95_explain, "p99_ms": 600, "errors": 0, "rss_before_mib": 800,
           "rss_after_mib": 810, "rss_growth_mib": 10.0}
    plain = {**run, "p95_ms": 60.0, "rss_growth_mib": 12.0}
    return {"measured": "2026-11-27", "command": "python scripts/serving_bench.py m", "model": "m",
            "architecture": "one convolutional network", "backend": "tensorflow", "cores": 2,
            "images": 66, "startup_s": 6.5, "load": {"explain": run, "plain": plain},
            "gate": {"leak_free_n": 57, "false_flags_n": false_flags, "false_flags": [("a.jpg", ["x"])] * false_flags,
                     "false_flag_rate": false_flags / 57, "non_xray_n": 46, "detected": 46,
                     "refused": 1, "missed": [], "detection_rate": 1.0}}


def test_targets_are_judged_from_the_figures():
    text = serving_markdown(_results())
    assert text.startswith(SECTION) and "**NO**" not in text
    slow = serving_markdown(_results(p95_explain=650.0, false_flags=4))
    assert slow.count("**NO**") == 2  # the heatmap latency and the false-flag rate


def test_the_section_is_replaced_in_place_or_appended():
    section = serving_markdown(_results())
    appended = splice_section("# Benchmarks\n\n## Targets\n\nx\n", section)
    assert appended.endswith(section) and appended.startswith("# Benchmarks")
    replaced = splice_section(appended + "## Later\n\ny\n", serving_markdown(_results(650.0)))
    assert replaced.count(SECTION) == 1 and "650" in replaced and replaced.endswith("## Later\n\ny\n")


def test_a_section_is_read_back_as_written():
    text = "# B\n\n## Scale\n\nrows\n\n## Serving\n\nmore\n"
    assert section_of(text, "## Scale") == "## Scale\n\nrows\n"
    assert section_of(text, "## Serving") == "## Serving\n\nmore\n"
    assert section_of(text, "## Missing") is None
    assert splice_section(text, section_of(text, "## Scale"), heading="## Scale") == text


def test_hostile_load_targets_are_judged_and_shown():
    phase = {"clients": 4, "seconds": 60, "ok": 270, "answered_rps": 4.5, "p50_ms": 850, "p95_ms": 950,
             "statuses": {"200": 270}}
    crowd = {**phase, "clients": 16, "ok": 240, "answered_rps": 4.0, "statuses": {"200": 240, "503": 900}}
    huge = [{"clients": n, "bytes": 1_100_000, "statuses": [200] * n, "seconds_max": 3.0,
             "rss_before_mib": 1100, "peak_rss_mib": 1380, "peak_rise_mb": rise}
            for n, rise in ((1, 290.0), (4, 650.0))]
    results = {**_results(), "overload": {"phases": [phase, crowd], "health_after": "ok", "ratio": 0.889,
                                          "failures": 0},
               "huge": huge, "huge_mpx": 139, "huge_server_args": "xraynet serve MODEL --max-megapixels 140"}
    text = serving_markdown(results)
    assert text.count("**NO**") == 1 and "| four such uploads at once: server peak RSS rise (MB) | 650 |" in text
    assert "| 16 | 60 | 240 | 4.00 | 900 | 0 |" in text and "88.9%" in text
    assert "n/a" not in serving_markdown(results).split("| run |")[0]
