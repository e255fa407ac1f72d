"""The npz archive codec: a JSON header plus plain numeric arrays, read without unpickling."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from typing import Any

import numpy as np
import numpy.typing as npt

from shared.errors import UnsafeArtifactError

HEADER_KEY = "header"
MAX_HEADER_BYTES = 1024 * 1024
# Only plain numeric arrays may appear in an archive; everything else could hide a payload.
ALLOWED_DTYPE_KINDS = frozenset("fiub")
# A fixed zip timestamp makes identical archives byte-identical, so their checksums match.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
# numpy parses every .npy header with ast.literal_eval, and CPython 3.11's AST constructor
# tracks its recursion depth in per-interpreter state: two threads parsing at once can fail
# with "SystemError: AST constructor recursion depth mismatch" (cpython gh-106905). Archive
# reads therefore take this process-wide lock.
NPZ_READ_LOCK = threading.Lock()
Array = npt.NDArray[Any]


def encode_npz(header: dict[str, Any], arrays: dict[str, Array]) -> bytes:
    """Serialise a JSON header plus plain numeric arrays into npz bytes (no pickles)."""
    full = {**header, "arrays": {key: describe_array(arr) for key, arr in sorted(arrays.items())}}
    header_bytes = json.dumps(full, sort_keys=True, allow_nan=False).encode()
    entries = [(HEADER_KEY, np.frombuffer(header_bytes, dtype=np.uint8)), *sorted(arrays.items())]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, arr in entries:
            info = zipfile.ZipInfo(key + ".npy", date_time=ZIP_DATE_TIME)
            with zf.open(info, "w") as member:
                np.save(member, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def describe_array(arr: Array) -> dict[str, Any]:
    """Return the dtype, shape and content checksum a header records for an array."""
    return {
        "dtype": arr.dtype.str,
        "shape": list(arr.shape),
        "sha256": hashlib.sha256(np.asarray(arr, order="C").tobytes()).hexdigest(),
    }


def decode_npz(data: bytes, *, format_name: str) -> tuple[dict[str, Any], dict[str, Array]]:
    """Read npz bytes safely and check every array against the header's description."""
    if not data.startswith(b"PK\x03\x04"):
        raise UnsafeArtifactError("artifact is not an npz archive")
    arrays = _read_arrays(data)
    header = _parse_header(arrays.pop(HEADER_KEY, None))
    if header.get("format") != format_name:
        raise UnsafeArtifactError(f"artifact header has format {header.get('format')!r}")
    described = header["arrays"]
    if set(arrays) != set(described):
        raise UnsafeArtifactError(
            "artifact entries do not match its header",
            details={
                "unexpected": sorted(set(arrays) - set(described)),
                "missing": sorted(set(described) - set(arrays)),
            },
        )
    for key, arr in arrays.items():
        if describe_array(arr) != described[key]:
            raise UnsafeArtifactError(f"array {key!r} does not match its header description")
    return header, arrays


def _read_arrays(data: bytes) -> dict[str, Array]:
    arrays: dict[str, Array] = {}
    try:
        with NPZ_READ_LOCK, np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for key in npz.files:
                arr = npz[key]
                if arr.dtype.kind not in ALLOWED_DTYPE_KINDS:
                    raise UnsafeArtifactError(f"array {key!r} has disallowed dtype {arr.dtype}")
                arrays[key] = arr
    except UnsafeArtifactError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise UnsafeArtifactError(f"artifact could not be read safely: {exc}") from exc
    return arrays


def _parse_header(raw: Array | None) -> dict[str, Any]:
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise UnsafeArtifactError("artifact has no valid header")
    if raw.size > MAX_HEADER_BYTES:
        raise UnsafeArtifactError("artifact header is too large")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnsafeArtifactError("artifact header is not valid JSON") from exc
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), dict):
        raise UnsafeArtifactError("artifact header is malformed")
    return header
