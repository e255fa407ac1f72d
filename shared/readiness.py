"""Readiness checks shared by every service: run named checks and answer /ready.

``/health`` says the process is alive; ``/ready`` says it can do its work now: its database
answers and holds its tables, its broker has a worker, the services it depends on are ready.
A check returns None when it passes and a short reason when it does not; an exception raised
by a check counts as a failure with the exception's type as the reason, so one broken check
never hides the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shared.utils.distributed import LockBackendUnavailableError, LockFactory

ReadinessCheck = Callable[[], str | None]
READY_PATH = "/ready"
NOT_READY_CODE = "not_ready"
logger = logging.getLogger("synapse.readiness")


@dataclass(frozen=True)
class ReadinessReport:
    """The outcome of every check of one service, by check name."""

    service: str
    failures: dict[str, str] = field(default_factory=dict)
    passed: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """Return whether every check passed."""
        return not self.failures

    @property
    def status_code(self) -> int:
        """Return the HTTP status of the report: 200 when ready, else 503."""
        return 200 if self.ready else 503

    def to_body(self) -> dict[str, Any]:
        """Return the /ready body: per-check detail, plus a problem's fields when not ready."""
        checks: dict[str, dict[str, str]] = {name: {"status": "ok"} for name in self.passed}
        for name, reason in self.failures.items():
            checks[name] = {"status": "failing", "detail": reason}
        body: dict[str, Any] = {
            "service": self.service,
            "status": "ready" if self.ready else "unavailable",
            "checks": dict(sorted(checks.items())),
        }
        if not self.ready:
            failing = sorted(self.failures)
            body["error"] = NOT_READY_CODE
            body["detail"] = f"{self.service} is not ready: {', '.join(failing)} failing"
            body["failing"] = failing
        return body


def run_checks(service: str, checks: Mapping[str, ReadinessCheck]) -> ReadinessReport:
    """Run every check once and collect which passed and why the others failed."""
    failures: dict[str, str] = {}
    passed: list[str] = []
    for name, check in checks.items():
        reason = _outcome(name, check)
        if reason is None:
            passed.append(name)
        else:
            failures[name] = reason
    return ReadinessReport(service, failures, tuple(passed))


def _outcome(name: str, check: ReadinessCheck) -> str | None:
    try:
        return check()
    except Exception as exc:
        # A check that crashes means "not ready"; its message may hold secrets (URLs with
        # passwords), so the answer names the type and the log keeps the rest.
        logger.warning("readiness check %s raised", name, exc_info=True)
        return f"check raised {type(exc).__name__}"


def locks_check(locks: Callable[[], LockFactory]) -> ReadinessCheck:
    """Return a check that the lock backend answers (a service whose writes take locks)."""

    def check() -> str | None:
        try:
            locks().ping()
        except LockBackendUnavailableError as exc:
            return f"lock backend unreachable ({type(exc.__cause__ or exc).__name__})"
        return None

    return check


def missing_tables(engine: Engine, expected: Iterable[str]) -> list[str]:
    """Return the expected table names the database does not have, sorted."""
    present = set(inspect(engine).get_table_names())
    return sorted(set(expected) - present)


def tables_check(engine: Engine | None, expected: Iterable[str]) -> ReadinessCheck:
    """Return a check that the database answers and holds every expected table."""
    names = tuple(expected)

    def check() -> str | None:
        if engine is None:
            return "no database engine is configured"
        try:
            missing = missing_tables(engine, names)
        except SQLAlchemyError as exc:
            return f"database unreachable ({type(exc).__name__})"
        if missing:
            return f"missing tables: {', '.join(missing)}"
        return None

    return check


def schema_check(session_factory: sessionmaker[Session], metadata: MetaData) -> ReadinessCheck:
    """Return a check that the session factory's database holds every table of ``metadata``."""
    bind = session_factory.kw.get("bind")
    return tables_check(bind if isinstance(bind, Engine) else None, metadata.tables)
