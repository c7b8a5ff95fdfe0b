"""Benchmarks behind `gf bench ...` (never run by the test suite)."""
