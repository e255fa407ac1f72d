"""Gateway app: authenticate callers and forward /api/<service>/<path> to that service."""

from __future__ import annotations

import hmac
import re
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from services.gateway.config import Settings, get_settings
from shared.clients.base import (
    CORRELATION_HEADER,
    CircuitBreaker,
    RetryPolicy,
    ServiceClient,
    StaticDiscovery,
)
from shared.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    SynapseError,
    UnsupportedMediaTypeError,
)
from shared.problems import problems
from shared.readiness import READY_PATH, ReadinessCheck
from shared.request_guard import parse_json
from shared.services import SERVICES
from shared.web import create_service_app, include_routes

ClientFactory = Callable[[str], ServiceClient]

API_KEY_HEADER = "X-API-Key"
PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Characters kept as-is when a decoded path segment is encoded again for the upstream URL.
SEGMENT_SAFE = "-._~!$&'()*+,;=:@"
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Recomputed by the HTTP client, or meaningful only between the caller and the gateway.
NOT_FORWARDED = HOP_BY_HOP | {
    "host",
    "content-length",
    "content-encoding",
    "accept-encoding",
    "cookie",
    "x-api-key",
    "x-correlation-id",
}
NOT_RETURNED = HOP_BY_HOP | {"content-length", "content-encoding", "x-correlation-id"}


def routable_services(settings: Settings) -> dict[str, str]:
    """Return service name -> base URL for the known services the settings configure."""
    return {
        name: settings.upstreams[name]
        for name in SERVICES
        if name != "gateway" and name in settings.upstreams
    }


def make_client_factory(
    settings: Settings,
    *,
    transport: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ClientFactory:
    """Return a factory of service clients with the gateway's timeout, retry and breaker."""
    discovery = StaticDiscovery(routable_services(settings))

    def build(service: str) -> ServiceClient:
        breaker = CircuitBreaker(
            settings.breaker_failure_threshold, settings.breaker_reset_timeout, clock=clock
        )
        return ServiceClient(
            service,
            discovery=discovery,
            transport=transport,
            timeout=settings.timeout,
            retry=RetryPolicy(max_attempts=settings.retry_attempts),
            breaker=breaker,
            sleep=sleep,
            clock=clock,
        )

    return build


class Upstreams:
    """The routable services, one long-lived client (with its breaker) and one probe each."""

    def __init__(self, settings: Settings, client_factory: ClientFactory) -> None:
        self.services = routable_services(settings)
        self._factory = client_factory
        self._clients: dict[str, ServiceClient] = {}
        self._probes: dict[str, ServiceClient] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> ServiceClient:
        """Return the client for `service`, or raise NotFoundError when it is not routable."""
        if service not in self.services:
            raise NotFoundError(f"unknown service {service!r}")
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._factory(service)
            return self._clients[service]

    def probe(self, service: str) -> ServiceClient:
        """Return the client of `service`'s health and readiness probes: no breaker, no retry."""
        # Probes must neither open the proxy's breaker nor be refused by it: the gateway's
        # readiness reports what the service answers, and failing probes never cut off callers.
        proxied = self.client(service)
        with self._lock:
            if service not in self._probes:
                self._probes[service] = proxied.for_probes()
            return self._probes[service]

    def close(self) -> None:
        """Close every client created so far."""
        with self._lock:
            for client in [*self._clients.values(), *self._probes.values()]:
                client.close()
            self._clients.clear()
            self._probes.clear()


def upstream_path(path: str) -> str:
    """Return the upstream path for a decoded proxied path, refusing dot segments."""
    segments = path.split("/")
    for segment in segments:
        if segment in (".", "..") or "\\" in segment:
            raise BadRequestError("path must not contain '.', '..' or '\\' segments")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in segment):
            raise BadRequestError("path must not contain control characters")
    kept = [quote(segment, safe=SEGMENT_SAFE) for segment in segments if segment]
    trailing = "/" if kept and path.endswith("/") else ""
    return "/" + "/".join(kept) + trailing


def correlation_id_for(request: Request) -> str:
    """Return the caller's correlation ID when well-formed, else a new uuid4."""
    supplied = request.headers.get(CORRELATION_HEADER)
    if supplied is not None and CORRELATION_ID.match(supplied):
        return supplied
    return str(uuid.uuid4())


def upstream_headers(request: Request, correlation_id: str) -> dict[str, str]:
    """Return the caller's headers to forward upstream plus the correlation ID."""
    headers = {name: value for name, value in request.headers.items() if name not in NOT_FORWARDED}
    headers[CORRELATION_HEADER] = correlation_id
    return headers


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, refusing it as soon as it grows past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"request body exceeds {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json_body(body: bytes, content_type: str | None) -> Any:
    """Return the JSON value of a request body (None when empty); refuse non-JSON bodies."""
    if not body:
        return None
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaTypeError("request bodies must be application/json")
    # Strict: NaN, Infinity and numbers no float holds would fail re-encoding for upstream.
    return parse_json(body)


def proxy_response(upstream, correlation_id: str) -> Response:
    """Turn an upstream answer into the gateway's response, keeping status, body and type."""
    headers = {
        name: value for name, value in upstream.headers.items() if name.lower() not in NOT_RETURNED
    }
    response = Response(content=upstream.content, status_code=upstream.status_code)
    response.headers.update(headers)
    response.headers[CORRELATION_HEADER] = correlation_id
    return response


