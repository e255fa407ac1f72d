"""Inference service app: deploy registry versions into a bounded model cache and predict."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import fastapi
from fastapi import APIRouter, Depends, FastAPI, Request, Response

from services.inference.artifacts import artifact_path, expected_sha256
from services.inference.config import Settings, get_settings
from services.inference.events import (
    FollowerThread,
    PromotionFollower,
    deployed_version,
    publish_deployed,
)
from services.inference.fetch import fetching_loader
from services.inference.predictions import format_predictions, task_of
from services.inference.readiness import Readiness
from services.inference.registry_cache import CachedRegistry, cache_guard
from services.inference.schemas import (
    MODEL_NAME_PATTERN,
    DeploymentList,
    DeployRequest,
    PredictRequest,
    PredictResponse,
)
from shared.backend_scope import announce
from shared.backends import get_bus, get_cache, get_storage
from shared.clients.registry import RegistryClient
from shared.clients.storage import service_store_factory
from shared.deps import BusDep
from shared.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from shared.ml.feature_utils import records_to_matrix
from shared.ml.model_loader import ModelArtifact, load_model
from shared.problems import problems
from shared.storage.base import ObjectStore
from shared.web import create_service_app

CacheKey = str
Loader = Callable[..., ModelArtifact]
ReleaseHook = Callable[[CacheKey, str], None]


class ModelCache:
    """Loaded models by cache key, least recently used first; callers hold the lock.

    The cache keeps the only long-lived references to loaded artifacts, so an evicted or
    unloaded model is freed as soon as in-flight predictions that still use it finish.
    """

    def __init__(self, max_models: int, on_release: ReleaseHook | None = None) -> None:
        if max_models < 1:
            raise ValueError("max_models must be at least 1")
        self.max_models = max_models
        self.evictions = 0
        self._on_release = on_release
        self._entries: OrderedDict[CacheKey, ModelArtifact] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def keys(self) -> list[CacheKey]:
        """Return the cached keys from least to most recently used."""
        return list(self._entries)

    def get(self, key: CacheKey) -> ModelArtifact | None:
        """Return the model for ``key`` and mark it most recently used, or None."""
        model = self._entries.get(key)
        if model is not None:
            self._entries.move_to_end(key)
        return model

    def peek(self, key: CacheKey) -> ModelArtifact | None:
        """Return the model for ``key`` without changing its recency, or None."""
        return self._entries.get(key)

    def put(self, key: CacheKey, model: ModelArtifact) -> None:
        """Store ``model`` as most recently used, making room first when the cache is full."""
        if key in self._entries:
            self._entries[key] = model
            self._entries.move_to_end(key)
            return
        while len(self._entries) >= self.max_models:
            evicted, _ = self._entries.popitem(last=False)
            self.evictions += 1
            self._released(evicted, "evicted")
        self._entries[key] = model

    def unload(self, key: CacheKey) -> bool:
        """Drop ``key`` from the cache; return whether it was loaded."""
        if self._entries.pop(key, None) is None:
            return False
        self._released(key, "unloaded")
        return True

    def _released(self, key: CacheKey, reason: str) -> None:
        if self._on_release is not None:
            self._on_release(key, reason)


def cache_key(name: str, version: int) -> CacheKey:
    """Return the key a deployed model is cached under."""
    return f"{name}/v{version}"


@dataclass(eq=False)
class Deployment:
    """A model version chosen for serving, where its artifact lives, and its counters."""

    name: str
    version: int
    artifact_uri: str
    path: Path
    sha256: str | None
    input_schema: list[str]
    task: str = ""
    requests: int = 0
    errors: int = 0

    @property
    def key(self) -> CacheKey:
        """Return the cache key of this deployment's model."""
        return cache_key(self.name, self.version)


