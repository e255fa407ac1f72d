"""The stand-in's state: one node, its services and checks, the KV store and the index."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.consul.checks import CRITICAL, PASSING, Check, Prober, default_prober
from infra.consul.durations import parse_duration
from infra.consul.index import IndexClock
from infra.consul.kv import KVStore

SERF_CHECK = "serfHealth"


class UnknownError(LookupError):
    """A service or check id the agent does not know (404)."""


class DefinitionError(ValueError):
    """A registration body Consul would refuse (400)."""


@dataclass
class ServiceEntry:
    """One registered service instance."""

    service_id: str
    name: str
    tags: list[str] = field(default_factory=list)
    address: str = ""
    port: int = 0
    meta: dict[str, str] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=lambda: {"Passing": 1, "Warning": 1})
    enable_tag_override: bool = False
    create_index: int = 0
    modify_index: int = 0


def fold(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return a mapping keyed case- and underscore-insensitively, as Consul decodes JSON."""
    return {str(k).lower().replace("_", ""): v for k, v in body.items()}


class ConsulAgent:
    """Thread-safe state of a single-node Consul agent; `clock` drives TTLs and probes."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        prober: Prober = default_prober,
        node: str = "synapse-dev",
        datacenter: str = "dc1",
        address: str = "127.0.0.1",
    ) -> None:
        self.clock = clock
        self.prober = prober
        self.node, self.datacenter, self.address = node, datacenter, address
        self.index = IndexClock(start=10)
        self.kv = KVStore(self.index)
        self.services: dict[str, ServiceEntry] = {}
        self.checks: dict[str, Check] = {}
        serf = Check(SERF_CHECK, "Serf Health Status", "", PASSING, "Agent alive and reachable")
        serf.create_index = serf.modify_index = self.index.current
        self.node_checks = [serf]

    # -- services -------------------------------------------------------------------------

    def register_service(
        self, body: Mapping[str, Any], replace_existing_checks: bool = False
    ) -> None:
        """Add or replace a service and the checks its definition carries."""
        spec = fold(body)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise DefinitionError("Missing service name")
        service_id = spec.get("id") or name
        definitions = self._check_definitions(spec)
        with self.index.lock:
            index = self.index.bump()
            old = self.services.get(service_id)
            entry = ServiceEntry(
                service_id,
                name,
                list(spec.get("tags") or []),
                spec.get("address") or "",
                int(spec.get("port") or 0),
                dict(spec.get("meta") or {}),
                _weights(spec.get("weights")),
                bool(spec.get("enabletagoverride", False)),
                old.create_index if old else index,
                index,
            )
            self.services[service_id] = entry
            wanted = set()
            for position, definition in enumerate(definitions, start=1):
                check_id = (
                    definition.get("checkid")
                    or definition.get("id")
                    or (f"service:{service_id}" + (f":{position}" if len(definitions) > 1 else ""))
                )
                wanted.add(check_id)
                self._add_check(check_id, definition, entry, index)
            if replace_existing_checks:
                for check in list(self.checks.values()):
                    if check.service_id == service_id and check.check_id not in wanted:
                        del self.checks[check.check_id]

    def _check_definitions(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        found = []
        if isinstance(spec.get("check"), Mapping) and spec["check"]:
            found.append(spec["check"])
        found.extend(item for item in spec.get("checks") or [] if isinstance(item, Mapping))
        return [fold(item) for item in found]

    def deregister_service(self, service_id: str) -> None:
        """Remove a service and its checks."""
        with self.index.lock:
            if service_id not in self.services:
                raise UnknownError(
                    f'Unknown service ID "{service_id}". '
                    "Ensure that the service ID is passed, not the service name."
                )
            self._drop_service(service_id)

    def _drop_service(self, service_id: str) -> None:
        del self.services[service_id]
        for check_id in [c.check_id for c in self.checks.values() if c.service_id == service_id]:
            del self.checks[check_id]
        self.index.bump()

    # -- checks ---------------------------------------------------------------------------

    def register_check(self, body: Mapping[str, Any]) -> None:
        """Add a check from /v1/agent/check/register, optionally bound to a service."""
        spec = fold(body)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise DefinitionError("Missing check name")
        check_id = spec.get("checkid") or spec.get("id") or name
        with self.index.lock:
            service = None
            if spec.get("serviceid"):
                service = self.services.get(spec["serviceid"])
                if service is None:
                    raise DefinitionError(f"ServiceID {spec['serviceid']!r} does not exist")
            self._add_check(check_id, spec, service, self.index.bump())

    def _add_check(
        self, check_id: str, spec: dict[str, Any], service: ServiceEntry | None, index: int
    ) -> None:
        check = _check_from(check_id, spec, service)
        previous = self.checks.get(check_id)
        if previous is not None and previous.type == check.type:
            # Re-registration keeps what the check last reported, as Consul's agent does.
            check.status, check.output = previous.status, previous.output
            check.expires_at, check.probed_at = previous.expires_at, previous.probed_at
            check.critical_since = previous.critical_since
            check.create_index = previous.create_index
        else:
            check.create_index = index
            check.critical_since = self.clock() if check.status == CRITICAL else None
            if check.type == "ttl":
                # The TTL runs from registration: no report within it means critical.
                check.expires_at = self.clock() + (check.ttl or 0.0)
        check.modify_index = index
        self.checks[check_id] = check

    def deregister_check(self, check_id: str) -> None:
        """Remove one check."""
        with self.index.lock:
            if check_id not in self.checks:
                raise UnknownError(f'Unknown check ID "{check_id}"')
            del self.checks[check_id]
            self.index.bump()

    def update_ttl(self, check_id: str, status: str, output: str = "") -> None:
        """Report a TTL check's status; it turns critical when its TTL passes unrefreshed."""
        with self.index.lock:
            check = self.checks.get(check_id)
            if check is None:
                raise UnknownError(f'Unknown check ID "{check_id}"')
            if check.type != "ttl":
                raise TypeError(f'CheckID "{check_id}" does not have associated TTL')
            check.expires_at = self.clock() + (check.ttl or 0.0)
            self._set_status(check, status, output)

    def _set_status(self, check: Check, status: str, output: str) -> None:
        if check.status == status and check.output == output:
            return
        if status == CRITICAL and check.status != CRITICAL:
            check.critical_since = self.clock()
        elif status != CRITICAL:
            check.critical_since = None
        check.status, check.output = status, output
        check.modify_index = self.index.bump()

    def refresh(self, probe: bool = True) -> None:
        """Expire TTLs, run due HTTP/TCP probes and reap long-critical services."""
        now = self.clock()
        with self.index.lock:
            for check in self.checks.values():
                if check.type == "ttl" and check.expires_at is not None and now >= check.expires_at:
                    check.expires_at = None
                    self._set_status(check, CRITICAL, "TTL expired")
            due = [c for c in self.checks.values() if probe and _probe_due(c, now)]
        for check in due:
            status, output = self.prober(check)
            with self.index.lock:
                if self.checks.get(check.check_id) is check:
                    check.probed_at = now
                    self._set_status(check, status, output)
        self._reap(now)

    def _reap(self, now: float) -> None:
        with self.index.lock:
            for check in list(self.checks.values()):
                after, since = check.deregister_after, check.critical_since
                if after is None or since is None or check.status != CRITICAL:
                    continue
                if now - since >= after and check.service_id in self.services:
                    self._drop_service(check.service_id)

    def service_checks(self, service_id: str) -> list[Check]:
        """Return the checks bound to one service instance."""
        return [c for c in self.checks.values() if c.service_id == service_id]


