"""BENCHMARKS.md's one target table: every section's targets gathered into it."""

from xraynet_bench.targets_table import BENCHMARK_SECTION, gather_targets, target_rows

GENERATED = """# Benchmarks

## Targets

| target | measured | goal | met |
|---|---|---|---|
| default fit | 0.90 | >= 0.93 | **NO** |

## Serving

Intro.

| target | measured | goal | met |
|---|---|---|---|
| p95 (ms) | 880 | <= 500 | **NO** |

| run | p95 |
|---|---|
| explain | 880 |
"""


def test_every_target_ends_in_the_one_table():
    text = gather_targets(GENERATED)
    assert text.count("| target |") == 1  # one target table left
    assert target_rows(text) == [["default fit", "0.90", ">= 0.93", "**NO**", BENCHMARK_SECTION],
                                 ["p95 (ms)", "880", "<= 500", "**NO**", "Serving"]]
    assert "| run | p95 |" in text and "Intro." in text  # the section keeps its other tables
    assert gather_targets(text) == text  # gathering twice changes nothing


def test_a_section_rewritten_replaces_its_rows_and_others_are_kept():
    before = gather_targets(GENERATED)
    rewritten = before.replace("Intro.\n", "Intro.\n\n| target | measured | goal | met |\n"
                               "|---|---|---|---|\n| p95 (ms) | 450 | <= 500 | yes |\n")
    rows = target_rows(gather_targets(rewritten))
    assert [r[:2] for r in rows if r[4] == "Serving"] == [["p95 (ms)", "450"]]
    # the benchmark regenerates its part: the Serving section, kept without its table, keeps its rows
    regenerated = GENERATED.replace("| target | measured | goal | met |\n|---|---|---|---|\n"
                                    "| p95 (ms) | 880 | <= 500 | **NO** |\n\n", "")
    again = target_rows(gather_targets(regenerated, previous=before))
    assert [r[4] for r in again] == [BENCHMARK_SECTION, "Serving"]
