"""HTTP client between services: discovery, timeouts, retries, circuit breaking, error mapping."""

from __future__ import annotations

import abc
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from typing_extensions import override

from shared.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    SynapseError,
    UpstreamError,
    ValidationError,
)
from shared.tracing import current_correlation_id

logger = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})
ALLOWED_SCHEMES = frozenset({"http", "https"})
# Query parameters as a mapping, or as pairs when a name repeats.
QueryParams = Mapping[str, Any] | list[tuple[str, Any]]


class UpstreamTimeoutError(UpstreamError):
    """Raised when an upstream service does not answer within the timeout."""

    status_code = 504
    code = "gateway_timeout"


class ServiceDiscovery(abc.ABC):
    """Find the base URL of a service by name."""

    @abc.abstractmethod
    def resolve(self, service: str) -> str:
        """Return the base URL of `service`, e.g. "http://registry:8003"."""


class StaticDiscovery(ServiceDiscovery):
    """Resolve services from a fixed name → base URL mapping."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = dict(mapping)

    @override
    def resolve(self, service: str) -> str:
        try:
            return self.mapping[service]
        except KeyError:
            raise ServiceUnavailableError(f"no known address for service {service!r}") from None


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry a request and how long to pause before the next attempt."""

    max_attempts: int = 3
    backoff: float = 0.1
    multiplier: float = 2.0
    max_backoff: float = 2.0
    jitter: float = 0.1
    max_retry_after: float = 30.0
    deadline: float | None = None
    methods: frozenset[str] = IDEMPOTENT_METHODS
    statuses: frozenset[int] = RETRY_STATUSES
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff_delay(self, attempt: int) -> float:
        """Return the pause after failed attempt `attempt` (1-based): exponential, capped."""
        delay = self.backoff * self.multiplier ** (attempt - 1)
        if self.jitter:
            delay *= 1 + self.jitter * (2 * self.rng.random() - 1)
        return min(delay, self.max_backoff)

    def delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        """Return the pause before the next attempt, preferring the server's Retry-After."""
        retry_after = parse_retry_after(response)
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff_delay(attempt)

    def should_retry(
        self,
        method: str,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Return whether a failed attempt of an idempotent request deserves another try."""
        if attempt >= self.max_attempts or method.upper() not in self.methods:
            return False
        if error is not None:
            return isinstance(error, httpx.ConnectError | httpx.TimeoutException)
        return response is not None and response.status_code in self.statuses


def parse_retry_after(response: httpx.Response | None) -> float | None:
    """Return the Retry-After delay in seconds, or None when absent or not a number."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return None if seconds is None or seconds < 0 else seconds


class CircuitBreaker:
    """Stop calling a failing service for a cooldown, then let one probe decide."""

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        *,
        half_open_max_calls: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.half_open_max_calls = half_open_max_calls
        self.clock = clock
        self._lock = threading.Lock()
        self._state = self.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0

    @property
    def state(self) -> str:
        """Return the current state, advancing it once the cooldown has elapsed."""
        with self._lock:
            return self._current_state()

    def _current_state(self) -> str:
        if self._state == self.OPEN and self.clock() - self._opened_at >= self.reset_timeout:
            self._state, self._trials = self.HALF_OPEN, 0
        return self._state

    def before_call(self, service: str = "service") -> None:
        """Admit a call or raise ServiceUnavailableError while open or probing."""
        with self._lock:
            state = self._current_state()
            if state == self.OPEN:
                raise ServiceUnavailableError(f"circuit open for {service}")
            if state == self.HALF_OPEN:
                if self._trials >= self.half_open_max_calls:
                    raise ServiceUnavailableError(f"circuit half-open for {service}, probe running")
                self._trials += 1

    def record_success(self) -> None:
        """Close the circuit and forget past failures."""
        with self._lock:
            self._state, self._failures, self._trials = self.CLOSED, 0, 0

    def record_failure(self) -> None:
        """Count a failure; open after the threshold, or at once when a probe fails."""
        with self._lock:
            state = self._current_state()
            self._failures += 1
            if state == self.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state, self._opened_at, self._trials = self.OPEN, self.clock(), 0


def validate_headers(headers: Mapping[str, str]) -> None:
    """Refuse header names or values that could split the request (CR, LF, NUL)."""
    for name, value in headers.items():
        if not isinstance(value, str):
            raise ValidationError(f"header {name!r} must be a string")
        if any(ch in f"{name}{value}" for ch in "\r\n\0"):
            raise ValidationError(f"header {name!r} contains a line break or NUL")


_STATUS_ERRORS: dict[int, type[SynapseError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
}


def error_for_response(service: str, response: httpx.Response) -> SynapseError:
    """Build the platform error for a 4xx/5xx answer, keeping the upstream detail."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    detail = body.get("detail")
    status = response.status_code
    message = detail if isinstance(detail, str) else f"{service} answered {status}"
    details: dict[str, Any] = {"service": service, "status": status}
    if body.get("error") is not None:
        details["error"] = body["error"]
    if detail is not None and not isinstance(detail, str):
        details["detail"] = detail
    if body.get("details") is not None:
        details["details"] = body["details"]
    return _STATUS_ERRORS.get(status, UpstreamError)(message, details=details)


class ServiceClient:
    """Call one service by name with timeouts, retries, an optional breaker and mapped errors."""

    def __init__(
        self,
        service: str,
        *,
        discovery: ServiceDiscovery,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.service = service
        self.discovery = discovery
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self.breaker = breaker
        self.sleep = sleep
        self.clock = clock
        self.default_headers = dict(default_headers or {})
        validate_headers(self.default_headers)
        self._transport = transport
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        """Return the underlying httpx client, creating it on first use."""
        if self._http is None:
            self._http = httpx.Client(
                transport=self._transport, timeout=self.timeout, follow_redirects=False
            )
        return self._http

    def close(self) -> None:
        """Close the underlying connections."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def for_probes(self) -> ServiceClient:
        """Return a client to the same service with one attempt and no breaker (health probes)."""
        # A probe reports the service's own answer: retrying would add load to a struggling
        # service, and a breaker fed by probes would refuse callers for the probes' sake.
        return ServiceClient(
            self.service,
            discovery=self.discovery,
            transport=self._transport,
            timeout=self.timeout,
            retry=RetryPolicy(max_attempts=1),
            sleep=self.sleep,
            clock=self.clock,
            default_headers=self.default_headers,
        )

    def url_for(self, path: str) -> str:
        """Return the absolute URL of `path` on this service, refusing other hosts and schemes."""
        if not path.startswith("/") or path.startswith("//"):
            raise ValidationError(f"path must be relative to the service root, got {path!r}")
        base = self.discovery.resolve(self.service)
        parsed = httpx.URL(base)
        if parsed.scheme not in ALLOWED_SCHEMES or not parsed.host:
            raise ValidationError(f"{self.service} resolved to an unsupported URL {base!r}")
        return base.rstrip("/") + path

    def build_headers(self, headers: Mapping[str, str] | None) -> httpx.Headers:
        """Merge default and per-call headers and add a correlation ID.

        Inside a request the ID of that request is passed on, so the callee's work is filed
        under the same ID; elsewhere each call gets a new one.
        """
        merged = httpx.Headers(self.default_headers)
        merged.update(headers or {})
        validate_headers(merged)
        if CORRELATION_HEADER not in merged:
            merged[CORRELATION_HEADER] = current_correlation_id() or uuid.uuid4().hex
        return merged

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send a request, retrying idempotent ones on connect errors and 502/503/504."""
        method = method.upper()
        url = self.url_for(path)
        send_headers = self.build_headers(headers)
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            response, error = self._attempt(
                method, url, json, params, send_headers, timeout, content
            )
            if not self.retry.should_retry(method, attempt, response=response, error=error):
                break
            pause = self.retry.delay(attempt, response)
            deadline = self.retry.deadline
            if deadline is not None and self.clock() - started + pause > deadline:
                break
            logger.warning("retrying %s %s (attempt %d) in %.3fs", method, url, attempt, pause)
            self.sleep(pause)
        if error is not None:
            raise self._transport_error(error) from error
        assert response is not None, "an attempt returns either a response or an error"
        return response

    def _attempt(
        self,
        method: str,
        url: str,
        json: Any,
        params: QueryParams | None,
        headers: httpx.Headers,
        timeout: float | None,
        content: bytes | None = None,
    ) -> tuple[httpx.Response, None] | tuple[None, httpx.TransportError]:
        """Run one attempt through the breaker; return (response, None) or (None, error)."""
        if self.breaker is not None:
            self.breaker.before_call(self.service)
        try:
            response = self.http.request(
                method,
                url,
                json=json,
                params=params,
                headers=headers,
                content=content,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
        except httpx.TransportError as exc:
            self._record(failed=True)
            return None, exc
        self._record(failed=response.status_code >= 500)
        return response, None

    def _record(self, *, failed: bool) -> None:
        if self.breaker is None:
            return
        if failed:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()

    def _transport_error(self, error: Exception) -> SynapseError:
        if isinstance(error, httpx.TimeoutException):
            return UpstreamTimeoutError(f"{self.service} timed out", details={"error": str(error)})
        return ServiceUnavailableError(
            f"{self.service} is unreachable", details={"error": str(error)}
        )

    def get(self, path: str, **kw: Any) -> httpx.Response:
        """Send a GET request."""
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        """Send a POST request."""
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        """Send a PUT request."""
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        """Send a PATCH request."""
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        """Send a DELETE request."""
        return self.request("DELETE", path, **kw)

    def request_json(self, method: str, path: str, **kw: Any) -> Any:
        """Send a request and return its JSON body, raising a platform error on 4xx/5xx."""
        response = self.request(method, path, **kw)
        if response.is_error:
            raise error_for_response(self.service, response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise UpstreamError(f"{self.service} sent a body that is not JSON") from None

    def get_json(self, path: str, **kw: Any) -> Any:
        """GET `path` and return its JSON body."""
        return self.request_json("GET", path, **kw)

    def post_json(self, path: str, **kw: Any) -> Any:
        """POST to `path` and return its JSON body."""
        return self.request_json("POST", path, **kw)

    def put_json(self, path: str, **kw: Any) -> Any:
        """PUT to `path` and return its JSON body."""
        return self.request_json("PUT", path, **kw)

    def patch_json(self, path: str, **kw: Any) -> Any:
        """PATCH `path` and return its JSON body."""
        return self.request_json("PATCH", path, **kw)

    def delete_json(self, path: str, **kw: Any) -> Any:
        """DELETE `path` and return its JSON body (None for an empty answer)."""
        return self.request_json("DELETE", path, **kw)
