"""Serving chaos tests that need the whole slice boot it in-process (tests/utils/platform.py)."""

from tests.utils.platform import platform  # noqa: F401 (fixture)
