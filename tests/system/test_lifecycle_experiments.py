"""Training jobs record their runs in the experiments service; forks of them rerun the same."""

from __future__ import annotations

import pytest

from shared.backends import ports
from shared.events import schema
from tests.utils.events import drain
from tests.utils.platform import PLATFORM_DB

pytestmark = [pytest.mark.experiments, PLATFORM_DB]

EXPERIMENTS = "/api/experiments/api/v1"


def run_of(platform, name: str, version: int) -> dict:
    """Return the experiments run a registry version points at."""
    run_id = platform.version(name, version)["run_id"]
    response = platform.gateway.get(f"{EXPERIMENTS}/runs/{run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def history(platform, run_id: str, key: str) -> list[float]:
    response = platform.gateway.get(f"{EXPERIMENTS}/runs/{run_id}/metrics", params={"key": key})
    return [point["value"] for point in response.json()]


def rerun(platform, name: str, run: dict) -> dict:
    """Train again from a run's record: its params, dataset and seed."""
    params = dict(run["params"])
    dataset = params.pop("dataset")
    if run["seed"] is not None:
        params["seed"] = run["seed"]
    body = {"model_name": name, "dataset": dataset, "hyperparams": params}
    accepted = platform.gateway.post("/api/training/api/v1/jobs", json=body)
    assert accepted.status_code == 202, accepted.text
    job = platform.gateway.get(f"/api/training/api/v1/jobs/{accepted.json()['id']}").json()
    assert job["status"] == "succeeded", job
    return run_of(platform, name, int(job["model_version"]))


def test_training_job_records_a_finished_run_with_its_seed_and_params(platform):
    trained = platform.train("churn", seed=11, lr=0.05)
    run = run_of(platform, "churn", trained.version)
    assert (run["status"], run["seed"], run["experiment"]) == ("finished", 11, "churn")
    assert run["params"]["lr"] == 0.05 and "seed" not in run["params"]


def test_training_job_logs_one_point_per_epoch(platform):
    trained = platform.train("churn", epochs=4)
    run = run_of(platform, "churn", trained.version)
    logged = history(platform, run["run_id"], "val_loss")
    assert logged == pytest.approx([epoch["val_loss"] for epoch in trained.job["history"]])


def test_finished_training_run_is_announced(platform):
    consumer = ports().bus.subscribe("experiments.runs", group_id="system")
    trained = platform.train("churn", seed=5)
    run = run_of(platform, "churn", trained.version)
    events = [schema.read_event(event) for event in drain(consumer)]
    assert [(e.data["run_id"], e.data["status"], e.data["seed"]) for e in events] == [
        (run["run_id"], "finished", 5)
    ]


def test_rerun_of_a_forked_run_reproduces_its_metrics(platform):
    trained = platform.train("churn", seed=21)
    original = run_of(platform, "churn", trained.version)
    fork = platform.gateway.post(f"{EXPERIMENTS}/runs/{original['run_id']}/fork", json={})
    assert fork.status_code == 201, fork.text
    again = rerun(platform, "churn", fork.json())
    assert history(platform, again["run_id"], "val_loss") == history(
        platform, original["run_id"], "val_loss"
    )


def fork(platform, run_id: str, name: str, *, seed: int | None = None, **params) -> dict:
    """Fork a run as a tracking client sends it: a new name and the params it changes."""
    body = {"name": name, "seed": seed, "params": params}
    response = platform.gateway.post(f"{EXPERIMENTS}/runs/{run_id}/fork", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_fork_with_another_learning_rate_retrains_like_a_job_with_that_rate(platform):
    original = run_of(platform, "churn", platform.train("churn", seed=21, epochs=2).version)
    forked = fork(platform, original["run_id"], "churn-lr-0.3", lr=0.3)
    again = rerun(platform, "churn", forked)
    direct = platform.train("churn", seed=21, epochs=2, lr=0.3)
    assert history(platform, again["run_id"], "val_loss") == pytest.approx(
        [epoch["val_loss"] for epoch in direct.job["history"]]
    )


def test_runs_of_two_learning_rates_compare_on_that_param_only(platform):
    first = run_of(platform, "churn", platform.train("churn", lr=0.1).version)
    second = run_of(platform, "churn", platform.train("churn", lr=0.3).version)
    body = {"run_ids": [first["run_id"], second["run_id"]]}
    comparison = platform.gateway.post(f"{EXPERIMENTS}/runs/compare", json=body).json()
    assert comparison["differing_params"] == ["lr"]
    assert {row["key"] for row in comparison["metrics"]} >= {"train_loss", "val_loss"}
