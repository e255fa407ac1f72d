"""FastAPI dependencies on the process-wide infrastructure adapters (see shared/backends.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.backends import get_bus, get_cache, get_discovery, get_search, get_storage
from shared.cache.base import Cache
from shared.clients.consul import ServiceRegistry
from shared.events.base import EventBus
from shared.search.base import SearchIndex
from shared.storage.base import ObjectStore

BusDep = Annotated[EventBus, Depends(get_bus)]
CacheDep = Annotated[Cache, Depends(get_cache)]
StorageDep = Annotated[ObjectStore, Depends(get_storage)]
SearchDep = Annotated[SearchIndex, Depends(get_search)]
DiscoveryDep = Annotated[ServiceRegistry, Depends(get_discovery)]