async def forward(request: Request, client: ServiceClient, path: str, max_body: int) -> Response:
    """Forward one caller request through ``client`` and relay the answer."""
    target = upstream_path(path)
    body = decode_json_body(await read_body(request, max_body), request.headers.get("content-type"))
    correlation_id = request.state.correlation_id
    upstream = await run_in_threadpool(
        client.request,
        request.method,
        target,
        json=body,
        params=list(request.query_params.multi_items()) or None,
        headers=upstream_headers(request, correlation_id),
    )
    return proxy_response(upstream, correlation_id)


def services_health(upstreams: Upstreams, correlation_id: str) -> dict:
    """Ask each routable service for its /health and summarise the answers."""
    report = {}
    for service in upstreams.services:
        try:
            answer = upstreams.probe(service).get(
                "/health", headers={CORRELATION_HEADER: correlation_id}
            )
            status = "ok" if answer.status_code == 200 else "unavailable"
            report[service] = {"status": status, "status_code": answer.status_code}
        except SynapseError as exc:
            report[service] = {"status": "unavailable", "status_code": None, "detail": exc.message}
    healthy = all(entry["status"] == "ok" for entry in report.values())
    return {"status": "ok" if healthy else "degraded", "services": report}


def upstream_ready_check(upstreams: Upstreams, service: str) -> ReadinessCheck:
    """Return a check that asks one upstream service for its /ready."""

    def check() -> str | None:
        try:
            answer = upstreams.probe(service).get(READY_PATH)
        except SynapseError as exc:
            return f"{service} unreachable: {exc.message}"
        if answer.status_code == 200:
            return None
        return f"{service} answered {answer.status_code}{failing_checks(answer)}"

    return check


def failing_checks(answer: Any) -> str:
    """Return ", failing: a, b" from a /ready problem body, or "" when it names none."""
    try:
        failing = answer.json().get("failing")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(failing, list) or not failing:
        return ""
    return f", failing: {', '.join(str(name) for name in failing)}"


def readiness_checks(upstreams: Upstreams) -> dict[str, ReadinessCheck]:
    """Return one readiness check per routable service whose code exists (manifest ``built``)."""
    # A service still to come has no process to ask; counting it would keep /ready at 503.
    return {
        service: upstream_ready_check(upstreams, service)
        for service in upstreams.services
        if SERVICES[service].built
    }


def app_settings(request: Request) -> Settings:
    """Return the settings the app was built with."""
    return request.app.state.settings


def app_upstreams(request: Request) -> Upstreams:
    """Return the app's routable services and their clients."""
    return request.app.state.upstreams


def request_correlation_id(request: Request) -> str:
    """Return the correlation ID the middleware chose for this request."""
    return request.state.correlation_id


SettingsDep = Annotated[Settings, Depends(app_settings)]
UpstreamsDep = Annotated[Upstreams, Depends(app_upstreams)]
CorrelationIdDep = Annotated[str, Depends(request_correlation_id)]


def check_api_key(request: Request, settings: SettingsDep) -> None:
    """Refuse the request unless auth is off or X-API-Key holds a configured key."""
    if not settings.require_auth:
        return
    supplied = request.headers.get(API_KEY_HEADER, "").encode()
    matches = [
        hmac.compare_digest(supplied, key.encode()) for key in settings.api_keys if key.strip()
    ]
    if not supplied or not any(matches):
        raise AuthenticationError("missing or invalid API key")


router = APIRouter(dependencies=[Depends(check_api_key)])


@router.get("/health/services", tags=["ops"], responses=problems(401))
def health_services(upstreams: UpstreamsDep, correlation_id: CorrelationIdDep) -> dict:
    """Report the /health of every routable service."""
    return services_health(upstreams, correlation_id)


# The upstream's own answers (its documented statuses and problems) are relayed unchanged.
PROXY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The upstream service's answer", "content": {"application/json": {}}},
    **problems(400, 401, 404, 413, 415, 502, 503, 504),
    "default": {"description": "Any other answer of the upstream service, relayed as-is"},
}


@router.api_route(
    "/api/{service}/{path:path}", methods=PROXY_METHODS, tags=["proxy"], responses=PROXY_RESPONSES
)
async def proxy(
    request: Request, service: str, path: str, upstreams: UpstreamsDep, settings: SettingsDep
) -> Response:
    """Forward ``/api/<service>/<path>`` to that service."""
    return await forward(request, upstreams.client(service), path, settings.max_body_bytes)


async def correlate(request: Request, call_next: Callable[[Request], Any]) -> Response:
    """Give every request a correlation ID and echo it on the response."""
    request.state.correlation_id = correlation_id_for(request)
    response = await call_next(request)
    response.headers[CORRELATION_HEADER] = request.state.correlation_id
    return response


def create_app(
    settings: Settings | None = None, client_factory: ClientFactory | None = None
) -> FastAPI:
    """Build the gateway; tests pass settings and a factory of in-process service clients."""
    settings = settings or get_settings()
    upstreams = Upstreams(settings, client_factory or make_client_factory(settings))

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        upstreams.close()

    app = create_service_app(
        "gateway",
        lifespan=lifespan,
        ready=readiness_checks(upstreams),
        max_body_bytes=settings.max_body_bytes,
    )
    app.state.settings = settings
    app.state.upstreams = upstreams
    app.middleware("http")(correlate)
    include_routes(app, router)
    return app
