"""Micro-batching: concurrent predictions of one loaded model version share one model call.

The first request for a model opens a batch and waits at most ``wait`` seconds for companions;
requests that arrive meanwhile join it. The batch runs as soon as it holds ``max_rows`` rows,
or when the wait is over, whichever comes first; a request never waits past the bound. Each
caller gets back exactly its own rows' predictions, in order. Callers validate their rows
first, so a bad request fails alone and never reaches a batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from services.inference.predictions import format_predictions
from shared.ml.model_loader import ModelArtifact

Predictions = list[dict[str, Any]]
# Wait on an event for at most ``timeout`` seconds; return whether it was set (Event.wait).
Waiter = Callable[[threading.Event, float], bool]
Runner = Callable[[ModelArtifact, np.ndarray], Predictions]


def event_wait(event: threading.Event, timeout: float) -> bool:
    """Wait for ``event`` at most ``timeout`` seconds (the production waiter)."""
    return event.wait(timeout)


@dataclass(eq=False)
class Batch:
    """Rows gathered for one model; ``full`` is set once no more rows may join."""

    model: ModelArtifact
    parts: list[np.ndarray] = field(default_factory=list)
    rows: int = 0
    full: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    results: list[Predictions] = field(default_factory=list)
    error: BaseException | None = None

    def add(self, X: np.ndarray) -> int:
        """Append one request's rows and return its position in the batch."""
        self.parts.append(X)
        self.rows += len(X)
        return len(self.parts) - 1


class Batcher:
    """Gather concurrent predictions per (key, model) into calls of at most ``max_rows`` rows.

    With ``wait`` zero, or a request of ``max_rows`` rows or more, nothing waits: the rows
    run at once, alone. ``waiter`` is injected in tests to wait on events instead of time.
    """

    def __init__(
        self,
        max_rows: int,
        wait: float,
        *,
        waiter: Waiter = event_wait,
        run: Runner = format_predictions,
    ) -> None:
        if max_rows < 1 or wait < 0:
            raise ValueError("max_rows must be at least 1 and wait at least 0")
        self.max_rows = max_rows
        self.wait = wait
        self.calls = 0
        self._waiter = waiter
        self._run = run
        self._lock = threading.Lock()
        self._open: dict[tuple[str, int], Batch] = {}

    def predict(self, key: str, model: ModelArtifact, X: np.ndarray) -> Predictions:
        """Return the predictions of ``X`` by ``model``, computed in a batch with companions."""
        if self.wait == 0 or len(X) >= self.max_rows:
            return self._call(model, X)
        slot = (key, id(model))
        with self._lock:
            batch = self._open.get(slot)
            if batch is not None and batch.rows + len(X) > self.max_rows:
                self._close(slot, batch)  # no room: it goes now, this request opens the next
                batch = None
            leader = batch is None
            if batch is None:
                batch = self._open[slot] = Batch(model)
            index = batch.add(X)
            if batch.rows >= self.max_rows:
                self._close(slot, batch)
        if leader:
            try:
                self._waiter(batch.full, self.wait)
            finally:  # whatever the wait did, the batch runs: its companions wait for it
                with self._lock:
                    self._close(slot, batch)
                self._execute(batch)
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error
        return batch.results[index]

    def _close(self, slot: tuple[str, int], batch: Batch) -> None:
        # Callers hold the lock: the batch takes no more rows and its leader stops waiting.
        if self._open.get(slot) is batch:
            del self._open[slot]
        batch.full.set()

    def _execute(self, batch: Batch) -> None:
        try:
            predictions = self._call(batch.model, np.concatenate(batch.parts))
            bounds = np.cumsum([0, *(len(part) for part in batch.parts)]).tolist()
            batch.results = [predictions[a:b] for a, b in pairwise(bounds)]
        except BaseException as exc:  # every member of the batch gets the model's failure
            batch.error = exc
        finally:
            batch.done.set()

    def _call(self, model: ModelArtifact, X: np.ndarray) -> Predictions:
        with self._lock:
            self.calls += 1
        return self._run(model, X)
