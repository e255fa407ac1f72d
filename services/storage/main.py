"""Storage service app: objects in namespaces, resumable uploads, dataset versions, signed links.

Every artifact, checkpoint and dataset of the platform lives here: bytes in the object store
(the storage port), metadata rows in models_db. See docs/ARCHITECTURE.md for the API contract.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from services.storage import presign
from services.storage.config import Settings, get_settings
from services.storage.datasets import Datasets, DatasetVersion
from services.storage.objects import ObjectService, collect_garbage
from services.storage.ranges import RangeNotSatisfiable, parse_range
from services.storage.schemas import (
    DATASET_PATTERN,
    CollectedOut,
    CompletedOut,
    ObjectOut,
    ObjectPage,
    PresignOut,
    PresignRequest,
    SessionComplete,
    SessionCreate,
    SessionOut,
    VersionCommit,
    VersionOut,
)
from services.storage.store import Base, ObjectRepository, StoredObject
from services.storage.uploads import UploadSessions
from shared.backends import get_bus, get_locks, get_storage
from shared.db import ensure_sqlite_directory, make_engine, make_session_factory, session_scope
from shared.errors import ConflictError
from shared.events.base import EventBus
from shared.problems import problem_response, problems
from shared.readiness import locks_check, schema_check
from shared.storage.base import ObjectStore
from shared.storage.bootstrap import PLATFORM_BUCKETS, ensure_buckets
from shared.utils.timeutils import utcnow
from shared.web import create_service_app, include_routes

Clock = Callable[[], datetime]
SHA256_HEADER = "X-Content-SHA256"
SHA_HEADER = Annotated[str | None, Header(alias=SHA256_HEADER)]
NAMESPACE = Annotated[str, Path(max_length=32)]
DATASET = Annotated[str, Path(pattern=DATASET_PATTERN)]


class Storage:
    """The service's use cases, as the routes reach them."""

    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        storage: Callable[[], ObjectStore],
        bus: Callable[[], EventBus],
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.objects = ObjectService(settings, session_factory, storage, clock)
        self.uploads = UploadSessions(self.objects)
        self.datasets = Datasets(self.objects, bus)

    def collect(self) -> list[str]:
        """Run garbage collection over objects and upload parts."""
        deleted = collect_garbage(self.objects)
        return deleted + self.uploads.collect(self.settings.gc_grace_seconds)

    def presign(self, body: PresignRequest) -> PresignOut:
        """Return a signed URL of a live object, valid for ``expires_in`` seconds."""
        info = self.objects.stat(body.namespace, body.key)
        expires_in = min(body.expires_in, self.settings.presign_max_expiry)
        expires_at = self.objects.now() + timedelta(seconds=expires_in)
        expires = int(expires_at.timestamp())
        url = presign.presigned_path(
            self.settings.presign_secret, info.namespace, info.key, expires
        )
        return PresignOut(url=url, expires_at=expires_at)

    def health(self) -> dict:
        """Report whether the database answers."""
        try:
            with session_scope(self.objects.session_factory) as session:
                ObjectRepository(session).ping()
        except SQLAlchemyError:
            return {"healthy": False, "database": "unavailable"}
        return {"database": "ok"}


def object_out(info: StoredObject) -> ObjectOut:
    """Return the API view of an object row."""
    return ObjectOut(
        namespace=info.namespace,
        key=info.key,
        size=info.size,
        sha256=info.sha256,
        content_type=info.content_type,
        created_at=info.created_at,
    )


def version_out(version: DatasetVersion) -> VersionOut:
    """Return the API view of a dataset version."""
    return VersionOut(
        dataset=version.dataset,
        version=version.version,
        namespace=version.namespace,
        size=version.size,
        objects=version.manifest,  # type: ignore[arg-type]
        created_at=version.created_at,
    )


def object_headers(info: StoredObject) -> dict[str, str]:
    """Return the headers describing a stored object."""
    return {
        "ETag": f'"{info.sha256}"',
        SHA256_HEADER: info.sha256,
        "Accept-Ranges": "bytes",
    }


def object_response(info: StoredObject, data: bytes, range_header: str | None) -> Response:
    """Answer a download: the whole object, one range (206), or 416 for an impossible range."""
    headers = object_headers(info)
    try:
        span = parse_range(range_header, len(data))
    except RangeNotSatisfiable as exc:
        headers["Content-Range"] = f"bytes */{exc.size}"
        return problem_response(416, "range_not_satisfiable", str(exc), headers=headers)
    if span is None:
        return Response(data, 200, headers=headers, media_type=info.content_type)
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first : last + 1], 206, headers=headers, media_type=info.content_type)


