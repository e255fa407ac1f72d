"""What each kind of step does, behind one injectable table from kind to executor.

An executor takes the step's context and returns its output (a JSON object). Raising
``RetryableStepError`` or a 5xx platform error asks for another attempt; any other error
fails the step at once. The default table reaches the other services through their typed
clients (storage, features, training, registry); tests install in-process fakes or apps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from services.pipeline.windows import Record, aggregate, parse_records
from shared.errors import SynapseError


class RetryableStepError(SynapseError):
    """A step failed for a reason that may pass (an upstream not ready, a job still running)."""

    status_code = 503
    code = "step_retryable"


class StepFailedError(SynapseError):
    """A step failed for a reason another attempt cannot fix (bad data, a metric too low)."""

    status_code = 422
    code = "step_failed"


@dataclass(frozen=True)
class StepContext:
    """Everything a step may use: its declaration, the run and its upstream steps' outputs."""

    run_id: str
    pipeline: str
    version: int
    step: str
    kind: str
    params: Mapping[str, Any]
    dataset: str
    dataset_version: str
    seed: int
    attempt: int
    upstream: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # What earlier attempts of this step recorded with ``remember`` (empty on a first attempt).
    checkpoint: Mapping[str, Any] = field(default_factory=dict)
    save: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False, repr=False)

    def remember(self, **values: Any) -> None:
        """Record progress the step's later attempts resume from; stored before it returns."""
        if self.save is not None:
            self.save(values)

    def upstream_output(self, kind_key: str) -> Mapping[str, Any] | None:
        """Return the first upstream output holding ``kind_key`` (upstream steps by name)."""
        for name in sorted(self.upstream):
            if kind_key in self.upstream[name]:
                return self.upstream[name]
        return None


Executor = Callable[[StepContext], dict[str, Any]]


class DatasetReader(Protocol):
    """Where the records of a dataset version come from: one list per partition."""

    def partitions(self, dataset: str, version: str) -> list[list[Any]]:
        """Return the version's raw records, one list per partition in arrival order."""


class StorageDatasetReader:
    """Read a dataset version's objects (JSON lines, one object per partition) from storage."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def partitions(self, dataset: str, version: str) -> list[list[Any]]:
        """Download each object of the version's manifest and parse its lines."""
        record = self.client.dataset_version(dataset, version)
        parts = []
        for entry in record["objects"]:
            text = self.client.get(record.get("namespace", "datasets"), entry["key"])
            parts.append([_json_line(line) for line in text.decode("utf-8").splitlines() if line])
        return parts


def _json_line(line: str) -> Any:
    try:
        return json.loads(line, parse_constant=lambda _: None)
    except ValueError:
        return None


