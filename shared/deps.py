"""FastAPI dependencies on the process-wide infrastructure adapters (see shared/backends.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.backends import get_bus
from shared.events.base import EventBus

BusDep = Annotated[EventBus, Depends(get_bus)]
