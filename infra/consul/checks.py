"""Health checks: TTL checks updated by clients, HTTP and TCP checks probed when due."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSING, WARNING, CRITICAL = "passing", "warning", "critical"
STATUSES = (PASSING, WARNING, CRITICAL)
# Probes run while a client waits for an answer, so they get at most this long.
MAX_PROBE_SECONDS = 2.0


@dataclass
class Check:
    """One health check of the agent, attached to a service or to the node."""

    check_id: str
    name: str
    type: str  # "ttl" | "http" | "tcp" | "" (the node's own check)
    status: str = CRITICAL
    output: str = ""
    notes: str = ""
    service_id: str = ""
    service_name: str = ""
    service_tags: list[str] = field(default_factory=list)
    target: str = ""  # the URL of an HTTP check, host:port of a TCP check
    ttl: float | None = None
    interval: float | None = None
    interval_text: str = ""
    timeout: float = 10.0
    timeout_text: str = ""
    deregister_after: float | None = None
    expires_at: float | None = None
    probed_at: float | None = None
    critical_since: float | None = None
    create_index: int = 0
    modify_index: int = 0

    def to_json(self, node: str) -> dict[str, Any]:
        """Return the check as Consul's agent and health APIs show it."""
        return {
            "Node": node,
            "CheckID": self.check_id,
            "Name": self.name,
            "Status": self.status,
            "Notes": self.notes,
            "Output": self.output,
            "ServiceID": self.service_id,
            "ServiceName": self.service_name,
            "ServiceTags": list(self.service_tags),
            "Type": self.type,
            "Interval": self.interval_text,
            "Timeout": self.timeout_text,
            "ExposedPort": 0,
            "Definition": {},
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
        }


# A prober runs an HTTP or TCP check and returns its (status, output).
Prober = Callable[[Check], tuple[str, str]]


def default_prober(check: Check) -> tuple[str, str]:
    """Probe an HTTP check (GET, 2xx passing, 429 warning) or a TCP check (connect)."""
    timeout = min(check.timeout, MAX_PROBE_SECONDS)
    if check.type == "tcp":
        host, _, port = check.target.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return PASSING, f"TCP connect {check.target}: Success"
        except (OSError, ValueError) as exc:
            return CRITICAL, f"dial tcp {check.target}: {exc}"
    try:
        response = httpx.get(check.target, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        return CRITICAL, f'Get "{check.target}": {exc}'
    code = response.status_code
    text = (
        f"HTTP GET {check.target}: {code} {response.reason_phrase} Output: {response.text[:4096]}"
    )
    if 200 <= code < 300:
        return PASSING, text
    return (WARNING if code == 429 else CRITICAL), text