class ModelServer:
    """Deploy, swap, unload and run models; every state change happens under one lock."""

    def __init__(
        self,
        registry: RegistryClient,
        *,
        artifact_root: Path,
        max_models: int,
        loader: Loader = load_model,
        lock: AbstractContextManager | None = None,
        on_release: ReleaseHook | None = None,
        max_batch_size: int = 1000,
    ) -> None:
        self.registry = registry
        self.artifact_root = Path(artifact_root)
        self.loads = 0
        self.max_batch_size = max_batch_size
        self._loader = loader
        self._lock = lock if lock is not None else threading.Lock()
        self._cache = ModelCache(max_models, on_release)
        self._deployments: dict[str, Deployment] = {}

    def deploy(self, name: str, version: int, *, stage: str | None = None) -> Deployment:
        """Load ``version`` of ``name`` from the registry and swap it in atomically.

        With ``stage``, refuse (409) unless the registry has the version in that stage.
        """
        deployment = self._describe(name, version, stage)
        with self._lock:
            current = self._deployments.get(name)
            model = self._cache.get(deployment.key)
        if current is not None and current.version == version:
            deployment = current
        if model is None:
            model = self._load(deployment)
        deployment.task = task_of(model)
        self._install(deployment, model)
        return deployment

    def _install(self, deployment: Deployment, model: ModelArtifact) -> None:
        with self._lock:
            previous = self._deployments.get(deployment.name)
            self._cache.put(deployment.key, model)
            self._deployments[deployment.name] = deployment
            if previous is not None and previous.key != deployment.key:
                self._cache.unload(previous.key)

    def undeploy(self, name: str) -> None:
        """Stop serving ``name`` and release its model."""
        with self._lock:
            deployment = self._deployments.pop(name, None)
            if deployment is None:
                raise NotFoundError(f"model {name!r} is not deployed")
            self._cache.unload(deployment.key)

    def predict(self, name: str, instances: list[Any]) -> dict[str, Any]:
        """Predict with the deployed version of ``name``; the swap lock is not held meanwhile."""
        deployment, model = self._resolve(name)
        try:
            X = records_to_matrix(instances, model.input_schema, max_rows=self.max_batch_size)
            predictions = format_predictions(model, X)
        except Exception:
            with self._lock:
                deployment.errors += 1
            raise
        return {
            "model": name,
            "version": deployment.version,
            "task": deployment.task,
            "predictions": predictions,
        }

    def _resolve(self, name: str) -> tuple[Deployment, ModelArtifact]:
        with self._lock:
            deployment = self._deployments.get(name)
            if deployment is None:
                raise NotFoundError(f"model {name!r} is not deployed")
            deployment.requests += 1
            model = self._cache.get(deployment.key)
            if model is None:
                model = self._load(deployment)
                self._cache.put(deployment.key, model)
            return deployment, model

    def loaded_model(self, name: str, version: int) -> ModelArtifact | None:
        """Return the cached model of ``name`` at ``version`` without touching its recency."""
        with self._lock:
            return self._cache.peek(cache_key(name, version))

    def snapshot(self) -> dict[str, Any]:
        """Return every deployment with its counters, and the cache counters."""
        with self._lock:
            items = [self._out(d) for d in sorted(self._deployments.values(), key=_by_name)]
            cache = {
                "max_models": self._cache.max_models,
                "loaded": len(self._cache),
                "loads": self.loads,
                "evictions": self._cache.evictions,
            }
        return {"items": items, "cache": cache}

    def _out(self, deployment: Deployment) -> dict[str, Any]:
        return {
            "name": deployment.name,
            "version": deployment.version,
            "task": deployment.task,
            "artifact_uri": deployment.artifact_uri,
            "input_schema": deployment.input_schema,
            "loaded": deployment.key in self._cache,
            "requests": deployment.requests,
            "errors": deployment.errors,
        }

    def _describe(self, name: str, version: int, stage: str | None = None) -> Deployment:
        record = self.registry.get_version(name, version)
        if stage is not None and record.get("stage") != stage:
            raise ConflictError(f"version {version} of {name!r} is not in {stage}")
        uri = record.get("artifact_uri")
        if not isinstance(uri, str) or not uri:
            raise ValidationError(f"version {version} of {name!r} has no artifact")
        schema = (record.get("input_schema") or {}).get("features") or []
        return Deployment(
            name=name,
            version=version,
            artifact_uri=uri,
            path=artifact_path(uri, self.artifact_root),
            sha256=expected_sha256(record),
            input_schema=list(schema),
        )

    def _load(self, deployment: Deployment) -> ModelArtifact:
        self.loads += 1
        artifact = self._loader(deployment.path, deployment.sha256, root=self.artifact_root)
        if deployment.input_schema and artifact.input_schema != deployment.input_schema:
            raise ValidationError(
                "artifact input schema differs from the registered version",
                details={"registered": deployment.input_schema, "artifact": artifact.input_schema},
            )
        deployment.input_schema = list(artifact.input_schema)
        return artifact


