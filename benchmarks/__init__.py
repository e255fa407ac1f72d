"""Benchmarks run against a running platform; they print numbers and assert nothing."""
