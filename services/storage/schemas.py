"""Request and response models of the storage service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
DATASET_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class ObjectOut(BaseModel):
    """An object's metadata."""

    namespace: str
    key: str
    size: int
    sha256: str
    content_type: str
    created_at: datetime


class ObjectPage(BaseModel):
    """The live objects under a prefix, sorted by key."""

    namespace: str
    prefix: str
    items: list[ObjectOut]


class SessionCreate(BaseModel):
    """Open a resumable upload of one object."""

    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(max_length=32)
    key: str = Field(min_length=1, max_length=1024)
    content_type: str = Field(default="application/octet-stream", max_length=128)


class PartOut(BaseModel):
    """One received part."""

    number: int
    size: int
    sha256: str


class SessionOut(BaseModel):
    """An upload session and the parts it holds."""

    id: str
    namespace: str
    key: str
    content_type: str
    state: str
    parts: list[PartOut]


class SessionComplete(BaseModel):
    """Finish an upload: how many parts make the object and the whole object's SHA-256."""

    model_config = ConfigDict(extra="forbid")

    parts: int = Field(ge=1, le=10_000)
    sha256: str = Field(pattern=SHA256_PATTERN)


class CompletedOut(BaseModel):
    """The object a completed session stored."""

    session: str
    object: ObjectOut


class VersionCommit(BaseModel):
    """Commit uploaded objects of the datasets namespace as one dataset version."""

    model_config = ConfigDict(extra="forbid")

    keys: list[str] = Field(min_length=1, max_length=10_000)


class ManifestEntry(BaseModel):
    """One object of a dataset version."""

    key: str
    sha256: str
    size: int


class VersionOut(BaseModel):
    """A committed dataset version; ``version`` is the SHA-256 of its sorted manifest."""

    dataset: str
    version: str
    namespace: str
    size: int
    objects: list[ManifestEntry]
    created_at: datetime


class PresignRequest(BaseModel):
    """Ask for a signed download URL of one object."""

    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(max_length=32)
    key: str = Field(min_length=1, max_length=1024)
    expires_in: int = Field(default=900, ge=1)


class PresignOut(BaseModel):
    """A signed download URL (path and query, served by this service) and its expiry."""

    url: str
    expires_at: datetime


class CollectedOut(BaseModel):
    """What one garbage collection deleted (``bucket/name`` of each object)."""

    deleted: list[str]