def get_storage_service(request: Request) -> Storage:
    """Return the use cases the app was built with."""
    return request.app.state.storage


StorageDep = Annotated[Storage, Depends(get_storage_service)]
router = APIRouter(prefix="/api/v1", tags=["storage"])
OBJECT = "/objects/{namespace}/{key:path}"


@router.put(
    OBJECT,
    status_code=201,
    response_model=ObjectOut,
    responses=problems(400, 409, 413, 415, 422, 503),
)
@router.post(OBJECT, status_code=201, response_model=ObjectOut, include_in_schema=False)
async def put_object(
    namespace: NAMESPACE, key: str, request: Request, svc: StorageDep, sha256: SHA_HEADER = None
) -> ObjectOut:
    """Upload an object (replacing the key's previous object); nothing is stored on refusal."""
    data = await request.body()
    content_type = request.headers.get("content-type")
    info = await run_in_threadpool(
        svc.objects.put, namespace, key, data, content_type=content_type, expected_sha256=sha256
    )
    return object_out(info)


@router.get(OBJECT, responses=problems(400, 404, 416, 502, 503))
def get_object(
    namespace: NAMESPACE,
    key: str,
    svc: StorageDep,
    range_: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """Download an object, or one byte range of it."""
    download = svc.objects.get(namespace, key)
    return object_response(download.info, download.data, range_)


@router.head(OBJECT, responses=problems(400, 404))
def head_object(namespace: NAMESPACE, key: str, svc: StorageDep) -> Response:
    """Return an object's size, type and SHA-256 as headers."""
    info = svc.objects.stat(namespace, key)
    headers = {**object_headers(info), "Content-Length": str(info.size)}
    return Response(status_code=200, headers=headers, media_type=info.content_type)


@router.delete(OBJECT, status_code=204, response_class=Response, responses=problems(400, 404, 409))
def delete_object(namespace: NAMESPACE, key: str, svc: StorageDep) -> Response:
    """Delete an object; its bytes go at the next garbage collection after the grace period."""
    svc.objects.delete(namespace, key)
    return Response(status_code=204)


@router.get("/objects/{namespace}", response_model=ObjectPage, responses=problems(400, 404))
def list_objects(
    namespace: NAMESPACE,
    svc: StorageDep,
    prefix: Annotated[str, Query(max_length=1024)] = "",
) -> ObjectPage:
    """List the live objects of a namespace whose key starts with ``prefix``."""
    items = [object_out(i) for i in svc.objects.list(namespace, prefix)]
    return ObjectPage(namespace=namespace, prefix=prefix, items=items)


@router.post(
    "/uploads", status_code=201, response_model=SessionOut, responses=problems(400, 404, 409, 415)
)
def create_upload(body: SessionCreate, svc: StorageDep) -> SessionOut:
    """Open a resumable upload session."""
    return SessionOut(**svc.uploads.create(body.namespace, body.key, body.content_type))


@router.get("/uploads/{session_id}", response_model=SessionOut, responses=problems(404))
def get_upload(session_id: str, svc: StorageDep) -> SessionOut:
    """Return a session and its received parts (what a reconnecting client resumes from)."""
    return SessionOut(**svc.uploads.get(session_id))


@router.put(
    "/uploads/{session_id}/parts/{number}", responses=problems(400, 404, 409, 413, 422, 503)
)
async def put_part(
    session_id: str, number: int, request: Request, svc: StorageDep, sha256: SHA_HEADER = None
) -> dict:
    """Upload one part; its SHA-256 header is required and checked."""
    data = await request.body()
    return await run_in_threadpool(svc.uploads.put_part, session_id, number, data, sha256)


@router.post(
    "/uploads/{session_id}/complete",
    response_model=CompletedOut,
    responses=problems(404, 409, 413, 422, 503),
)
def complete_upload(
    session_id: str, body: SessionComplete, svc: StorageDep, response: Response
) -> CompletedOut:
    """Join the parts into the object; completing again returns the same object."""
    done = svc.uploads.complete(session_id, body.parts, body.sha256)
    response.status_code = 201 if done["created"] else 200
    return CompletedOut(session=done["session"], object=object_out(done["object"]))


@router.delete(
    "/uploads/{session_id}", status_code=204, response_class=Response, responses=problems(404, 409)
)
def abort_upload(session_id: str, svc: StorageDep) -> Response:
    """Abort a session; its parts go at the next garbage collection."""
    svc.uploads.abort(session_id)
    return Response(status_code=204)


@router.post(
    "/datasets/{dataset}/versions",
    status_code=201,
    response_model=VersionOut,
    responses=problems(400, 404, 422),
)
def commit_version(
    dataset: DATASET, body: VersionCommit, svc: StorageDep, response: Response
) -> VersionOut:
    """Commit objects of the datasets namespace as a version (same content, same version)."""
    version, created = svc.datasets.commit(dataset, body.keys)
    response.status_code = 201 if created else 200
    return version_out(version)


@router.get("/datasets/{dataset}/versions", response_model=list[VersionOut])
def list_versions(dataset: DATASET, svc: StorageDep) -> list[VersionOut]:
    """List a dataset's committed versions, oldest first."""
    return [version_out(v) for v in svc.datasets.list(dataset)]


@router.get(
    "/datasets/{dataset}/versions/{version}", response_model=VersionOut, responses=problems(404)
)
def get_version(dataset: DATASET, version: str, svc: StorageDep) -> VersionOut:
    """Return one committed version and its manifest."""
    return version_out(svc.datasets.get(dataset, version))


@router.api_route(
    "/datasets/{dataset}/versions/{version}",
    methods=["PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def modify_version(dataset: DATASET, version: str, svc: StorageDep) -> Response:
    """Refuse any change to a committed version."""
    svc.datasets.get(dataset, version)
    raise ConflictError(f"dataset {dataset!r} version {version} is committed and immutable")


@router.post("/presign", response_model=PresignOut, responses=problems(400, 404))
def presign_download(body: PresignRequest, svc: StorageDep) -> PresignOut:
    """Return a signed, expiring download URL of an object."""
    return svc.presign(body)


@router.get(
    presign.PRESIGNED_PATH.removeprefix("/api/v1") + "/{namespace}/{key:path}",
    responses=problems(400, 403, 404, 416),
)
def presigned_download(
    namespace: NAMESPACE,
    key: str,
    svc: StorageDep,
    expires: Annotated[int, Query(ge=0)],
    signature: Annotated[str, Query(max_length=128)],
    range_: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """Serve an object to whoever holds an unexpired URL signed for it."""
    presign.check_signature(
        svc.settings.presign_secret, namespace, key, expires, signature, svc.objects.now()
    )
    download = svc.objects.get(namespace, key)
    return object_response(download.info, download.data, range_)


@router.post("/gc", response_model=CollectedOut)
def run_gc(svc: StorageDep) -> CollectedOut:
    """Delete objects no row references any more (after the grace period)."""
    return CollectedOut(deleted=svc.collect())


def build_session_factory(settings: Settings) -> sessionmaker[Session]:
    """Create the engine and session factory for the configured database."""
    ensure_sqlite_directory(settings.database_url)
    engine = make_engine(settings.database_url)
    return make_session_factory(engine, Base.metadata if settings.create_schema else None)


def buckets_check(storage: Callable[[], ObjectStore]) -> Callable[[], str | None]:
    """Return a readiness check that every platform bucket exists."""

    def check() -> str | None:
        missing = [b for b in PLATFORM_BUCKETS if not storage().bucket_exists(b)]
        return f"missing buckets: {', '.join(missing)}" if missing else None

    return check


def readiness_checks(
    session_factory: sessionmaker[Session], storage: Callable[[], ObjectStore]
) -> dict[str, Callable[[], str | None]]:
    """Return what /ready checks: the database schema, the platform buckets and the locks."""
    return {
        "database": schema_check(session_factory, Base.metadata),
        "buckets": buckets_check(storage),
        "locks": locks_check(get_locks),
    }


def wire(app: FastAPI, svc: Storage, ready: dict[str, Callable[[], str | None]]) -> None:
    """Point an app's routes, health and readiness at one set of use cases."""
    app.state.settings = svc.settings
    app.state.storage = svc
    app.state.ready_checks = dict(ready)


def create_app(
    settings: Settings | None = None,
    session_factory: sessionmaker[Session] | None = None,
    *,
    storage: Callable[[], ObjectStore] | None = None,
    bus: Callable[[], EventBus] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build the storage service app; startup creates the platform buckets or fails."""
    settings = settings or get_settings()
    storage = storage or get_storage
    ensure_buckets(storage())
    if session_factory is None:
        session_factory = build_session_factory(settings)
    svc = Storage(settings, session_factory, storage, bus or get_bus, clock or utcnow)
    max_body = max(settings.max_object_size, settings.max_part_size) + 64 * 1024
    app = create_service_app(
        "storage", health=lambda: app.state.storage.health(), max_body_bytes=max_body
    )
    wire(app, svc, readiness_checks(session_factory, storage))
    include_routes(app, router)
    return app
