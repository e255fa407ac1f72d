"""Persistence of model metadata: SQLAlchemy rows and the repository the routes call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)
from sqlalchemy.sql import Select

from services.models.schemas import ModelCreate, ModelFilters
from shared.db import UTCDateTime
from shared.errors import ConflictError, NotFoundError


class Base(DeclarativeBase):
    """Declarative base of the models service: its metadata holds only this service's tables."""


class ModelRow(Base):
    """One registered model's metadata."""

    __tablename__ = "model_metadata"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    task: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    owner: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    features: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    tags: Mapped[list[ModelTagRow]] = relationship(
        back_populates="model",
        cascade="all, delete-orphan",
        order_by="ModelTagRow.position",
    )

    def to_entity(self) -> ModelRecord:
        """Return the plain domain view of this row and its tags."""
        return ModelRecord(
            id=self.id,
            name=self.name,
            description=self.description,
            task=self.task,
            owner=self.owner,
            tags=tuple(t.tag for t in self.tags),
            features=tuple(self.features),
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True)
class ModelRecord:
    """A model's metadata as the rest of the service sees it, detached from the session."""

    id: int
    name: str
    description: str | None
    task: str
    owner: str
    tags: tuple[str, ...]
    features: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


class ModelTagRow(Base):
    """One tag of a model; the position keeps the order the client gave."""

    __tablename__ = "model_tags"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("model_metadata.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    model: Mapped[ModelRow] = relationship(back_populates="tags")


def _tag_rows(tags: list[str], existing: Sequence[ModelTagRow] = ()) -> list[ModelTagRow]:
    """Return tag rows for `tags`, reusing rows that already hold one of them."""
    reusable = {row.tag: row for row in existing}
    rows = []
    for position, tag in enumerate(tags):
        row = reusable.get(tag) or ModelTagRow(tag=tag)
        row.position = position
        rows.append(row)
    return rows


class ModelRepository:
    """Read and write model metadata within one session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, data: ModelCreate, now: datetime) -> ModelRecord:
        """Insert a model; a name already taken raises ConflictError."""
        row = ModelRow(
            name=data.name,
            description=data.description,
            task=data.task.value,
            owner=data.owner,
            features=list(data.input_schema.features),
            created_at=now,
            updated_at=now,
            tags=_tag_rows(data.tags),
        )
        self.session.add(row)
        try:
            # The unique constraint decides, so two concurrent creates cannot both win.
            self.session.flush()
        except IntegrityError as exc:
            self.session.rollback()
            raise ConflictError(f"model {data.name!r} already exists") from exc
        return row.to_entity()

    def get(self, name: str) -> ModelRecord:
        """Return the model called `name` or raise NotFoundError."""
        return self._row(name).to_entity()

    def list(
        self, filters: ModelFilters, *, limit: int, offset: int
    ) -> tuple[list[ModelRecord], int]:
        """Return one page of matching models (oldest first) and the number of all matches."""
        matching = self._filtered(filters)
        total = self.session.scalar(select(func.count()).select_from(matching.subquery()))
        page = (
            matching.order_by(ModelRow.created_at, ModelRow.id)
            .limit(limit)
            .offset(offset)
            .options(selectinload(ModelRow.tags))
        )
        rows = self.session.scalars(page).all()
        return [row.to_entity() for row in rows], int(total or 0)

    def update(self, name: str, changes: dict, now: datetime) -> ModelRecord:
        """Apply a partial update to the model called `name`."""
        row = self._row(name)
        for field in ("description", "task", "owner"):
            if field in changes:
                setattr(row, field, changes[field])
        if "tags" in changes:
            row.tags = _tag_rows(changes["tags"], row.tags)
        if "input_schema" in changes:
            row.features = list(changes["input_schema"]["features"])
        row.updated_at = now
        self.session.flush()
        return row.to_entity()

    def delete(self, name: str) -> None:
        """Delete the model called `name` and its tags."""
        self.session.delete(self._row(name))
        self.session.flush()

    def ping(self) -> None:
        """Read the catalog table, so health checks see whether the database and schema answer."""
        self.session.execute(select(ModelRow.id).limit(1))

    def _row(self, name: str) -> ModelRow:
        stmt = select(ModelRow).where(ModelRow.name == name).options(selectinload(ModelRow.tags))
        row = self.session.scalars(stmt).one_or_none()
        if row is None:
            raise NotFoundError(f"model {name!r} not found")
        return row

    @staticmethod
    def _filtered(filters: ModelFilters) -> Select:
        stmt = select(ModelRow)
        if filters.owner is not None:
            stmt = stmt.where(ModelRow.owner == filters.owner)
        if filters.task is not None:
            stmt = stmt.where(ModelRow.task == filters.task.value)
        if filters.tag is not None:
            stmt = stmt.where(ModelRow.tags.any(ModelTagRow.tag == filters.tag))
        return stmt
