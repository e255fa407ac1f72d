"""Inference service app: deploy registry versions into a bounded model cache and predict."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import fastapi
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response

from services.inference.admission import Admission
from services.inference.artifacts import artifact_path, expected_sha256
from services.inference.batching import Batcher, Waiter, event_wait
from services.inference.config import Settings, get_settings
from services.inference.events import (
    FollowerThread,
    PredictionRecorder,
    PromotionFollower,
    deployed_version,
    publish_deployed,
)
from services.inference.fetch import fetching_loader
from services.inference.online import online_rows
from services.inference.predictions import format_predictions, task_of, warm_up
from services.inference.readiness import Readiness
from services.inference.registry_cache import CachedRegistry, cache_guard
from services.inference.routing import BUCKETS, ROUTABLE_STAGES, RouteTable, table_out
from services.inference.schemas import (
    MAX_KEY_LENGTH,
    MODEL_NAME_PATTERN,
    DeploymentList,
    DeployRequest,
    PredictRequest,
    PredictResponse,
    PromoteRequest,
    RoutingOut,
    RoutingRequest,
    StatsOut,
)
from services.inference.stats import Latency, ShadowCounts, same_answers
from shared.backend_scope import announce
from shared.backends import get_bus, get_cache, get_storage
from shared.clients.features import FeaturesClient, OnlineFeatures
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
from shared.web import create_service_app, include_routes

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
    stage: str | None = None
    requests: int = 0
    errors: int = 0
    latency: Latency = field(default_factory=Latency)
    shadow: ShadowCounts = field(default_factory=ShadowCounts)

    @property
    def key(self) -> CacheKey:
        """Return the cache key of this deployment's model."""
        return cache_key(self.name, self.version)


@dataclass(frozen=True)
class Routing:
    """A model's routing table and the deployment of every version it names."""

    table: RouteTable
    deployments: dict[int, Deployment]


def route_bounds(percents: Sequence[Decimal]) -> tuple[int, ...]:
    """Return the exclusive upper bucket of each route: running sums of its share of BUCKETS."""
    bounds, edge = [], 0
    for percent in percents:
        edge += int(percent * BUCKETS / 100)
        bounds.append(edge)
    return tuple(bounds)


