"""Service registry port with Consul and in-memory adapters, and discovery of healthy instances."""

from __future__ import annotations

import abc
import itertools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import consul
import requests
from typing_extensions import override

from shared.clients.base import ServiceDiscovery
from shared.errors import ServiceUnavailableError, ValidationError
from shared.infra_settings import InfraSettings, get_infra_settings

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_DURATION_RE = re.compile(r"^\d+(ms|s|m|h)$")


def _duration(value: str, what: str) -> str:
    if not isinstance(value, str) or not _DURATION_RE.match(value):
        raise ValidationError(f"{what} must be a Consul duration such as '10s', got {value!r}")
    return value


@dataclass(frozen=True)
class ServiceRegistration:
    """One running instance of a service, as announced to the registry with its health check."""

    service: str
    host: str
    port: int
    tags: tuple[str, ...] = ()
    health_path: str = "/health"
    interval: str = "10s"
    timeout: str = "2s"
    deregister_after: str = "1m"
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.service, str) or not _NAME_RE.match(self.service):
            raise ValidationError(f"invalid service name {self.service!r}")
        if not isinstance(self.host, str) or not self.host or "/" in self.host:
            raise ValidationError(f"invalid service host {self.host!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ValidationError(f"service port must be an integer, got {self.port!r}")
        if not 0 < self.port < 65536:
            raise ValidationError(f"service port must be 1-65535, got {self.port}")
        if not self.health_path.startswith("/"):
            raise ValidationError("health_path must start with '/'")
        for value, what in ((self.interval, "interval"), (self.timeout, "timeout")):
            _duration(value, what)
        _duration(self.deregister_after, "deregister_after")

    @property
    def service_id(self) -> str:
        """Return the instance id, unique per host and port so replicas never overwrite."""
        return f"{self.service}-{self.host}-{self.port}"

    @property
    def health_url(self) -> str:
        """Return the URL the registry polls to decide whether the instance is healthy."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.health_path}"

    def check(self) -> dict[str, Any]:
        """Return the HTTP health check Consul runs against the instance's /health."""
        check: dict[str, Any] = consul.Check.http(
            self.health_url,
            self.interval,
            timeout=self.timeout,
            deregister=self.deregister_after,
        )
        return check

    def payload(self) -> dict[str, Any]:
        """Return the body of PUT /v1/agent/service/register for this instance."""
        return {
            "ID": self.service_id,
            "Name": self.service,
            "Address": self.host,
            "Port": self.port,
            "Tags": list(self.tags),
            "Meta": dict(self.meta),
            "Check": self.check(),
        }


@dataclass(frozen=True)
class ServiceInstance:
    """A registered instance whose health checks pass."""

    service_id: str
    service: str
    address: str
    port: int
    tags: tuple[str, ...] = ()

    @property
    def base_url(self) -> str:
        """Return the instance's base URL, e.g. "http://10.0.0.5:8003"."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"http://{host}:{self.port}"


class ServiceRegistry(abc.ABC):
    """Where instances announce themselves, healthy ones are found, and config lives (KV)."""

    @abc.abstractmethod
    def register(self, registration: ServiceRegistration) -> None:
        """Announce an instance with its health check (re-registering replaces it)."""

    @abc.abstractmethod
    def deregister(self, service_id: str) -> None:
        """Withdraw an instance; withdrawing an unknown one is a no-op."""

    @abc.abstractmethod
    def healthy_instances(self, service: str, tag: str | None = None) -> list[ServiceInstance]:
        """Return the instances of a service whose checks pass, sorted by id."""

    @abc.abstractmethod
    def kv_get(self, key: str) -> str | None:
        """Return the value stored under key, or None."""

    @abc.abstractmethod
    def kv_put(self, key: str, value: str, *, only_if_absent: bool = False) -> bool:
        """Store value under key; with only_if_absent, keep an existing value (returns False)."""

    @abc.abstractmethod
    def kv_delete(self, key: str) -> None:
        """Remove key; removing a missing key is a no-op."""


def validate_kv_key(key: str) -> str:
    """Return a KV key: non-empty, no leading slash, no whitespace."""
    if not isinstance(key, str) or not key or key.startswith("/") or any(c.isspace() for c in key):
        raise ValidationError(f"invalid KV key {key!r}")
    return key


class InMemoryServiceRegistry(ServiceRegistry):
    """Registry in a dict; `probe(url) -> bool` plays the agent running each HTTP check."""

    def __init__(self, probe: Callable[[str], bool] | None = None) -> None:
        self.probe = probe
        self._lock = threading.Lock()
        self.services: dict[str, dict[str, Any]] = {}  # service id -> registration payload
        self._kv: dict[str, str] = {}

    @override
    def register(self, registration: ServiceRegistration) -> None:
        payload = registration.payload()
        with self._lock:
            self.services[payload["ID"]] = payload

    @override
    def deregister(self, service_id: str) -> None:
        with self._lock:
            self.services.pop(service_id, None)

    @override
    def healthy_instances(self, service: str, tag: str | None = None) -> list[ServiceInstance]:
        with self._lock:
            payloads = [p for p in self.services.values() if p["Name"] == service]
        return [
            ServiceInstance(p["ID"], p["Name"], p["Address"], p["Port"], tuple(p["Tags"]))
            for p in sorted(payloads, key=lambda p: p["ID"])
            if (tag is None or tag in p["Tags"]) and self._passing(p["Check"])
        ]

    def _passing(self, check: dict[str, Any]) -> bool:
        return self.probe is None or bool(self.probe(check["http"]))

    @override
    def kv_get(self, key: str) -> str | None:
        with self._lock:
            return self._kv.get(validate_kv_key(key))

    @override
    def kv_put(self, key: str, value: str, *, only_if_absent: bool = False) -> bool:
        if not isinstance(value, str):
            raise ValidationError("KV values are strings")
        with self._lock:
            if only_if_absent and validate_kv_key(key) in self._kv:
                return False
            self._kv[validate_kv_key(key)] = value
            return True

    @override
    def kv_delete(self, key: str) -> None:
        with self._lock:
            self._kv.pop(validate_kv_key(key), None)


class ConsulServiceRegistry(ServiceRegistry):
    """Registry on a Consul agent through py-consul; the client is built on first use."""

    def __init__(
        self,
        client: Any = None,
        *,
        host: str = "localhost",
        port: int = 8500,
        scheme: str = "http",
        timeout: float = 5.0,
    ) -> None:
        self._client = client
        self.host, self.port, self.scheme, self.timeout = host, port, scheme, timeout
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: InfraSettings | None = None) -> ConsulServiceRegistry:
        """Build a registry on the agent named by SYNAPSE_CONSUL_HOST/PORT/SCHEME."""
        settings = settings or get_infra_settings()
        return cls(
            host=settings.consul_host, port=settings.consul_port, scheme=settings.consul_scheme
        )

    @property
    def client(self) -> Any:
        """Return the py-consul client (building it does not connect)."""
        with self._lock:
            if self._client is None:
                self._client = consul.Consul(
                    host=self.host,
                    port=self.port,
                    scheme=self.scheme,
                    connections_timeout=self.timeout,
                )
            return self._client

    @override
    def register(self, registration: ServiceRegistration) -> None:
        payload = registration.payload()
        with self._errors(f"register {payload['ID']}"):
            self.client.agent.service.register(
                payload["Name"],
                service_id=payload["ID"],
                address=payload["Address"],
                port=payload["Port"],
                tags=payload["Tags"],
                meta=payload["Meta"] or None,
                check=payload["Check"],
            )

    @override
    def deregister(self, service_id: str) -> None:
        with self._errors(f"deregister {service_id}"):
            self.client.agent.service.deregister(service_id)

    @override
    def healthy_instances(self, service: str, tag: str | None = None) -> list[ServiceInstance]:
        with self._errors(f"look up {service}"):
            _, entries = self.client.health.service(service, passing=True, tag=tag)
        instances = [
            ServiceInstance(
                e["Service"]["ID"],
                e["Service"]["Service"],
                e["Service"].get("Address") or e["Node"]["Address"],
                int(e["Service"]["Port"]),
                tuple(e["Service"].get("Tags") or ()),
            )
            for e in entries or ()
        ]
        return sorted(instances, key=lambda i: i.service_id)

    @override
    def kv_get(self, key: str) -> str | None:
        with self._errors(f"read {key}"):
            _, entry = self.client.kv.get(validate_kv_key(key))
        if entry is None or entry.get("Value") is None:
            return None
        value = entry["Value"]
        return value.decode("utf-8") if isinstance(value, bytes) else value

    @override
    def kv_put(self, key: str, value: str, *, only_if_absent: bool = False) -> bool:
        if not isinstance(value, str):
            raise ValidationError("KV values are strings")
        with self._errors(f"write {key}"):
            cas = 0 if only_if_absent else None
            return bool(self.client.kv.put(validate_kv_key(key), value, cas=cas))

    @override
    def kv_delete(self, key: str) -> None:
        with self._errors(f"delete {key}"):
            self.client.kv.delete(validate_kv_key(key))

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except (consul.ConsulException, requests.RequestException) as exc:
            raise ServiceUnavailableError(
                f"Consul at {self.host}:{self.port} could not {action}: {exc}"
            ) from exc


class ConsulDiscovery(ServiceDiscovery):
    """Resolve a service to one of its healthy instances, rotating between them."""

    def __init__(self, registry: ServiceRegistry | None = None, *, tag: str | None = None) -> None:
        self.registry = registry or ConsulServiceRegistry.from_settings()
        self.tag = tag
        self._lock = threading.Lock()
        self._counters: dict[str, Iterator[int]] = {}

    @override
    def resolve(self, service: str) -> str:
        instances = self.registry.healthy_instances(service, tag=self.tag)
        if not instances:
            raise ServiceUnavailableError(f"no healthy instance of service {service!r}")
        with self._lock:
            turn = next(self._counters.setdefault(service, itertools.count()))
        return instances[turn % len(instances)].base_url


@contextmanager
def registered(registry: ServiceRegistry, registration: ServiceRegistration) -> Iterator[str]:
    """Keep an instance registered while the block runs (a service's lifespan); yield its id."""
    registry.register(registration)
    try:
        yield registration.service_id
    finally:
        registry.deregister(registration.service_id)
