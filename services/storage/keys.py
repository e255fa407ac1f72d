"""The rules an object key must follow: one module, so every route checks keys the same way.

A key names an object inside its namespace and is stored exactly as the client sent it (after
the one percent-decoding the URL path gets). Anything that could make two spellings name one
object, or let a key leave its namespace, is refused instead of repaired: dot segments, empty
segments, absolute paths, backslashes, control characters, text still percent-encoded (a
second decoding downstream would change it), and text that Unicode NFKC normalisation changes
(fullwidth dots and slashes, ligatures, one-dot leaders).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

from shared.errors import BadRequestError

MAX_KEY_BYTES = 1024
# First segment of the objects the service keeps for itself (upload parts).
RESERVED_SEGMENT = "_synapse"


class InvalidKeyError(BadRequestError):
    """Raised when an object key or prefix breaks the key rules."""

    code = "invalid_key"


def object_key(raw: str) -> str:
    """Return the key an object is stored under, or raise InvalidKeyError."""
    key = _canonical(raw, what="key")
    segments = key.split("/")
    if key.startswith("/") or any(s in ("", ".", "..") for s in segments):
        raise InvalidKeyError(
            f"invalid key {raw!r}: empty, '.' and '..' segments and leading '/' are not allowed"
        )
    if segments[0] == RESERVED_SEGMENT:
        raise InvalidKeyError(f"invalid key {raw!r}: {RESERVED_SEGMENT}/ is reserved")
    return key


def key_prefix(raw: str) -> str:
    """Return a listing prefix that follows the key rules (it may end with '/'), or raise."""
    if raw == "":
        return raw
    prefix = _canonical(raw, what="prefix")
    segments = prefix.removesuffix("/").split("/")
    if prefix.startswith("/") or any(s in ("", ".", "..") for s in segments):
        raise InvalidKeyError(f"invalid prefix {raw!r}: dot or empty segments are not allowed")
    return prefix


def _canonical(raw: str, *, what: str) -> str:
    """Return ``raw`` when no decoding or normalisation would change it, else raise."""
    if not isinstance(raw, str) or not raw or len(raw.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"{what} must be 1-{MAX_KEY_BYTES} bytes of UTF-8")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in raw):
        raise InvalidKeyError(f"invalid {what} {raw!r}: control characters are not allowed")
    if "\\" in raw:
        raise InvalidKeyError(f"invalid {what} {raw!r}: backslashes are not allowed")
    if unquote(raw) != raw:
        raise InvalidKeyError(f"invalid {what} {raw!r}: percent-encoded text is not allowed")
    if unicodedata.normalize("NFKC", raw) != raw:
        raise InvalidKeyError(f"invalid {what} {raw!r}: the key is not in Unicode NFKC form")
    return raw