def record_for(version: int, *records: Deployment | None) -> Deployment | None:
    """Return the record among ``records`` that already serves ``version``, if there is one.

    Deploying the version already deployed, or routing traffic to a version that already
    serves, keeps its record (and counters) instead of loading it again.
    """
    for record in records:
        if record is not None and record.version == version:
            return record
    return None


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
        clock: Callable[[], float] = time.perf_counter,
        batcher: Batcher | None = None,
    ) -> None:
        self.registry = registry
        self.artifact_root = Path(artifact_root)
        self.loads = 0
        self.max_batch_size = max_batch_size
        self._loader = loader
        self._lock = lock if lock is not None else threading.Lock()
        self._cache = ModelCache(max_models, on_release)
        self._deployments: dict[str, Deployment] = {}
        self._routing: dict[str, Routing] = {}
        self._clock = clock
        # Without a batcher every request calls its model alone (wait 0).
        self.batcher = batcher or Batcher(max_batch_size, 0)

    def deploy(self, name: str, version: int, *, stage: str | None = None) -> Deployment:
        """Load ``version`` of ``name`` from the registry and swap it in atomically.

        With ``stage``, refuse (409) unless the registry has the version in that stage.
        """
        deployment = self._describe(name, version, stage)
        with self._lock:
            current = self._deployments.get(name)
            model = self._cache.get(deployment.key)
        deployment = record_for(version, current) or deployment
        if model is None:
            model = self._load(deployment)
            self._warm(deployment, model)
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
            self._release_unrouted(name, self._routing.pop(name, None))

    def predict(
        self,
        name: str,
        instances: list[Any] | None,
        key: str | None = None,
        *,
        lookup: Callable[[Sequence[str]], list[dict[str, Any]]] | None = None,
    ) -> dict[str, Any]:
        """Predict with the version that serves ``key``; the swap lock is not held meanwhile.

        Without ``instances``, ``lookup`` builds the rows from the served model's input schema.
        """
        started = self._clock()
        deployment, model = self._resolve(name, key)
        if instances is None:
            if lookup is None:
                raise ValidationError("give either instances or entities")
            instances = lookup(list(model.input_schema))
        try:
            X = records_to_matrix(instances, model.input_schema, max_rows=self.max_batch_size)
            predictions = self.batcher.predict(deployment.key, model, X)
        except Exception:
            with self._lock:
                deployment.errors += 1
            raise
        with self._lock:
            deployment.latency.observe(self._clock() - started)
        self._shadow(name, instances, predictions)
        return {
            "model": name,
            "version": deployment.version,
            "task": deployment.task,
            "predictions": predictions,
        }

    def _resolve(self, name: str, key: str | None) -> tuple[Deployment, ModelArtifact]:
        # The routing table, when the model has one, decides which version serves the key.
        with self._lock:
            routing = self._routing.get(name)
            deployment = (
                routing.deployments[routing.table.version_for(key)]
                if routing is not None
                else self._deployments.get(name)
            )
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

    def set_routing(
        self, name: str, routes: Sequence[tuple[int, Decimal]], shadow: int | None = None
    ) -> RouteTable:
        """Load and warm up every version of a split, then replace the table of ``name`` at once.

        Until the new table is installed the old one (or the deployed version) keeps serving;
        a version that fails to load or warm up leaves everything as it was.
        """
        with self._lock:
            primary = self._deployments.get(name)
            current = self._routing.get(name)
        if primary is None:
            raise NotFoundError(f"model {name!r} is not deployed")
        known = [primary, *(current.deployments.values() if current else ())]
        versions = [version for version, _ in routes] + ([] if shadow is None else [shadow])
        prepared = {v: self._prepare(name, v, record_for(v, *known)) for v in versions}
        bounds = route_bounds([percent for _, percent in routes])
        table = RouteTable(name, tuple(v for v, _ in routes), bounds, shadow)
        with self._lock:
            if self._deployments.get(name) is not primary:
                raise ConflictError(f"the deployment of {name!r} changed meanwhile; try again")
            for deployment, model in prepared.values():
                self._cache.put(deployment.key, model)
            previous = self._routing.get(name)
            self._routing[name] = Routing(table, {v: d for v, (d, _) in prepared.items()})
            self._release_unrouted(name, previous)
        return table

    def routing(self, name: str) -> RouteTable:
        """Return the routing table of ``name`` (404 when it has none)."""
        with self._lock:
            routing = self._routing.get(name)
        if routing is None:
            raise NotFoundError(f"model {name!r} has no routing table")
        return routing.table

    def promote(self, name: str, version: int) -> Deployment:
        """Make a routed version the deployed one and drop the table, in one step."""
        with self._lock:
            routing = self._routing.get(name)
            if routing is None:
                raise NotFoundError(f"model {name!r} has no routing table")
            if version not in routing.table.versions:
                raise ConflictError(f"version {version} of {name!r} takes no routed traffic")
            chosen = routing.deployments[version]
            previous = self._deployments[name]
            self._deployments[name] = chosen
            del self._routing[name]
            for other in {previous, *routing.deployments.values()}:
                if other.key != chosen.key:
                    self._cache.unload(other.key)
        return chosen

    def rollback(self, name: str) -> None:
        """Drop the routing table of ``name``: the deployed version serves everything again."""
        with self._lock:
            routing = self._routing.pop(name, None)
            if routing is None:
                raise NotFoundError(f"model {name!r} has no routing table")
            self._release_unrouted(name, routing)

    def stats(self, name: str) -> dict[str, Any]:
        """Return the counters of every version serving ``name``, by role."""
        with self._lock:
            primary = self._deployments.get(name)
            if primary is None:
                raise NotFoundError(f"model {name!r} is not deployed")
            routing = self._routing.get(name)
            entries = [(primary, "primary")]
            for version in routing.table.all_versions if routing else ():
                deployment = routing.deployments[version]  # type: ignore[union-attr]
                role = "shadow" if version == routing.table.shadow else "routed"  # type: ignore[union-attr]
                if deployment is not primary:
                    entries.append((deployment, role))
            versions = [_version_stats(deployment, role) for deployment, role in entries]
        return {
            "name": name,
            "primary": primary.version,
            "routing": table_out(routing.table) if routing else None,
            "versions": versions,
        }

    def _shadow(self, name: str, instances: list[Any], served: list[dict[str, Any]]) -> None:
        # A shadow answers a copy of the request; nothing it does reaches the caller.
        with self._lock:
            routing = self._routing.get(name)
            if routing is None or routing.table.shadow is None:
                return
            deployment = routing.deployments[routing.table.shadow]
            deployment.requests += 1
        try:
            model = self._model_of(deployment)
            X = records_to_matrix(instances, model.input_schema, max_rows=self.max_batch_size)
            agreed = same_answers(served, format_predictions(model, X))
        except Exception:
            with self._lock:
                deployment.errors += 1
                deployment.shadow.errors += 1
            return
        with self._lock:
            deployment.shadow.compared += 1
            deployment.shadow.agreed += int(agreed)

    def _prepare(
        self, name: str, version: int, known: Deployment | None
    ) -> tuple[Deployment, ModelArtifact]:
        if known is not None:
            return known, self._model_of(known)
        deployment = self._describe(name, version)
        if deployment.stage not in ROUTABLE_STAGES:
            raise ConflictError(
                f"version {version} of {name!r} is {deployment.stage!r} in the registry "
                "and cannot take traffic"
            )
        model = self._model_of(deployment)
        deployment.task = task_of(model)
        return deployment, model

    def _model_of(self, deployment: Deployment) -> ModelArtifact:
        with self._lock:
            model = self._cache.get(deployment.key)
        if model is None:
            model = self._load(deployment)
            self._warm(deployment, model)
        return model

    def _warm(self, deployment: Deployment, model: ModelArtifact) -> None:
        try:
            warm_up(model)
        except Exception as exc:
            raise ConflictError(
                f"version {deployment.version} of {deployment.name!r} failed its warm-up "
                f"prediction: {exc}"
            ) from exc

    def _release_unrouted(self, name: str, routing: Routing | None) -> None:
        # Callers hold the lock: unload versions of ``routing`` that nothing serves any more.
        if routing is None:
            return
        primary = self._deployments.get(name)
        current = self._routing.get(name)
        keep = {d.key for d in (current.deployments.values() if current else ())}
        keep |= {primary.key} if primary is not None else set()
        for deployment in routing.deployments.values():
            if deployment.key not in keep:
                self._cache.unload(deployment.key)

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
            stage=record.get("stage"),
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


