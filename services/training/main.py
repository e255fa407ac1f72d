"""Training service: the jobs API and the job run (lock, train, save, register, record)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from celery import Celery
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from services.training import store
from services.training.celery_app import make_celery_app
from services.training.config import Settings, get_settings
from services.training.events import announcing
from services.training.feature_sets import load_training_set
from services.training.locking import announce_api_locks, restate_when_ready, worker_lock_guard
from services.training.outputs import upload_job_outputs
from services.training.readiness import QueueProbe
from services.training.schemas import (
    DatasetSpec,
    FeatureSetSpec,
    Hyperparams,
    JobAccepted,
    JobCreate,
    JobList,
    JobOut,
)
from services.training.tasks import dispatch_run_job
from shared.backend_scope import announce
from shared.backends import get_bus, get_locks, get_storage
from shared.clients.experiments import ExperimentsClient, ExperimentTracker
from shared.clients.features import FeaturesClient, FeatureSource
from shared.clients.registry import ModelRegistry, RegistryClient
from shared.clients.storage import service_store
from shared.db import make_engine, make_session_factory, session_scope
from shared.errors import ConflictError, ServiceUnavailableError, SynapseError, ValidationError
from shared.ml.checkpoint import CheckpointManager
from shared.ml.data import Dataset, make_dataset
from shared.ml.files import resolve_inside
from shared.ml.model_loader import save_model
from shared.ml.trainer import TrainConfig, TrainResult, train
from shared.problems import problems
from shared.readiness import locks_check, schema_check
from shared.storage.base import ObjectStore
from shared.utils.distributed import DistributedLock, LockFactory
from shared.utils.timeutils import utcnow
from shared.web import create_service_app, include_routes

Clock = Callable[[], datetime]
Trainer = Callable[..., TrainResult]
Dispatch = Callable[[str], None]

JOBS_PATH = "/api/v1/jobs"
ARTIFACT_NAME = "model.npz"
CHECKPOINT_DIR = "checkpoints"
# One path segment: no separators, no leading dot, so "..", "a/b" and "/etc" are refused.
SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
DEFAULT_ARCHITECTURE = {"classification": "logistic", "regression": "linear"}
ARCHITECTURE_TASKS = {"logistic": "classification", "linear": "regression"}


class LockLostError(ConflictError):
    """Raised when a job no longer holds its model lock (its lease ran out)."""

    code = "lock_lost"


@dataclass
class TrainingDeps:
    """Everything a job run needs; tests build it with doubles."""

    session_factory: sessionmaker[Session]
    registry: ModelRegistry
    lock_factory: LockFactory
    artifact_root: Path
    lock_ttl: float = 900.0
    lock_timeout: float | None = 60.0
    clock: Clock = utcnow
    trainer: Trainer = train
    keep_checkpoints: int = 3
    storage: ObjectStore | None = None
    # Where jobs record their runs (params, seed, per-epoch metrics, status); None: nowhere.
    tracker: ExperimentTracker | None = None
    # Where feature-store jobs pull their training sets from; None: such jobs are refused.
    features: FeatureSource | None = None

    def now(self) -> datetime:
        """Return the clock's time in UTC."""
        return self.clock().astimezone(UTC)


def lock_name(model_name: str) -> str:
    """Return the name of the lock that serialises the jobs of one model."""
    return f"training:model:{model_name}"


def check_segment(label: str, value: str) -> str:
    """Return ``value`` when it is one safe path segment, else raise ValidationError."""
    if not SAFE_SEGMENT.fullmatch(value):
        raise ValidationError(f"{label} {value!r} is not a safe path segment")
    return value


def job_directory(root: Path, model_name: str, job_id: str) -> Path:
    """Return ``<root>/<model>/<job>``, refusing names that would leave the root."""
    check_segment("model_name", model_name)
    check_segment("job id", job_id)
    return resolve_inside(Path(model_name) / job_id, root)


