"""Health probes for each kind of server and a bounded wait for health."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from infra.stack import BIND_HOST, PG_PASSWORD, PG_USER, Service, StackError

# A probe returns None when the server is healthy, else a short reason.
Probe = Callable[[], str | None]
PROBE_TIMEOUT = 1.0
KAFKA_API_VERSIONS = 18


class HealthTimeout(StackError):
    """A service did not become healthy within its bound."""


class ServiceExited(StackError):
    """A service's process ended while it was awaited."""


@dataclass(frozen=True)
class WaitResult:
    """How long a service took to become healthy."""

    name: str
    seconds: float


def wait_healthy(
    name: str,
    probe: Probe,
    *,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.1,
) -> WaitResult:
    """Poll `probe` until it passes; raise naming the service on timeout or early exit."""
    start = clock()
    while True:
        reason = _safe(probe)
        if reason is None:
            return WaitResult(name, clock() - start)
        if not alive():
            raise ServiceExited(f"{name}: the server process exited before it was healthy")
        elapsed = clock() - start
        if elapsed >= timeout:
            raise HealthTimeout(f"{name}: not healthy after {timeout:.0f}s (last probe: {reason})")
        sleep(min(interval, max(0.0, timeout - elapsed)))


def _safe(probe: Probe) -> str | None:
    try:
        return probe()
    except Exception as exc:  # a probe's failure is a reason to wait, never a crash
        return f"{type(exc).__name__}: {exc}"


def probe_for(service: Service) -> Probe:
    """Return the health probe of a service, by its kind."""
    port = service.port
    kind = service.kind
    if kind == "postgres":
        return lambda: probe_postgres(port, service.spec.database or "postgres")
    if kind == "redis":
        return lambda: probe_redis(port)
    if kind == "kafka":
        return lambda: probe_kafka(port)
    if kind == "elasticsearch":
        return lambda: probe_http(f"http://{BIND_HOST}:{port}/_cluster/health", "status")
    if kind == "s3":
        return lambda: probe_http(f"http://{BIND_HOST}:{port}/", "ListAllMyBucketsResult")
    if kind == "consul":
        return lambda: probe_http(f"http://{BIND_HOST}:{port}/v1/status/leader", ":")
    raise StackError(f"{service.name}: no probe for kind {kind!r}")


def probe_postgres(port: int, database: str) -> str | None:
    """Connect to the database with the platform's role and run a query."""
    import psycopg2

    conn = psycopg2.connect(
        host=BIND_HOST,
        port=port,
        user=PG_USER,
        password=PG_PASSWORD,
        dbname=database,
        connect_timeout=max(1, int(PROBE_TIMEOUT)),
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return None if cur.fetchone() == (1,) else "SELECT 1 answered wrongly"
    finally:
        conn.close()


def probe_redis(port: int) -> str | None:
    """Send PING and expect PONG."""
    from shared.cache.redis import make_redis_client
    from shared.infra_settings import InfraSettings

    probe = InfraSettings(
        redis_url=f"redis://{BIND_HOST}:{port}/0",
        redis_socket_timeout=PROBE_TIMEOUT,
        redis_connect_timeout=PROBE_TIMEOUT,
    )
    with make_redis_client(probe) as client:
        return None if client.ping() else "PING was not answered with PONG"


def probe_kafka(port: int) -> str | None:
    """Send a Kafka ApiVersions (v0) request and expect error code 0 for our correlation id."""
    correlation = 0x5E4A
    client_id = b"synapse-infra"
    request = struct.pack(">hhih", KAFKA_API_VERSIONS, 0, correlation, len(client_id)) + client_id
    with socket.create_connection((BIND_HOST, port), timeout=PROBE_TIMEOUT) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        body = _recv_exact(sock, size)
    got_correlation, error_code = struct.unpack(">ih", body[:6])
    if got_correlation != correlation:
        return f"ApiVersions answered correlation id {got_correlation}"
    return None if error_code == 0 else f"ApiVersions error code {error_code}"


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def probe_http(url: str, expected: str) -> str | None:
    """GET a URL and expect a 200 whose body contains `expected`."""
    response = httpx.get(url, timeout=PROBE_TIMEOUT)
    if response.status_code != 200:
        return f"GET {url} answered {response.status_code}"
    return None if expected in response.text else f"GET {url} lacks {expected!r}"


def port_in_use(port: int) -> bool:
    """Return whether something accepts TCP connections on the loopback port."""
    try:
        with socket.create_connection((BIND_HOST, port), timeout=0.3):
            return True
    except OSError:
        return False