def _by_name(deployment: Deployment) -> str:
    return deployment.name


def get_server(request: Request) -> ModelServer:
    """Return the app's model server once the service is ready."""
    request.app.state.readiness.require()
    return request.app.state.server


ServerDep = Annotated[ModelServer, Depends(get_server)]
# The registry's model names; any other name cannot be deployed, so it is refused up front.
NameParam = Annotated[str, fastapi.Path(pattern=MODEL_NAME_PATTERN)]
router = APIRouter(prefix="/api/v1", tags=["inference"])


@router.post(
    "/deployments/{name}",
    response_model=DeploymentList,
    responses=problems(404, 409, 502, 503, 504),
)
def deploy(name: NameParam, body: DeployRequest, server: ServerDep, bus: BusDep) -> dict[str, Any]:
    """Deploy a registry version of ``name`` and return every deployment."""
    previous = deployed_version(server, name)
    server.deploy(name, body.version)
    publish_deployed(bus, name, body.version, previous)
    return server.snapshot()


@router.delete(
    "/deployments/{name}", status_code=204, response_class=Response, responses=problems(404, 503)
)
def undeploy(name: NameParam, server: ServerDep) -> Response:
    """Stop serving ``name`` and unload its model."""
    server.undeploy(name)
    return Response(status_code=204)


@router.get("/deployments", response_model=DeploymentList, responses=problems(503))
def list_deployments(server: ServerDep) -> dict[str, Any]:
    """List deployments with their request and error counters."""
    return server.snapshot()


@router.post(
    "/models/{name}/predict",
    response_model=PredictResponse,
    response_model_exclude_none=True,
    responses=problems(404, 502, 503, 504),
)
def predict(name: NameParam, body: PredictRequest, server: ServerDep) -> dict[str, Any]:
    """Predict with the deployed version of ``name``."""
    return server.predict(name, body.instances)


def create_app(
    settings: Settings | None = None,
    registry_client: RegistryClient | None = None,
    *,
    loader: Loader | None = None,
    sleep: Callable[[float], None] = time.sleep,
    lock: AbstractContextManager | None = None,
    on_release: ReleaseHook | None = None,
    storage: Callable[[], ObjectStore] | None = None,
) -> FastAPI:
    """Build the inference app; its lifespan waits for the registry before serving."""
    settings = settings or get_settings()
    if storage is None:
        storage = (
            service_store_factory(settings.storage_url) if settings.storage_url else get_storage
        )
    client = registry_client or RegistryClient.from_url(settings.registry_url)
    registry = CachedRegistry(
        client,
        get_cache(),
        ttl=settings.registry_cache_ttl,
        miss_ttl=settings.registry_miss_ttl,
    )
    announce(cache_guard(registry.cache))
    server = ModelServer(
        registry,
        artifact_root=settings.artifact_root,
        max_models=settings.cache_max_models,
        loader=fetching_loader(loader or load_model, storage),
        lock=lock,
        on_release=on_release,
        max_batch_size=settings.max_batch_size,
    )
    readiness = Readiness(
        registry.is_healthy,
        attempts=settings.readiness_attempts,
        backoff=settings.readiness_backoff,
        max_backoff=settings.readiness_max_backoff,
        sleep=sleep,
    )

    follower = PromotionFollower(server, registry, get_bus(), settings.events_group)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await anyio.to_thread.run_sync(readiness.wait)
        thread = FollowerThread(follower) if settings.follow_promotions else None
        if thread is not None:
            thread.start()
        try:
            yield
        finally:
            if thread is not None:
                await anyio.to_thread.run_sync(thread.stop)

    app = create_service_app(
        "inference", health=readiness.health, lifespan=lifespan, ready={"registry": readiness.check}
    )
    app.state.settings = settings
    app.state.server = server
    app.state.readiness = readiness
    app.state.registry = registry
    app.state.follower = follower
    app.include_router(router)
    return app
