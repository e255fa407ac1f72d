"""Request and response schemas of the models service (pydantic v2)."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

NAME_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
FEATURE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
# A tag as clients may send it: normalise_tags strips and lower-cases it before checking.
TAG_INPUT_PATTERN = r"^\s*[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\s*$"
# One line of text: no control characters (PostgreSQL refuses NUL; the rest corrupt output).
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# Free text may hold tabs and line breaks, never other control characters.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

MAX_TAGS = 20
MAX_FEATURES = 512
MAX_DESCRIPTION = 2000
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class ModelTask(str, enum.Enum):
    """What a model predicts."""

    classification = "classification"
    regression = "regression"


ModelName = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=NAME_PATTERN)]
Owner = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=64,
        # Whitespace alone strips to nothing: at least one visible character.
        pattern=r"^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$",
    ),
]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION, pattern=TEXT_PATTERN)]
FeatureName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=FEATURE_PATTERN)
]


def normalise_tags(tags: list[str]) -> list[str]:
    """Return tags stripped and lower-cased, duplicates dropped, first-seen order kept."""
    seen: dict[str, None] = {}
    for raw in tags:
        tag = raw.strip().lower()
        if not 1 <= len(tag) <= 32 or not TAG_PATTERN.match(tag):
            raise ValueError(f"invalid tag {raw!r}: use 1-32 of a-z, 0-9, '_', '.', '-'")
        seen.setdefault(tag, None)
    return list(seen)


def _unique_features(features: list[str]) -> list[str]:
    duplicates = sorted({f for f in features if features.count(f) > 1})
    if duplicates:
        raise ValueError(f"duplicate feature names: {', '.join(duplicates)}")
    return features


Tags = Annotated[
    list[str],
    Field(
        max_length=MAX_TAGS,
        json_schema_extra={"items": {"type": "string", "pattern": TAG_INPUT_PATTERN}},
    ),
    AfterValidator(normalise_tags),
]


class InputSchema(BaseModel):
    """Ordered feature names a model expects."""

    model_config = ConfigDict(extra="forbid")

    features: Annotated[
        list[FeatureName],
        Field(min_length=1, max_length=MAX_FEATURES, json_schema_extra={"uniqueItems": True}),
        AfterValidator(_unique_features),
    ]


class ModelCreate(BaseModel):
    """Body of POST /api/v1/models."""

    model_config = ConfigDict(extra="forbid")

    name: ModelName
    description: Description | None = None
    task: ModelTask
    owner: Owner
    tags: Tags = Field(default_factory=list)
    input_schema: InputSchema


class ModelUpdate(BaseModel):
    """Body of PATCH /api/v1/models/{name}: every field optional, the name is immutable."""

    model_config = ConfigDict(extra="forbid")

    description: Description | None = None
    # Optional but never null: SkipJsonSchema keeps null out of the documented schema.
    task: ModelTask | SkipJsonSchema[None] = None
    owner: Owner | SkipJsonSchema[None] = None
    tags: Tags | SkipJsonSchema[None] = None
    input_schema: InputSchema | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _refuse_null_required_fields(self) -> ModelUpdate:
        nulls = sorted(
            name
            for name in self.model_fields_set
            if name != "description" and getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"fields cannot be null: {', '.join(nulls)}")
        return self

    def changes(self) -> dict:
        """Return only the fields the client set, as plain values."""
        return self.model_dump(mode="json", exclude_unset=True)


class ModelOut(BaseModel):
    """A model's metadata as the API returns it."""

    id: int
    name: str
    description: str | None
    task: ModelTask
    owner: str
    tags: list[str]
    input_schema: InputSchema
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)


class ModelPage(BaseModel):
    """One page of models with the total number of matches."""

    items: list[ModelOut]
    total: int
    limit: int
    offset: int


class ModelFilters(BaseModel):
    """Filters of the list endpoint; values are compared exactly, never interpreted."""

    owner: str | None = None
    task: ModelTask | None = None
    tag: str | None = None
