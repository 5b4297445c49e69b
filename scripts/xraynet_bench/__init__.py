"""Benchmarks: each section runs in its own process (one Keras backend per process) and returns
a dict; ``scripts/benchmark.py`` runs them and writes ``BENCHMARKS.md`` and a JSON file."""