def _version_stats(deployment: Deployment, role: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": deployment.version,
        "role": role,
        "requests": deployment.requests,
        "errors": deployment.errors,
        "latency": deployment.latency.out(),
    }
    if role == "shadow":
        out["shadow"] = deployment.shadow.out()
    return out


def get_server(request: Request) -> ModelServer:
    """Return the app's model server once the service is ready."""
    request.app.state.readiness.require()
    return request.app.state.server


ServerDep = Annotated[ModelServer, Depends(get_server)]


def get_admission(request: Request) -> Admission:
    """Return the replica's admission control."""
    return request.app.state.admission


AdmissionDep = Annotated[Admission, Depends(get_admission)]


def get_recorder(request: Request) -> PredictionRecorder:
    """Return the app's announcer of prediction outcomes."""
    return request.app.state.recorder


RecorderDep = Annotated[PredictionRecorder, Depends(get_recorder)]


def get_features(request: Request) -> OnlineFeatures | None:
    """Return the feature store client entity predictions read from (None: not configured)."""
    return request.app.state.features


FeaturesDep = Annotated[OnlineFeatures | None, Depends(get_features)]
KeyHeader = Annotated[str | None, Header(min_length=1, max_length=MAX_KEY_LENGTH)]
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
    responses=problems(404, 422, 429, 502, 503, 504),
)
def predict(
    name: NameParam,
    body: PredictRequest,
    server: ServerDep,
    admission: AdmissionDep,
    recorder: RecorderDep,
    features: FeaturesDep,
    x_request_key: KeyHeader = None,
) -> dict[str, Any]:
    """Predict with the version of ``name`` that serves the request key (body, else header).

    Rows come from the body's ``instances``, or from the online features of its ``entities``.
    """
    lookup = None
    if body.entities is not None:
        lookup = online_rows(features, body.entities.feature_view, body.entities.keys)

    def serve() -> dict[str, Any]:
        with admission.slot():
            return server.predict(name, body.instances, body.key or x_request_key, lookup=lookup)

    return recorder.observe(name, serve)


