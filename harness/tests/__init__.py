"""Tests of the maintainer harness."""
