"""Concurrent checkpoint saves: the file on disk is always one complete checkpoint."""

import hashlib
import threading

import numpy as np
import pytest

from shared.ml.checkpoint import CheckpointManager, TrainingState, load_checkpoint, save_checkpoint
from tests.utils.ml import fake_fsync  # noqa: F401

pytestmark = [pytest.mark.training, pytest.mark.usefixtures("fake_fsync")]

# Bound on barrier and join waits: never reached on a correct run, generous under load.
WAIT = 30.0


def state_for(step: int) -> TrainingState:
    """A state whose every array encodes its step, so a mixed file is detectable."""
    return TrainingState(
        weights={
            "W": np.full((64, 64), step, dtype=np.float32),
            "b": np.full(64, step, np.float32),
        },
        step=step,
        optimizer={"velocity": {"W": np.full((64, 64), -step, np.float32)}, "steps": step},
    )


def assert_consistent(state: TrainingState) -> None:
    step = state.step
    assert np.all(state.weights["W"] == step) and np.all(state.weights["b"] == step)
    assert np.all(state.optimizer["velocity"]["W"] == -step)
    assert state.optimizer["steps"] == step


def run_concurrently(save, steps, barrier):
    """Call ``save(step)`` in one thread per step and return the results by step.

    A failing call breaks ``barrier``, so the other threads stop waiting and its error is
    reported instead of a timeout.
    """
    results, errors = {}, []

    def worker(step):
        try:
            results[step] = save(step)
        except Exception as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(s,)) for s in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    return results


def run_writers(target, steps, on_written, barrier):
    """Save the state of each step to ``target`` concurrently; return the digests by step."""
    return run_concurrently(
        lambda step: save_checkpoint(state_for(step), target, on_written=on_written),
        steps,
        barrier,
    )


def test_concurrent_saves_leave_one_complete_checkpoint(tmp_path):
    target = tmp_path / "latest.npz"
    barrier = threading.Barrier(2, timeout=WAIT)
    digests = run_writers(target, (1, 2), lambda tmp: barrier.wait(), barrier)
    on_disk = hashlib.sha256(target.read_bytes()).hexdigest()
    assert on_disk in digests.values()
    assert_consistent(load_checkpoint(target))


def test_nothing_is_published_until_a_writer_has_finished(tmp_path):
    target = tmp_path / "latest.npz"
    barrier = threading.Barrier(2, timeout=WAIT)
    seen = []

    def hook(tmp):
        barrier.wait()  # both writers have written all their bytes
        seen.append(target.exists())
        barrier.wait()  # neither publishes before both have looked

    run_writers(target, (1, 2), hook, barrier)
    assert seen == [False, False]
    assert_consistent(load_checkpoint(target))


def test_previous_checkpoint_stays_readable_while_writers_race(tmp_path):
    target = tmp_path / "latest.npz"
    save_checkpoint(state_for(7), target)
    barrier = threading.Barrier(2, timeout=WAIT)
    during = []

    def hook(tmp):
        barrier.wait()
        during.append(load_checkpoint(target).step)
        barrier.wait()

    run_writers(target, (8, 9), hook, barrier)
    assert during == [7, 7]
    assert load_checkpoint(target).step in (8, 9)


def test_temporary_files_are_cleaned_up_after_racing_saves(tmp_path):
    target = tmp_path / "latest.npz"
    barrier = threading.Barrier(2, timeout=WAIT)
    run_writers(target, (3, 4), lambda tmp: barrier.wait(), barrier)
    assert [p.name for p in tmp_path.iterdir()] == ["latest.npz"]


def test_manager_rotation_under_concurrent_saves_keeps_the_newest(tmp_path):
    manager = CheckpointManager(tmp_path, keep_last=2)
    manager.save(state_for(1))
    barrier = threading.Barrier(2, timeout=WAIT)
    run_concurrently(
        lambda step: manager.save(state_for(step), on_written=lambda tmp: barrier.wait()),
        (2, 3),
        barrier,
    )
    assert [p.name for p in manager.list()] == ["ckpt-00000002.npz", "ckpt-00000003.npz"]
    for path in manager.list():
        assert_consistent(load_checkpoint(path))