def stable_int(*parts: str) -> int:
    """Return a 32-bit number determined only by ``parts``."""
    text = "\x1f".join(parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def _partitions(reader: DatasetReader, ctx: StepContext) -> tuple[list[list[Record]], int]:
    partitions, invalid = [], 0
    for number, raw in enumerate(reader.partitions(ctx.dataset, ctx.dataset_version)):
        parsed, bad = parse_records(raw, number)
        partitions.append(parsed)
        invalid += bad
    return partitions, invalid


def validate_step(reader: DatasetReader) -> Executor:
    """Check the dataset version has enough usable records."""

    def run(ctx: StepContext) -> dict[str, Any]:
        partitions, invalid = _partitions(reader, ctx)
        usable = sum(len(partition) for partition in partitions)
        minimum = int(ctx.params.get("min_records", 1))
        if usable < minimum:
            raise StepFailedError(f"{usable} usable records, at least {minimum} needed")
        return {"records": usable, "invalid_records": invalid, "partitions": len(partitions)}

    return run


def transform_step(reader: DatasetReader) -> Executor:
    """Aggregate the records into event-time tumbling windows with allowed lateness."""

    def run(ctx: StepContext) -> dict[str, Any]:
        partitions, invalid = _partitions(reader, ctx)
        size = timedelta(seconds=float(ctx.params.get("window_seconds", 3600)))
        lateness = timedelta(seconds=float(ctx.params.get("allowed_lateness_seconds", 0)))
        if size <= timedelta(0) or lateness < timedelta(0):
            raise StepFailedError("window_seconds must be positive and lateness not negative")
        result = aggregate(partitions, size, lateness)
        result.invalid = invalid
        return result.to_dict()

    return run


def materialize_step(features: Any) -> Executor:
    """Materialise the feature views the step names into the online store."""

    def run(ctx: StepContext) -> dict[str, Any]:
        views = [str(view) for view in ctx.params.get("feature_views", [])]
        rows = {view: int(features.materialize(view).get("rows", 0)) for view in views}
        return {"feature_views": views, "rows": rows}

    return run


def training_payload(ctx: StepContext) -> dict[str, Any]:
    """Return the training job a train step submits: the run's data and seed, the step's model."""
    params = dict(ctx.params)
    dataset = dict(params.get("dataset") or {"n_samples": 64, "n_features": 4})
    hyperparams = dict(params.get("hyperparams") or {})
    dataset["seed"] = stable_int(ctx.dataset, ctx.dataset_version)
    hyperparams["seed"] = ctx.seed
    return {
        "model_name": str(params.get("model_name") or ctx.pipeline),
        "dataset": dataset,
        "hyperparams": hyperparams,
    }


def train_step(training: Any) -> Executor:
    """Submit one training job per run and step; later attempts wait on that same job."""

    def run(ctx: StepContext) -> dict[str, Any]:
        job_id = ctx.checkpoint.get("job_id")
        if job_id is None:
            job_id = str(training.submit_job(training_payload(ctx))["id"])
            ctx.remember(job_id=job_id)
        job = training.get_job(job_id)
        if job["status"] in ("queued", "running"):
            raise RetryableStepError(f"training job {job['id']} is {job['status']}")
        if job["status"] != "succeeded":
            raise StepFailedError(f"training job {job['id']} failed: {job.get('error')}")
        return {
            "job_id": job["id"],
            "model_name": job["model_name"],
            "model_version": job["model_version"],
            "metrics": job.get("metrics") or {},
        }

    return run


def evaluate_step(ctx: StepContext) -> dict[str, Any]:
    """Hold the trained model's metrics against the step's thresholds."""
    trained = ctx.upstream_output("metrics")
    if trained is None:
        raise StepFailedError("evaluate needs an upstream train step")
    metrics = {k: Decimal(str(v)) for k, v in trained["metrics"].items()}
    thresholds = ctx.params.get("min", {})
    missed = sorted(
        name
        for name, floor in thresholds.items()
        if metrics.get(name) is None or metrics[name] < Decimal(str(floor))
    )
    if missed:
        raise StepFailedError(f"metrics below their thresholds: {', '.join(missed)}")
    return {"passed": True, "metrics": dict(trained["metrics"])}


def register_step(registry: Any) -> Executor:
    """Confirm the trained version is in the registry and record it as the run's model."""

    def run(ctx: StepContext) -> dict[str, Any]:
        trained = ctx.upstream_output("model_version")
        if trained is None or trained.get("model_version") is None:
            raise StepFailedError("register needs an upstream train step that registered a version")
        record = registry.get_version(trained["model_name"], int(trained["model_version"]))
        return {"model": trained["model_name"], "model_version": int(record["version"])}

    return run


def default_executors(
    *, reader: DatasetReader, features: Any, training: Any, registry: Any
) -> dict[str, Executor]:
    """Return the table of kinds the service runs with, built on the given clients."""
    return {
        "validate": validate_step(reader),
        "transform": transform_step(reader),
        "materialize": materialize_step(features),
        "train": train_step(training),
        "evaluate": evaluate_step,
        "register": register_step(registry),
    }


def lineage_of(output: Mapping[str, Any]) -> Iterable[tuple[str, str, int | None]]:
    """Yield what a step's output derived: (kind, name, version) of views and model versions."""
    for view in output.get("feature_views", []):
        yield "feature_view", str(view), None
    if "model" in output and output.get("model_version") is not None:
        yield "model_version", str(output["model"]), int(output["model_version"])
