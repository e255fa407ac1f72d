"""Definitions and read models of the pipeline service: versions, runs and lineage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.pipeline.dag import Step, digest, validate
from services.pipeline.schemas import (
    LineageEdge,
    LineageOut,
    PipelineCreate,
    PipelineOut,
    RunOut,
    RunPage,
    StepDecl,
    StepOut,
    TriggerIn,
)
from services.pipeline.store import (
    Definition,
    DefinitionRow,
    LineageRow,
    RunRow,
    get_definition,
    get_run,
    latest_definition,
    step_rows,
    to_definition,
)
from shared.db import session_scope
from shared.errors import ConflictError

Clock = Callable[[], datetime]


def pipeline_out(definition: Definition) -> PipelineOut:
    """Return the API view of a pipeline version."""
    trigger = definition.trigger_dataset
    return PipelineOut(
        name=definition.name,
        version=definition.version,
        digest=definition.digest,
        trigger=None if trigger is None else TriggerIn(dataset=trigger),
        steps=[StepDecl(**step) for step in definition.steps],
        order=definition.order,
        created_at=definition.created_at,
    )


class Catalog:
    """Declare pipeline versions and read runs and lineage."""

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock) -> None:
        self.session_factory = session_factory
        self.clock = clock

    def define(self, body: PipelineCreate) -> tuple[PipelineOut, bool]:
        """Store a definition as the next version; one equal to the newest returns that one."""
        steps = [Step(s.name, s.kind, tuple(s.depends_on), s.params) for s in body.steps]
        order = validate(steps)
        trigger = body.trigger.dataset if body.trigger else None
        fingerprint = digest(steps, trigger)
        with session_scope(self.session_factory) as session:
            latest = latest_definition(session, body.name)
            if latest is not None and latest.digest == fingerprint:
                return pipeline_out(to_definition(latest)), False
            row = DefinitionRow(
                name=body.name,
                version=(latest.version + 1) if latest else 1,
                digest=fingerprint,
                trigger_dataset=trigger,
                steps=[
                    {
                        "name": s.name,
                        "kind": s.kind,
                        "depends_on": list(dict.fromkeys(s.depends_on)),
                        "params": dict(s.params),
                    }
                    for s in steps
                ],
                order=order,
                created_at=self.clock(),
            )
            session.add(row)
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError as exc:
                raise ConflictError(f"pipeline {body.name!r} changed concurrently; retry") from exc
            return pipeline_out(to_definition(row)), True

    def get(self, name: str, version: int | None = None) -> PipelineOut:
        """Return one pipeline version (the newest without one)."""
        with session_scope(self.session_factory) as session:
            return pipeline_out(to_definition(get_definition(session, name, version)))

    def run(self, run_id: str) -> RunOut:
        """Return a run with each of its steps, in execution order."""
        with session_scope(self.session_factory) as session:
            return self._run_out(session, get_run(session, run_id))

    def runs(self, name: str, *, limit: int, offset: int) -> RunPage:
        """Return a page of a pipeline's runs, newest first."""
        with session_scope(self.session_factory) as session:
            get_definition(session, name)
            matching = select(RunRow).where(RunRow.pipeline == name)
            total = session.scalar(select(func.count()).select_from(matching.subquery()))
            rows = session.scalars(
                matching.order_by(RunRow.created_at.desc(), RunRow.id).limit(limit).offset(offset)
            ).all()
            items = [self._run_out(session, row) for row in rows]
        return RunPage(items=items, total=int(total or 0))

    @staticmethod
    def _run_out(session: Session, run: RunRow) -> RunOut:
        definition = to_definition(get_definition(session, run.pipeline, run.version))
        rows = step_rows(session, run.id)
        steps = []
        for name in definition.order:
            row = rows.get(name)
            steps.append(
                StepOut(
                    name=name,
                    kind=definition.step(name)["kind"],
                    status="pending" if row is None else row.status,  # type: ignore[arg-type]
                    attempts=0 if row is None else row.attempts,
                    output=None if row is None else row.output,
                    error=None if row is None else row.error,
                )
            )
        return RunOut(
            id=run.id,
            pipeline=run.pipeline,
            version=run.version,
            status=run.status,  # type: ignore[arg-type]
            trigger=run.trigger,  # type: ignore[arg-type]
            dataset=run.dataset,
            dataset_version=run.dataset_version,
            seed=run.seed,
            error=run.error,
            created_at=run.created_at,
            finished_at=run.finished_at,
            steps=steps,
        )

    def lineage(
        self,
        *,
        dataset: str | None = None,
        dataset_version: str | None = None,
        model: str | None = None,
        model_version: int | None = None,
    ) -> LineageOut:
        """Return what was derived from a dataset (version), or what a model (version) came from."""
        with session_scope(self.session_factory) as session:
            stmt = select(LineageRow, RunRow).join(RunRow, RunRow.id == LineageRow.run_id)
            if dataset is not None:
                stmt = stmt.where(LineageRow.dataset == dataset)
                if dataset_version is not None:
                    stmt = stmt.where(LineageRow.dataset_version == dataset_version)
            if model is not None:
                # A model's lineage is every run that produced it, with all those runs derived.
                producing = select(LineageRow.run_id).where(
                    LineageRow.kind == "model_version", LineageRow.name == model
                )
                if model_version is not None:
                    producing = producing.where(LineageRow.version == model_version)
                stmt = stmt.where(LineageRow.run_id.in_(producing))
            rows = session.execute(stmt.order_by(RunRow.created_at, LineageRow.id)).all()
            items = [
                LineageEdge(
                    run_id=run.id,
                    pipeline=run.pipeline,
                    pipeline_version=run.version,
                    dataset=edge.dataset,
                    dataset_version=edge.dataset_version,
                    kind=edge.kind,
                    name=edge.name,
                    version=edge.version,
                )
                for edge, run in rows
            ]
        return LineageOut(items=items)