@router.put(
    "/deployments/{name}/routing",
    response_model=RoutingOut,
    responses=problems(404, 409, 502, 503, 504),
)
def put_routing(name: NameParam, body: RoutingRequest, server: ServerDep) -> dict[str, Any]:
    """Split the traffic of a deployed model between versions (and a shadow) at once."""
    routes = [(route.version, route.percent) for route in body.routes]
    return table_out(server.set_routing(name, routes, body.shadow))


@router.get("/deployments/{name}/routing", response_model=RoutingOut, responses=problems(404, 503))
def get_routing(name: NameParam, server: ServerDep) -> dict[str, Any]:
    """Return the routing table of ``name``."""
    return table_out(server.routing(name))


@router.delete(
    "/deployments/{name}/routing",
    status_code=204,
    response_class=Response,
    responses=problems(404, 503),
)
def rollback_routing(name: NameParam, server: ServerDep) -> Response:
    """Drop the split: the deployed version serves every request again."""
    server.rollback(name)
    return Response(status_code=204)


@router.post(
    "/deployments/{name}/routing/promote",
    response_model=DeploymentList,
    responses=problems(404, 409, 503),
)
def promote_routed(
    name: NameParam, body: PromoteRequest, server: ServerDep, bus: BusDep
) -> dict[str, Any]:
    """Make a routed version (a canary) the deployed one and drop the split."""
    previous = deployed_version(server, name)
    server.promote(name, body.version)
    publish_deployed(bus, name, body.version, previous)
    return server.snapshot()


@router.get("/deployments/{name}/stats", response_model=StatsOut, responses=problems(404, 503))
def deployment_stats(name: NameParam, server: ServerDep, admission: AdmissionDep) -> dict[str, Any]:
    """Return per-version requests, errors and latency of ``name``, and the admission state."""
    return {**server.stats(name), "admission": admission.state()}


def create_app(
    settings: Settings | None = None,
    registry_client: RegistryClient | None = None,
    *,
    loader: Loader | None = None,
    sleep: Callable[[float], None] = time.sleep,
    lock: AbstractContextManager | None = None,
    on_release: ReleaseHook | None = None,
    clock: Callable[[], float] = time.perf_counter,
    storage: Callable[[], ObjectStore] | None = None,
    features: OnlineFeatures | None = None,
    batch_waiter: Waiter = event_wait,
) -> FastAPI:
    """Build the inference app; its lifespan waits for the registry before serving."""
    settings = settings or get_settings()
    if features is None and settings.features_url:
        features = FeaturesClient.from_url(settings.features_url)
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
        clock=clock,
        batcher=Batcher(
            settings.max_batch_rows, settings.batch_wait_ms / 1000, waiter=batch_waiter
        ),
    )
    admission = Admission(
        settings.max_in_flight,
        settings.max_queued,
        retry_after=settings.busy_retry_after,
        timeout=settings.queue_timeout,
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
    app.state.admission = admission
    app.state.readiness = readiness
    app.state.registry = registry
    app.state.follower = follower
    app.state.recorder = PredictionRecorder(get_bus, clock)
    app.state.features = features
    include_routes(app, router)
    return app