def _probe_due(check: Check, now: float) -> bool:
    if check.type not in ("http", "tcp"):
        return False
    return check.probed_at is None or now - check.probed_at >= (check.interval or 0.0)


def _weights(raw: object) -> dict[str, int]:
    weights = fold(raw) if isinstance(raw, Mapping) else {}
    return {"Passing": int(weights.get("passing", 1)), "Warning": int(weights.get("warning", 1))}


def _check_from(check_id: str, spec: dict[str, Any], service: ServiceEntry | None) -> Check:
    name = spec.get("name") or (f"Service '{service.name}' check" if service else check_id)
    check = Check(check_id, name, "", notes=spec.get("notes") or "")
    if service is not None:
        check.service_id, check.service_name = service.service_id, service.name
        check.service_tags = list(service.tags)
    try:
        if spec.get("ttl"):
            check.type, check.ttl = "ttl", parse_duration(spec["ttl"])
        elif spec.get("http") or spec.get("tcp"):
            check.type = "http" if spec.get("http") else "tcp"
            check.target = str(spec.get("http") or spec.get("tcp"))
            if not spec.get("interval"):
                raise DefinitionError(
                    "Interval must be > 0 for Script, HTTP, H2PING, or TCP checks"
                )
            check.interval_text = str(spec["interval"])
            check.interval = parse_duration(spec["interval"])
            if spec.get("timeout"):
                check.timeout_text = str(spec["timeout"])
                check.timeout = parse_duration(spec["timeout"])
        else:
            raise DefinitionError("Check types that are supported: TTL, HTTP, TCP")
        if spec.get("deregistercriticalserviceafter"):
            check.deregister_after = parse_duration(spec["deregistercriticalserviceafter"])
    except ValueError as exc:
        if isinstance(exc, DefinitionError):
            raise
        raise DefinitionError(str(exc)) from None
    status = spec.get("status")
    if status in (PASSING, "warning", CRITICAL):
        check.status = status
    return check
