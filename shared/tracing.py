"""Correlation IDs: one per request, carried on HTTP headers and on bus records.

Every service app binds the caller's ``X-Correlation-ID`` (or a fresh one) for the duration of
a request and echoes it on the response; events published while handling the request carry it
in their envelope and as a record header, so a consumer can file what it reads under the
request that caused it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

CORRELATION_HEADER = "x-correlation-id"
CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    """Return the correlation ID of the request being handled, if any."""
    return _current.get()


def well_formed(value: str | None) -> bool:
    """Return whether ``value`` may be used as a correlation ID."""
    return value is not None and CORRELATION_ID.match(value) is not None


def new_correlation_id() -> str:
    """Return a fresh correlation ID."""
    return uuid.uuid4().hex


def bind_correlation_id(value: str | None) -> Token[str | None]:
    """Bind ``value`` as the current correlation ID; reset with the returned token."""
    return _current.set(value)


def unbind_correlation_id(token: Token[str | None]) -> None:
    """Restore the correlation ID bound before ``bind_correlation_id``."""
    _current.reset(token)
