"""Whether a port's adapter is shared between processes: the start-up statement and the refusal.

A lock or cache that guards work is only as wide as its backend: the in-memory adapters hold
their state inside one process, so two processes each holding "the" lock of a model both
train it. A service states at start-up, for every such guard, which backend serves it and
why that is safe, and refuses to start when more than one process can run the guarded work
on a process-local backend.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from shared.backends import BACKENDS, backend_name, load_class
from shared.errors import SynapseError
from shared.infra_settings import InfraSettings

logger = logging.getLogger("synapse.backends")

# Backend names whose state lives inside the process that created the adapter.
PROCESS_LOCAL = frozenset({"memory"})
# The shared backend to name in advice, per port that has one.
SHARED_CHOICE = {"locks": "redis", "cache": "redis"}


class BackendScopeError(SynapseError):
    """Raised at start-up when work run by several processes is guarded in one process only."""

    code = "process_local_backend"


@dataclass(frozen=True)
class Scope:
    """Which backend serves a port, and whether its state stays inside this process."""

    port: str
    backend: str
    process_local: bool

    @property
    def label(self) -> str:
        """Return e.g. "locks backend 'memory' (this process only)"."""
        reach = "this process only" if self.process_local else "shared by every process"
        return f"{self.port} backend {self.backend!r} ({reach})"


def scope_of(port: str, adapter: object, settings: InfraSettings | None = None) -> Scope:
    """Return the scope of an adapter in use, or of the configured backend when it is None."""
    if adapter is None:
        name = backend_name(port, settings)
        return Scope(port, name, name in PROCESS_LOCAL)
    # Process-local classes first: a test double deriving from one is process-local too.
    for name in sorted(BACKENDS[port], key=lambda n: n not in PROCESS_LOCAL):
        if isinstance(adapter, cast(type, load_class(port, name))):
            return Scope(port, name, name in PROCESS_LOCAL)
    # An adapter of no registered backend (a test double, a custom store) is taken at its word.
    return Scope(port, type(adapter).__name__, bool(getattr(adapter, "process_local", False)))


@dataclass(frozen=True)
class Guard:
    """A lock or cache of one service, and where the work it guards runs."""

    service: str
    what: str
    scope: Scope
    # True when more than one process can run the guarded work at the same time.
    many_processes: bool
    # Where the work runs, in words ("jobs run inside this API process").
    where: str
    # True when a copy per process is correct by design (say why in ``where``).
    per_process: bool = False

    @property
    def unsafe(self) -> bool:
        """Return whether several processes would each guard the work with their own copy."""
        return self.scope.process_local and self.many_processes and not self.per_process

    def advice(self) -> str:
        """Return how to configure a shared backend for this guard's port."""
        shared = SHARED_CHOICE.get(self.scope.port, "a shared backend")
        variable = f"SYNAPSE_{self.scope.port.upper()}_BACKEND"
        return f"set {variable}={shared} and SYNAPSE_REDIS_URL; `python -m infra env` sets both"


def statement(guard: Guard) -> str:
    """Return the one-line start-up statement of a guard's backend and why it is (un)safe."""
    head = f"{guard.service}: {guard.what} uses {guard.scope.label}"
    if not guard.scope.process_local:
        return f"{head}; safe: {guard.where}"
    if guard.per_process:
        return f"{head}; safe per process: {guard.where}"
    if guard.many_processes:
        return (
            f"{head}, but {guard.where}: each process would keep its own copy, so two "
            "processes could do the guarded work at once; refusing to start"
        )
    return f"{head}; safe only while {guard.where} (tests and single-process runs)"


def announce(guard: Guard) -> str:
    """Log the guard's statement; raise BackendScopeError when it cannot guard the work."""
    text = statement(guard)
    if guard.unsafe:
        raise BackendScopeError(
            f"{text}; {guard.advice()}",
            details={"port": guard.scope.port, "backend": guard.scope.backend},
        )
    # The warning is for the choice that holds only in one process: tests and demos.
    level = logging.INFO if guard.per_process or not guard.scope.process_local else logging.WARNING
    logger.log(level, text)
    return text