def architecture_of(hyperparams: Hyperparams, dataset: DatasetSpec | FeatureSetSpec) -> str:
    """Return the model architecture, defaulting by the dataset's task."""
    task = "regression" if "regression" in dataset.kind else "classification"
    arch = hyperparams.architecture or DEFAULT_ARCHITECTURE[task]
    if ARCHITECTURE_TASKS.get(arch, task) != task:
        raise ValidationError(f"architecture {arch!r} cannot learn a {task} dataset")
    return arch


def build_train_config(
    hyperparams: Hyperparams, dataset: DatasetSpec | FeatureSetSpec
) -> TrainConfig:
    """Translate the API hyperparameters into the trainer's configuration."""
    return TrainConfig(
        model=architecture_of(hyperparams, dataset),
        hidden=(hyperparams.hidden_units,),
        epochs=hyperparams.epochs,
        batch_size=hyperparams.batch_size,
        lr=hyperparams.lr,
        momentum=hyperparams.momentum,
        schedule=hyperparams.schedule,
        warmup_steps=hyperparams.warmup_steps,
        accumulation_steps=hyperparams.grad_accum_steps,
        mixed_precision=hyperparams.mixed_precision,
    )


def submit_job(request: JobCreate, deps: TrainingDeps, dispatch: Dispatch) -> store.JobRecord:
    """Store a queued job, then hand its id to the task queue once the row is committed."""
    build_train_config(request.hyperparams, request.dataset)
    check_segment("model_name", request.model_name)
    if isinstance(request.dataset, FeatureSetSpec) and deps.features is None:
        raise ServiceUnavailableError("the feature store is not configured for training")
    with session_scope(deps.session_factory) as session:
        record = store.create_job(
            session,
            model_name=request.model_name,
            hyperparams=request.hyperparams.model_dump(),
            dataset=request.dataset.model_dump(mode="json"),
            now=deps.now(),
        ).to_entity()
    try:
        dispatch(record.id)
    except Exception as exc:
        _finish(record.id, deps, status=store.FAILED, error=f"could not queue the job: {exc}")
        raise ServiceUnavailableError("the training queue is unavailable") from exc
    return record


def get_job(job_id: str, deps: TrainingDeps) -> store.JobRecord:
    """Return one job."""
    with session_scope(deps.session_factory) as session:
        return store.get_job(session, job_id).to_entity()


def list_jobs(deps: TrainingDeps, model_name: str | None = None) -> list[store.JobRecord]:
    """Return jobs, oldest first, optionally for one model."""
    with session_scope(deps.session_factory) as session:
        return [row.to_entity() for row in store.list_jobs(session, model_name=model_name)]


def run_job(job_id: str, deps: TrainingDeps) -> str:
    """Run one job to a final status and return that status."""
    job = _start_attempt(job_id, deps)
    if job is None:
        return store.SUCCEEDED
    try:
        outcome = _run_exclusive(job, deps)
    except Exception as exc:
        _finish(job_id, deps, status=store.FAILED, error=describe_error(exc))
        return store.FAILED
    _finish(job_id, deps, status=store.SUCCEEDED, **outcome)
    return store.SUCCEEDED


