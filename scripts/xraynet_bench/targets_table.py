"""``BENCHMARKS.md``'s one target table (pure functions on its markdown).

Every target sits in the ``## Targets`` table at the top, with the section whose figures measure
it. A section written by a tool (``serving_bench.py``, ``scale_bench.py``) or by hand (the main
job's) may carry its targets as a ``| target | measured | goal | met |`` table: :func:`gather_targets`
moves those rows into the one table (replacing that section's earlier rows), so no two tables can
disagree on the same metric. The benchmark's own rows are the section :data:`BENCHMARK_SECTION`.
"""

from __future__ import annotations

import re

__all__ = ["BENCHMARK_SECTION", "gather_targets", "target_rows", "TARGETS_HEADING"]

TARGETS_HEADING = "## Targets"
#: the section name of the rows ``scripts/benchmark.py`` measures itself
BENCHMARK_SECTION = "this benchmark"
_COLUMNS = ["target", "measured", "goal", "met"]
_HEADER = re.compile(r"^\|\s*target\b[^|]*\|\s*measured\s*\|\s*goal\s*\|\s*met\s*\|(\s*section\s*\|)?\s*$")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _sections(lines: list[str]) -> list[tuple[str, int, int]]:
    """``(heading, first line, end line)`` of every ``## `` section."""
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    return [(lines[s][3:].strip(), s, (starts[k + 1] if k + 1 < len(starts) else len(lines)))
            for k, s in enumerate(starts)]


def _tables(lines: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """``(header line, end line)`` of each target table between ``start`` and ``end``."""
    found, i = [], start
    while i < end:
        if _HEADER.match(lines[i]):
            j = i + 2
            while j < end and lines[j].startswith("|"):
                j += 1
            found.append((i, j))
            i = j
        else:
            i += 1
    return found


def target_rows(text: str) -> list[list[str]]:
    """The one table's rows as ``[target, measured, goal, met, section]`` (a 4-column table's
    rows are the benchmark's own)."""
    lines = text.splitlines()
    for heading, start, end in _sections(lines):
        if heading == TARGETS_HEADING[3:]:
            for first, last in _tables(lines, start, end)[:1]:
                rows = [_cells(line) for line in lines[first + 2:last]]
                return [r + [BENCHMARK_SECTION] if len(r) == 4 else r[:5] for r in rows]
    return []


def gather_targets(text: str, *, previous: str = "") -> str:
    """``text`` with every section's target table moved into the one ``## Targets`` table (with
    a ``section`` column), each section's rows replacing its earlier ones; rows of sections that
    ``previous`` (the file before a rewrite) gathered and ``text`` does not re-supply are kept."""
    lines = text.splitlines()
    lifted: dict[str, list[list[str]]] = {}
    drop: set[int] = set()
    for heading, start, end in _sections(lines):
        if heading == TARGETS_HEADING[3:]:
            continue
        for first, last in _tables(lines, start, end):
            lifted.setdefault(heading, []).extend(_cells(line)[:4] + [heading]
                                                  for line in lines[first + 2:last])
            drop.update(range(first, last))
            if last < len(lines) and not lines[last].strip() and first > 0 and not lines[first - 1].strip():
                drop.add(last)  # one blank line goes with the table
    rows = target_rows(text)
    supplied = set(lifted) | {r[4] for r in rows}
    kept = [r for r in target_rows(previous) if r[4] not in supplied]
    rows = [r for r in rows if r[4] not in lifted] + kept + [r for h in lifted.values() for r in h]
    table = ["| " + " | ".join(_COLUMNS + ["section"]) + " |", "|" + "---|" * 5] + [
        "| " + " | ".join(r) + " |" for r in rows]
    out = [line for i, line in enumerate(lines) if i not in drop]
    for heading, start, end in _sections(out):
        if heading == TARGETS_HEADING[3:]:
            tables = _tables(out, start, end)
            if tables:
                first, last = tables[0]
                out[first:last] = table
            else:
                out[start + 1:start + 1] = ["", *table]
            break
    else:
        out[1:1] = ["", TARGETS_HEADING, "", *table]
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
