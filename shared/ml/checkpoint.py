"""Training checkpoints in the safe npz format: atomic writes, a publish lock, keep-last-N."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import UnsafeArtifactError, ValidationError
from shared.ml import files
from shared.ml.archive import decode_npz, encode_npz
from shared.ml.arrays import FloatArray
from shared.ml.files import resolve_inside
from shared.ml.model_loader import group_arrays

FORMAT_NAME = "synapsenet-checkpoint"
SECTIONS = ("weights", "buffers", "velocity", "best")
CHECKPOINT_RE = re.compile(r"^ckpt-(\d{8})\.npz$")

_path_locks: dict[str, threading.Lock] = {}
_path_locks_guard = threading.Lock()


def path_lock(path: Path) -> threading.Lock:
    """Return the process-wide lock that serialises publishing to ``path``."""
    with _path_locks_guard:
        return _path_locks.setdefault(str(path), threading.Lock())


@dataclass
class TrainingState:
    """Everything needed to resume training exactly."""

    weights: dict[str, FloatArray]
    step: int
    optimizer: dict[str, Any] = field(default_factory=lambda: {"velocity": {}, "steps": 0})
    rng_state: dict[str, Any] | None = None
    scaler: dict[str, Any] | None = None
    buffers: dict[str, FloatArray] = field(default_factory=dict)
    best: dict[str, FloatArray] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def encode_checkpoint(state: TrainingState) -> bytes:
    """Serialise a training state to npz bytes."""
    sections = {
        "weights": state.weights,
        "buffers": state.buffers,
        "velocity": state.optimizer.get("velocity", {}),
        "best": state.best,
    }
    arrays = {f"{s}/{k}": np.asarray(v) for s, items in sections.items() for k, v in items.items()}
    header = {
        "format": FORMAT_NAME,
        "step": int(state.step),
        "optimizer_steps": int(state.optimizer.get("steps", 0)),
        "rng_state": state.rng_state,
        "scaler": state.scaler,
        "extra": state.extra,
    }
    return encode_npz(header, arrays)


def decode_checkpoint(data: bytes) -> TrainingState:
    """Parse and verify checkpoint bytes written by ``encode_checkpoint``."""
    header, arrays = decode_npz(data, format_name=FORMAT_NAME)
    sections = group_arrays(arrays, SECTIONS)
    if not isinstance(header.get("step"), int):
        raise ValidationError("checkpoint header has no step")
    return TrainingState(
        weights=sections["weights"],
        buffers=sections["buffers"],
        best=sections["best"],
        step=header["step"],
        optimizer={"velocity": sections["velocity"], "steps": header.get("optimizer_steps", 0)},
        rng_state=header.get("rng_state"),
        scaler=header.get("scaler"),
        extra=header.get("extra") or {},
    )


def save_checkpoint(
    state: TrainingState,
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    lock: contextlib.AbstractContextManager[Any] | None = None,
    on_written: Callable[[Path], None] | None = None,
) -> str:
    """Write a checkpoint atomically and return its sha256.

    The bytes go to a private temp file (fsynced) outside the lock, so concurrent writers do
    not wait on each other's I/O; only the rename that publishes the file runs under the
    lock. ``on_written(temp_path)`` runs between writing and publishing.
    """
    target = resolve_inside(path, root)
    data = encode_checkpoint(state)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            files.sync_fd(fh.fileno())
        if on_written is not None:
            on_written(tmp)
        with lock if lock is not None else path_lock(target):
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    files.fsync_dir(target.parent)
    return hashlib.sha256(data).hexdigest()


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    expected_sha256: str | None = None,
) -> TrainingState:
    """Read and verify a checkpoint; optionally check its sha256."""
    target = resolve_inside(path, root)
    if not target.is_file():
        raise ValidationError(f"checkpoint {target.name!r} does not exist")
    data = target.read_bytes()
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise UnsafeArtifactError("checkpoint checksum mismatch")
    return decode_checkpoint(data)


class CheckpointManager:
    """Save checkpoints numbered by step in a directory, keeping the last N."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        keep_last: int = 3,
        lock: contextlib.AbstractContextManager[Any] | None = None,
    ) -> None:
        if keep_last < 1:
            raise ValidationError("keep_last must be at least 1")
        self.directory = Path(directory).resolve()
        self.keep_last = keep_last
        self.lock = lock if lock is not None else path_lock(self.directory)

    def path_for(self, step: int) -> Path:
        """Return the file name used for a step."""
        return self.directory / f"ckpt-{step:08d}.npz"

    def save(self, state: TrainingState, **kwargs: Any) -> Path:
        """Write the checkpoint for ``state.step`` and drop all but the newest ``keep_last``."""
        target = self.path_for(state.step)
        save_checkpoint(state, target, lock=self.lock, **kwargs)
        with self.lock:
            for old in self.list()[: -self.keep_last]:
                old.unlink(missing_ok=True)
        return target

    def list(self) -> list[Path]:
        """Return existing checkpoints, oldest step first."""
        if not self.directory.is_dir():
            return []
        steps = {
            p: m.group(1) for p in self.directory.iterdir() if (m := CHECKPOINT_RE.match(p.name))
        }
        return sorted(steps, key=lambda p: int(steps[p]))

    def latest(self) -> Path | None:
        """Return the newest checkpoint path, or None."""
        paths = self.list()
        return paths[-1] if paths else None

    def load_latest(self) -> TrainingState | None:
        """Load the newest checkpoint, or return None when there is none."""
        latest = self.latest()
        return None if latest is None else load_checkpoint(latest)
