"""System tests boot the platform slice in-process (see tests/utils/platform.py)."""

from tests.utils.platform import platform  # noqa: F401 (fixture)