def describe_error(exc: BaseException) -> str:
    """Return the message stored on a failed job."""
    if isinstance(exc, SynapseError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _start_attempt(job_id: str, deps: TrainingDeps) -> store.JobRecord | None:
    with session_scope(deps.session_factory) as session:
        row = store.get_job(session, job_id)
        if row.status == store.SUCCEEDED:
            return None
        row.status = store.RUNNING
        row.attempts += 1
        row.started_at = deps.now()
        row.finished_at = None
        row.error = None
        return row.to_entity()


def _finish(job_id: str, deps: TrainingDeps, *, status: str, **fields: Any) -> None:
    with session_scope(deps.session_factory) as session:
        row = store.get_job(session, job_id)
        row.status = status
        row.finished_at = deps.now()
        for name, value in fields.items():
            setattr(row, name, value)


def _run_exclusive(job: store.JobRecord, deps: TrainingDeps) -> dict[str, Any]:
    lock = deps.lock_factory(lock_name(job.model_name), deps.lock_ttl)
    if not lock.acquire(timeout=deps.lock_timeout):
        raise ConflictError(f"model {job.model_name!r} is being trained by another job")
    try:
        return _train_and_register(job, deps, lock)
    finally:
        if lock.held():
            lock.release()


def _train_and_register(
    job: store.JobRecord, deps: TrainingDeps, lock: DistributedLock
) -> dict[str, Any]:
    hyperparams = Hyperparams(**job.hyperparams)
    spec, dataset, recorded = build_dataset(job, hyperparams, deps)
    directory = job_directory(deps.artifact_root, job.model_name, job.id)
    run_id = start_tracked_run(job, hyperparams, deps)

    def on_epoch(record: dict[str, Any]) -> None:
        _keep_lock(lock)
        log_epoch(run_id, record, deps)

    checkpointed = with_checkpoints(deps, directory / CHECKPOINT_DIR, resume=job.attempts > 1)
    trainer = tracked(checkpointed, run_id, deps)
    result = trainer(
        build_train_config(hyperparams, spec), dataset, seed=hyperparams.seed, on_epoch=on_epoch
    )
    artifact_path = directory / ARTIFACT_NAME
    sha256 = save_model(result.artifact, artifact_path, root=deps.artifact_root)
    upload_job_outputs(deps.storage, deps.artifact_root, artifact_path, directory / CHECKPOINT_DIR)
    metrics = {k: float(v) for k, v in result.metrics.items()}
    _keep_lock(lock)
    version = _register(
        job,
        deps,
        artifact_path,
        sha256,
        metrics,
        result.artifact.input_schema,
        run_id or job.id,
        recorded,
    )
    end_tracked_run(run_id, "finished", deps)
    resumed = getattr(result, "resumed_from_epoch", None)
    if resumed is not None:
        metrics = {**metrics, "resumed_from_epoch": float(resumed)}
    return {
        "dataset": recorded,
        "metrics": metrics,
        "history": result.history,
        "model_version": version,
        "artifact_uri": artifact_path.as_uri(),
        "artifact_sha256": sha256,
    }


def build_dataset(
    job: store.JobRecord, hyperparams: Hyperparams, deps: TrainingDeps
) -> tuple[DatasetSpec | FeatureSetSpec, Dataset, dict[str, Any]]:
    """Return the job's dataset spec, its rows split for training, and the job's record of it.

    A feature-store job records the view's schema version and the rows it trained on.
    """
    if "feature_view" in job.dataset:
        features = FeatureSetSpec(**job.dataset)
        dataset, used = load_training_set(
            features,
            deps.features,
            val_fraction=hyperparams.validation_fraction,
            seed=hyperparams.seed,
        )
        return features, dataset, {**job.dataset, **used}
    spec = DatasetSpec(**job.dataset)
    dataset = make_dataset(
        spec.kind,
        spec.n_samples,
        spec.n_features,
        seed=spec.seed,
        val_fraction=hyperparams.validation_fraction,
        offset=spec.offset,
    )
    return spec, dataset, job.dataset


def described(dataset: dict[str, Any]) -> dict[str, Any]:
    """Return a job's dataset record without its entity rows (runs and versions keep this)."""
    return {key: value for key, value in dataset.items() if key != "entity_rows"}


def start_tracked_run(job: store.JobRecord, hyperparams: Hyperparams, deps: TrainingDeps) -> str:
    """Start the experiment run that records a job (one per attempt); return its id or ""."""
    if deps.tracker is None:
        return ""
    params = {key: value for key, value in job.hyperparams.items() if key != "seed"}
    run = deps.tracker.start_run(
        job.model_name,
        name=f"job-{job.id}"[:128],
        seed=hyperparams.seed,
        model_name=job.model_name,
        params={**params, "dataset": described(job.dataset)},
        tags={"job_id": job.id, "attempt": str(job.attempts)},
    )
    return str(run["run_id"])


def log_epoch(run_id: str, record: dict[str, Any], deps: TrainingDeps) -> None:
    """Log an epoch's numeric results as metric points at the epoch's step."""
    if deps.tracker is None or not run_id:
        return
    step = int(record["epoch"])
    points = [
        {"key": key, "value": float(value), "step": step}
        for key, value in record.items()
        if key != "epoch" and isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if points:
        deps.tracker.log_metrics(run_id, points)


def tracked(trainer: Trainer, run_id: str, deps: TrainingDeps) -> Trainer:
    """Return the trainer, ending the job's run as failed when training raises."""

    def run(*args: Any, **kwargs: Any) -> TrainResult:
        try:
            return trainer(*args, **kwargs)
        except Exception:
            end_tracked_run(run_id, "failed", deps)
            raise

    return run


def end_tracked_run(run_id: str, status: str, deps: TrainingDeps) -> None:
    """End the job's experiment run as finished or failed."""
    if deps.tracker is not None and run_id:
        deps.tracker.end_run(run_id, status)


def with_checkpoints(deps: TrainingDeps, directory: Path, *, resume: bool) -> Trainer:
    """Return the trainer bound to the job's checkpoint directory.

    A retried job (``resume``) continues from its newest checkpoint; a first attempt starts
    from scratch.
    """
    manager = CheckpointManager(directory, keep_last=deps.keep_checkpoints)
    return functools.partial(deps.trainer, checkpoints=manager, resume=resume)


def _keep_lock(lock: DistributedLock) -> None:
    """Renew the model lock's lease; stop the job if another holder may have taken over."""
    if not lock.extend():
        raise LockLostError(f"lost the lock {lock.name!r} before the job finished")


def _register(
    job: store.JobRecord,
    deps: TrainingDeps,
    artifact_path: Path,
    sha256: str,
    metrics: dict[str, float],
    input_schema: list[str],
    run_id: str,
    dataset: dict[str, Any],
) -> int:
    parent = deps.registry.production_version(job.model_name)
    payload: dict[str, Any] = {
        "artifact_uri": artifact_path.as_uri(),
        "run_id": run_id,
        "metrics": metrics,
        "params": {**job.hyperparams, "dataset": described(dataset), "artifact_sha256": sha256},
        "input_schema": {"features": list(input_schema)},
    }
    if parent is not None:
        payload["parent_version"] = parent
    body = deps.registry.register_version(job.model_name, payload)
    return int(body["version"])


def to_out(record: store.JobRecord) -> JobOut:
    """Return the API view of a job."""
    return JobOut.model_validate(record, from_attributes=True)


def build_deps(settings: Settings, **overrides: Any) -> TrainingDeps:
    """Build production dependencies from settings; keyword arguments replace any of them."""
    if "session_factory" not in overrides:
        engine = make_engine(settings.database_url)
        overrides["session_factory"] = make_session_factory(engine, store.Base.metadata)
    if "registry" not in overrides:
        overrides["registry"] = RegistryClient.from_url(settings.registry_url)
    if "tracker" not in overrides and settings.experiments_url:
        overrides["tracker"] = ExperimentsClient.from_url(settings.experiments_url)
    if "features" not in overrides and settings.features_url:
        overrides["features"] = FeaturesClient.from_url(settings.features_url)
    if "lock_factory" not in overrides:
        overrides["lock_factory"] = get_locks()
    if "storage" not in overrides:
        overrides["storage"] = (
            service_store(settings.storage_url) if settings.storage_url else get_storage()
        )
    overrides.setdefault("artifact_root", settings.artifact_root)
    overrides.setdefault("lock_ttl", settings.lock_ttl)
    overrides.setdefault("lock_timeout", settings.lock_timeout)
    return TrainingDeps(**overrides)


def create_worker_app(settings: Settings | None = None, **overrides: Any) -> Celery:
    """Return the Celery app a worker runs, building its dependencies on the first task."""
    settings = settings or get_settings()
    # Refuses a process-local lock backend: a worker's pool runs jobs in several processes.
    statement = announce(worker_lock_guard(overrides.get("lock_factory")))
    holder: list[TrainingDeps] = []

    def deps() -> TrainingDeps:
        if not holder:
            holder.append(build_deps(settings, **overrides))
        return holder[0]

    return restate_when_ready(make_celery_app(settings, runner=task_runner(deps)), statement)


def task_runner(deps: Callable[[], TrainingDeps]) -> Callable[[str], str]:
    """Return what the Celery task runs: the job, then the announcement of its outcome."""
    return announcing(
        lambda job_id: run_job(job_id, deps()), lambda job_id: get_job(job_id, deps()), get_bus
    )


def app_deps(request: Request) -> TrainingDeps:
    """Return the dependencies the app's job runs use."""
    return request.app.state.deps


def app_dispatch(request: Request) -> Dispatch:
    """Return a function that queues a job on the app's Celery app."""
    celery: Celery = request.app.state.celery
    return functools.partial(dispatch_run_job, celery)


def app_queue(request: Request) -> QueueProbe:
    """Return the probe that tells whether a worker will take a job."""
    return request.app.state.queue


TrainingDep = Annotated[TrainingDeps, Depends(app_deps)]
DispatchDep = Annotated[Dispatch, Depends(app_dispatch)]
QueueDep = Annotated[QueueProbe, Depends(app_queue)]
router = APIRouter(prefix=JOBS_PATH, tags=["jobs"])


@router.post("", status_code=202, response_model=JobAccepted, responses=problems(503))
def create_job(
    body: JobCreate, response: Response, deps: TrainingDep, dispatch: DispatchDep, queue: QueueDep
) -> JobAccepted:
    """Queue a training job and point at it with ``Location``; 503 when no worker can run it."""
    # Refused before the job is stored: a job accepted with no worker would wait forever.
    queue.require()
    record = submit_job(body, deps, dispatch)
    response.headers["Location"] = f"{JOBS_PATH}/{record.id}"
    return JobAccepted.model_validate({"id": record.id, "status": record.status})


@router.get("/{job_id}", response_model=JobOut, responses=problems(404))
def read_job(job_id: str, deps: TrainingDep) -> JobOut:
    """Return one job with its progress and outcome."""
    return to_out(get_job(job_id, deps))


@router.get("", response_model=JobList)
def read_jobs(
    deps: TrainingDep, model_name: Annotated[str | None, Query(max_length=128)] = None
) -> JobList:
    """List jobs, oldest first, optionally for one model."""
    items = [to_out(record) for record in list_jobs(deps, model_name)]
    return JobList(items=items, total=len(items))


def create_app(settings: Settings | None = None, **overrides: Any) -> FastAPI:
    """Build the training API; ``overrides`` replace TrainingDeps fields (tests, demos)."""
    settings = settings or get_settings()
    deps = build_deps(settings, **overrides)
    announce_api_locks(settings, deps.lock_factory)
    celery = make_celery_app(settings, runner=task_runner(lambda: deps))
    queue = QueueProbe(celery)
    ready = {
        "database": schema_check(deps.session_factory, store.Base.metadata),
        "queue": queue.check,
        "locks": locks_check(lambda: deps.lock_factory),
    }
    app = create_service_app("training", ready=ready)
    app.state.settings = settings
    app.state.deps = deps
    app.state.celery = celery
    app.state.queue = queue
    include_routes(app, router)
    return app
