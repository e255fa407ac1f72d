"""Experiments test helpers: the service through the Django test client, and request factories.

    import pytest
    from tests.utils.experiments import EXPERIMENTS_DB, ExperimentsAPI

    pytestmark = [pytest.mark.experiments, EXPERIMENTS_DB]

    def test_run_starts_running():
        api = ExperimentsAPI()
        run = api.start(params={"lr": 0.1})
        assert run["status"] == "running"

Every test starts with an empty experiments_db; its writes are rolled back. Requests carry
JSON bodies; ``api.post`` returns the response, the helpers named after actions assert the
expected status and return the body.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tests.utils.django_api import DjangoServiceAPI

EXPERIMENTS_DB = pytest.mark.django_db(databases="__all__")
EXPERIMENTS_BASE_URL = "http://experiments"
RUNS = "/api/v1/runs"
DEFAULT_EXPERIMENT = "churn-search"


def experiments_wsgi_app() -> Any:
    """Return the experiments service's WSGI app (Django set up, its URLconf only)."""
    from services.django_project.wsgi import get_wsgi_application_for

    return get_wsgi_application_for("experiments")


def run_url(run_id: str, action: str | None = None) -> str:
    """Return the path of a run or one of its actions."""
    return f"{RUNS}/{run_id}" + (f"/{action}" if action else "")


def point(key: str, value: Any, step: int | None = None, **extra: Any) -> dict[str, Any]:
    """Return one metric point of a batch."""
    body: dict[str, Any] = {"key": key, "value": value, **extra}
    if step is not None:
        body["step"] = step
    return body


class ExperimentsAPI(DjangoServiceAPI):
    """The experiments service as a client sees it, through the Django test client."""

    service = "experiments"

    def start(self, experiment: str = DEFAULT_EXPERIMENT, **fields: Any) -> dict[str, Any]:
        """Start a run and return its body."""
        return self.ok(self.post(RUNS, {"experiment": experiment, **fields}), 201)

    def end(self, run_id: str, status: str = "finished", **fields: Any) -> dict[str, Any]:
        """End a run and return its body."""
        return self.ok(self.post(run_url(run_id, "end"), {"status": status, **fields}))

    def log(self, run_id: str, points: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """Log a batch of metric points and return the answer."""
        return self.ok(self.post(run_url(run_id, "metrics"), {"points": list(points)}), 201)

    def history(self, run_id: str, key: str) -> list[dict[str, Any]]:
        """Return one metric's points."""
        return self.ok(self.get(run_url(run_id, "metrics"), key=key))

    def runs(self, **params: Any) -> dict[str, Any]:
        """Return a page of the run listing."""
        return self.ok(self.get(RUNS, **params))

    def fork(self, run_id: str, **fields: Any) -> dict[str, Any]:
        """Fork a run and return the fork."""
        return self.ok(self.post(run_url(run_id, "fork"), fields), 201)

    def compare(self, *run_ids: str) -> dict[str, Any]:
        """Compare runs and return the comparison."""
        return self.ok(self.post(f"{RUNS}/compare", {"run_ids": list(run_ids)}))

    def finished_run(self, finished_at: str, **fields: Any) -> dict[str, Any]:
        """Start a run and end it at ``finished_at``; return the ended run."""
        run = self.start(**fields)
        return self.end(run["run_id"], finished_at=finished_at)


@pytest.fixture
def experiments_api(db: None) -> ExperimentsAPI:
    """Return the experiments service's test client (the test gets database access)."""
    return ExperimentsAPI()
