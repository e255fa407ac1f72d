"""Signed, expiring download URLs: an HMAC-SHA256 over the object and its expiry time.

A URL opens the one object it was made for until its expiry; the signature is compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote, urlencode

from shared.errors import PermissionDeniedError

PRESIGNED_PATH = "/api/v1/presigned"


class SignatureError(PermissionDeniedError):
    """Raised when a signed URL is expired, tampered with or signed for another object."""

    code = "invalid_signature"


def signature(secret: str, namespace: str, key: str, expires: int) -> str:
    """Return the hex HMAC of one object's download until ``expires`` (Unix seconds)."""
    message = "\n".join((namespace, key, str(expires))).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def presigned_path(secret: str, namespace: str, key: str, expires: int) -> str:
    """Return the path and query of the signed download URL of one object."""
    query = urlencode({"expires": expires, "signature": signature(secret, namespace, key, expires)})
    return f"{PRESIGNED_PATH}/{namespace}/{quote(key, safe='/')}?{query}"


def check_signature(
    secret: str, namespace: str, key: str, expires: int, given: str, now: datetime
) -> None:
    """Raise SignatureError unless ``given`` signs this object and ``now`` is before expiry."""
    expected = signature(secret, namespace, key, expires)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise SignatureError("the download signature does not match this object")
    if now.timestamp() >= expires:
        raise SignatureError("the download link has expired")
