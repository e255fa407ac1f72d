"""Inference readiness: wait for the registry at startup and gate the API until it answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.errors import ServiceUnavailableError


class Readiness:
    """Wait for the registry at startup with bounded, backed-off /health probes."""

    def __init__(
        self,
        probe: Callable[[], bool],
        *,
        attempts: int,
        backoff: float,
        max_backoff: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.state = "starting"
        self.probes = 0
        self._probe = probe
        self._attempts = attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep

    @property
    def ready(self) -> bool:
        """Return whether the registry answered and the service may serve."""
        return self.state == "ready"

    def wait(self) -> bool:
        """Probe until the registry is healthy or attempts run out; return readiness."""
        for attempt in range(1, self._attempts + 1):
            self.probes += 1
            if self._probe():
                self.state = "ready"
                return True
            if attempt < self._attempts:
                self._sleep(min(self._backoff * 2 ** (attempt - 1), self._max_backoff))
        self.state = "unavailable"
        return False

    def health(self) -> dict[str, Any]:
        """Report the readiness state for /health (503 until ready)."""
        if self.ready:
            return {"registry": "ok"}
        detail = "waiting for the registry"
        if self.state == "unavailable":
            detail = f"registry not ready after {self.probes} probes"
        return {"healthy": False, "status": self.state, "detail": detail}

    def check(self) -> str | None:
        """Return None when the registry answered at startup and still does (for /ready)."""
        if not self.ready:
            return str(self.health()["detail"])
        if not self._probe():
            return "the registry no longer answers ready"
        return None

    def require(self) -> None:
        """Raise 503 unless the service is ready to serve."""
        if not self.ready:
            raise ServiceUnavailableError(f"inference is {self.state}: registry not ready")
