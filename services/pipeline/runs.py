"""Runs: start a pinned pipeline version on a dataset version and execute its steps.

Each step of a run has one execution row (unique per run and step). A step task claims it
with a lease before running, so a redelivered or duplicated task finds the step succeeded
(a checkpoint: skipped), in flight under a live lease (skipped) or abandoned by a worker that
died (lease expired: taken over and finished once). Retryable failures are retried with
exponential backoff through the injected sleeper; a step that exhausts its attempts fails
the run and is announced on the dead-letter topic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.pipeline.dag import upstream_closure
from services.pipeline.executors import (
    Executor,
    RetryableStepError,
    StepContext,
    lineage_of,
    stable_int,
)
from services.pipeline.store import (
    Definition,
    DefinitionRow,
    LineageRow,
    RunRow,
    StepRunRow,
    get_definition,
    get_run,
    step_rows,
    to_definition,
)
from shared.db import session_scope
from shared.errors import ConflictError, SynapseError
from shared.events.base import EventBus
from shared.events.schema import EventType, make_event, publish_event

SOURCE = "pipeline"
TERMINAL = ("succeeded", "failed")
Clock = Callable[[], datetime]
Dispatch = Callable[[str, list[str]], None]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per step and the exponential backoff between them."""

    max_attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 60.0
    lease_seconds: float = 300.0

    def delay(self, attempt: int) -> float:
        """Return the pause after failed attempt number ``attempt`` (1-based)."""
        return min(self.base_delay * 2 ** (attempt - 1), self.max_delay)


def is_retryable(error: BaseException) -> bool:
    """Return whether another attempt may succeed where ``error`` failed."""
    if isinstance(error, RetryableStepError | httpx.TransportError):
        return True
    return isinstance(error, SynapseError) and error.status_code >= 500


def run_key(definition: Definition, dataset: str, dataset_version: str) -> str:
    """Return what identifies a run's work: one pipeline version on one dataset version."""
    return f"{definition.name}@{definition.version}:{dataset}:{dataset_version}"


