"""Benchmarks: see README.md and docs/benchmarks.md."""
