"""System tests boot the platform slice in-process (see tests/utils/platform.py)."""

from tests.utils.platform import platform  # noqa: F401 (fixture)
from tests.utils.registry import registry_app, registry_db  # noqa: F401 (fixtures)