class RunEngine:
    """Start runs and execute their steps; every method is its own transaction."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        executors: Mapping[str, Executor],
        *,
        bus: Callable[[], EventBus],
        clock: Clock,
        sleeper: Callable[[float], None],
        new_id: Callable[[], str],
        policy: RetryPolicy,
    ) -> None:
        self.session_factory = session_factory
        self.executors = dict(executors)
        self.bus = bus
        self.clock = clock
        self.sleeper = sleeper
        self.new_id = new_id
        self.policy = policy
        self.dispatch: Dispatch | None = None
        # Pinned versions never change, so each is read from the database once.
        self._pinned: dict[tuple[str, int], Definition] = {}

    def _definition(self, session: Session, name: str, version: int) -> Definition:
        key = (name, version)
        if key not in self._pinned:
            self._pinned[key] = to_definition(get_definition(session, name, version))
        return self._pinned[key]

    # Starting runs

    def start(
        self,
        name: str,
        dataset: str,
        dataset_version: str,
        *,
        version: int | None = None,
        seed: int | None = None,
        trigger: str = "api",
        trigger_key: str | None = None,
    ) -> tuple[str, bool]:
        """Record a run and queue its steps; return its id and whether it is new."""
        with session_scope(self.session_factory) as session:
            definition = to_definition(get_definition(session, name, version))
            existing = self._by_trigger(session, trigger_key)
            if existing is not None:
                run_id, created, status = existing.id, False, existing.status
            else:
                run_id, created, status = self._insert(
                    session, definition, dataset, dataset_version, seed, trigger, trigger_key
                )
        if status not in TERMINAL:
            self._dispatch(run_id, definition.order)
        return run_id, created

    def _insert(
        self,
        session: Session,
        definition: Definition,
        dataset: str,
        dataset_version: str,
        seed: int | None,
        trigger: str,
        trigger_key: str | None,
    ) -> tuple[str, bool, str]:
        run_id = self.new_id()
        row = RunRow(
            id=run_id,
            pipeline=definition.name,
            version=definition.version,
            status="queued",
            trigger=trigger,
            trigger_key=trigger_key,
            dataset=dataset,
            dataset_version=dataset_version,
            seed=seed
            if seed is not None
            else stable_int(run_key(definition, dataset, dataset_version)),
            created_at=self.clock(),
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            # Another consumer recorded the same trigger first; that run is the one.
            session.rollback()
            other = self._by_trigger(session, trigger_key)
            if other is None:
                raise
            return other.id, False, other.status
        return run_id, True, "queued"

    @staticmethod
    def _by_trigger(session: Session, trigger_key: str | None) -> RunRow | None:
        if trigger_key is None:
            return None
        return session.scalars(select(RunRow).where(RunRow.trigger_key == trigger_key)).first()

    def trigger(self, dataset: str, dataset_version: str) -> list[str]:
        """Start each pipeline triggered by ``dataset`` once for this version; return run ids."""
        with session_scope(self.session_factory) as session:
            names = sorted(
                set(
                    session.scalars(
                        select(DefinitionRow.name).where(DefinitionRow.trigger_dataset == dataset)
                    )
                )
            )
            latest = [to_definition(get_definition(session, name)) for name in names]
        runs = []
        for definition in latest:
            if definition.trigger_dataset != dataset:
                continue
            key = run_key(definition, dataset, dataset_version)
            run_id, _ = self.start(
                definition.name,
                dataset,
                dataset_version,
                version=definition.version,
                trigger="event",
                trigger_key=key,
            )
            runs.append(run_id)
        return runs

    def resume(self, run_id: str) -> None:
        """Queue a run's steps again; steps that already succeeded are skipped."""
        with session_scope(self.session_factory) as session:
            run = get_run(session, run_id)
            if run.status in TERMINAL:
                raise ConflictError(f"run {run_id} already {run.status}")
            order = self._definition(session, run.pipeline, run.version).order
        self._dispatch(run_id, order)

    def _dispatch(self, run_id: str, order: list[str]) -> None:
        if self.dispatch is None:
            raise RuntimeError("the run engine has no dispatcher; build it with create_app")
        self.dispatch(run_id, order)

    # Executing steps

    def run_step(self, run_id: str, step: str) -> str:
        """Execute one step of a run at most once; return what happened to it."""
        prepared = self._prepare(run_id, step)
        if isinstance(prepared, str):
            return prepared
        context, attempt = prepared
        executor = self.executors[context.kind]
        saved = dict(context.checkpoint)

        def save(values: dict[str, Any]) -> None:
            saved.update(values)
            self._save_checkpoint(run_id, step, saved)

        while True:
            try:
                output = executor(
                    replace(context, attempt=attempt, checkpoint=dict(saved), save=save)
                )
            except Exception as exc:
                retryable = is_retryable(exc)
                if retryable and attempt < self.policy.max_attempts:
                    self.sleeper(self.policy.delay(attempt))
                    attempt += 1
                    self._record_attempt(run_id, step, attempt)
                    continue
                self._fail(run_id, step, attempt, exc, dead_letter=retryable)
                return "failed"
            self._succeed(context, output)
            return "succeeded"

    def _prepare(self, run_id: str, step: str) -> tuple[StepContext, int] | str:
        started = False
        with session_scope(self.session_factory) as session:
            run = get_run(session, run_id)
            if run.status in TERMINAL:
                return "skipped"
            definition = self._definition(session, run.pipeline, run.version)
            declared = definition.step(step)
            rows = step_rows(session, run_id)
            if any(
                rows.get(name) is None or rows[name].status != "succeeded"
                for name in declared["depends_on"]
            ):
                return "blocked"
            upstream = {
                name: dict(rows[name].output or {})
                for name in upstream_closure(definition.steps, step)
            }
            attempt = self._claim(session, rows.get(step), run_id, step, declared["kind"])
            if attempt is None:
                return "skipped"
            taken = rows.get(step)
            checkpoint = dict(taken.checkpoint or {}) if taken is not None else {}
            if run.status == "queued":
                run.status, started = "running", True
            context = StepContext(
                run_id=run.id,
                pipeline=run.pipeline,
                version=run.version,
                step=step,
                kind=declared["kind"],
                params=dict(declared["params"]),
                dataset=run.dataset,
                dataset_version=run.dataset_version,
                seed=run.seed,
                attempt=attempt,
                upstream=upstream,
                checkpoint=checkpoint,
            )
        if started:
            self._announce(EventType.PIPELINE_RUN_STARTED, context)
        return context, attempt

    def _claim(
        self, session: Session, row: StepRunRow | None, run_id: str, step: str, kind: str
    ) -> int | None:
        """Take the step's execution row for one more attempt and return its number.

        None when the step succeeded (a checkpoint), failed, or is held under a live lease.
        """
        now = self.clock()
        lease = now + timedelta(seconds=self.policy.lease_seconds)
        if row is None:
            row = StepRunRow(
                run_id=run_id,
                step=step,
                kind=kind,
                status="running",
                attempts=0,
                lease_until=lease,
                started_at=now,
            )
            session.add(row)
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError:
                return None
        elif row.status != "running" or (row.lease_until is not None and row.lease_until > now):
            return None
        row.lease_until = lease
        row.attempts += 1
        return row.attempts

    def _record_attempt(self, run_id: str, step: str, attempt: int) -> None:
        with session_scope(self.session_factory) as session:
            row = step_rows(session, run_id)[step]
            row.attempts = attempt
            row.lease_until = self.clock() + timedelta(seconds=self.policy.lease_seconds)

    def _save_checkpoint(self, run_id: str, step: str, values: dict[str, Any]) -> None:
        with session_scope(self.session_factory) as session:
            step_rows(session, run_id)[step].checkpoint = dict(values)

    def _succeed(self, context: StepContext, output: dict[str, Any]) -> None:
        finished = None
        with session_scope(self.session_factory) as session:
            rows = step_rows(session, context.run_id)
            row = rows[context.step]
            now = self.clock()
            row.status, row.output, row.error = "succeeded", output, None
            row.finished_at, row.lease_until = now, None
            session.add_all(
                LineageRow(
                    run_id=context.run_id,
                    dataset=context.dataset,
                    dataset_version=context.dataset_version,
                    kind=kind,
                    name=name,
                    version=version,
                )
                for kind, name, version in lineage_of(output)
            )
            order = self._definition(session, context.pipeline, context.version).order
            if all(name in rows and rows[name].status == "succeeded" for name in order):
                run = get_run(session, context.run_id)
                run.status, run.finished_at = "succeeded", now
                finished = _run_data(run)
        if finished is not None:
            self._publish(EventType.PIPELINE_RUN_SUCCEEDED, finished)

    def _fail(
        self, run_id: str, step: str, attempt: int, error: Exception, *, dead_letter: bool
    ) -> None:
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        with session_scope(self.session_factory) as session:
            run = get_run(session, run_id)
            row = step_rows(session, run_id)[step]
            now = self.clock()
            row.status, row.error, row.finished_at, row.lease_until = "failed", message, now, None
            run.status, run.finished_at = "failed", now
            run.error = f"step {step!r} failed after {attempt} attempt(s): {message}"
            data = _run_data(run)
        if dead_letter:
            self._publish(
                EventType.PIPELINE_STEP_DEAD_LETTERED,
                {**data, "step": step, "attempts": attempt, "error": message[:500]},
            )
        self._publish(EventType.PIPELINE_RUN_FAILED, {**data, "error": message[:500]})

    def _announce(self, kind: EventType, context: StepContext) -> None:
        data = {
            "pipeline": context.pipeline,
            "version": context.version,
            "run_id": context.run_id,
            "dataset": context.dataset,
            "dataset_version": context.dataset_version,
        }
        self._publish(kind, data)

    def _publish(self, kind: EventType, data: dict[str, Any]) -> None:
        try:
            publish_event(self.bus(), make_event(kind, data, source=SOURCE, clock=self.clock))
        except SynapseError as exc:
            logger.warning("could not announce %s: %s", kind.value, exc.message)


def _run_data(run: RunRow) -> dict[str, Any]:
    return {
        "pipeline": run.pipeline,
        "version": run.version,
        "run_id": run.id,
        "dataset": run.dataset,
        "dataset_version": run.dataset_version,
    }
