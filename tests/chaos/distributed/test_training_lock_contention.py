"""Jobs of one model contend for its lock; crashes and lost leases never leave a mess."""

import threading
from dataclasses import dataclass, field

import pytest

from services.training.main import lock_name, run_job, submit_job
from services.training.schemas import JobCreate
from shared.ml.trainer import train
from shared.utils.distributed import InMemoryLockFactory
from tests.utils.training import (
    TickingClock,
    fetch,
    file_session_factory,
    job_payload,
    make_training_env,
)

pytestmark = pytest.mark.training

WAIT = 5.0  # generous bound on event waits; never reached when the code is right


@dataclass
class ContentionProbe:
    """Lock factory double: records when an acquire finds the lock taken, then waits for it."""

    inner: InMemoryLockFactory
    contended: threading.Event = field(default_factory=threading.Event)

    def __call__(self, name, ttl):
        return ProbeLock(self.inner(name, ttl), self)


class ProbeLock:
    def __init__(self, lock, probe):
        self._lock, self._probe, self.name = lock, probe, lock.name

    def acquire(self, timeout=None):
        if self._lock.acquire(timeout=0):
            return True
        self._probe.contended.set()
        return self._lock.acquire(timeout=timeout)

    def __getattr__(self, attr):
        return getattr(self._lock, attr)


class GatedTrainer:
    """Trainer double: the first call signals ``inside`` and waits for ``gate``."""

    def __init__(self):
        self.inside, self.gate, self.second = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )
        self.calls = 0

    def __call__(self, config, dataset, *, seed, on_epoch=None, **options):
        self.calls += 1
        if self.calls == 1:
            self.inside.set()
            assert self.gate.wait(WAIT)
        else:
            self.second.set()
        return train(config, dataset, seed=seed, on_epoch=on_epoch, **options)


def queued_job(env, model_name="churn"):
    request = JobCreate(**job_payload(model_name))
    return submit_job(request, env.deps, dispatch=lambda job_id: None).id


def in_thread(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def lock_clock():
    return TickingClock()


def make_env(tmp_path, lock_clock, *, timeout=WAIT, **kw):
    lock_factory = kw.pop("lock_factory", None) or InMemoryLockFactory(clock=lock_clock)
    return make_training_env(
        tmp_path,
        lock_factory=lock_factory,
        session_factory=file_session_factory(tmp_path / "jobs.db"),
        settings={"lock_timeout": timeout},
        **kw,
    )


def test_second_job_of_a_model_waits_for_the_lock(tmp_path, lock_clock):
    probe, trainer = ContentionProbe(InMemoryLockFactory(clock=lock_clock)), GatedTrainer()
    env = make_env(tmp_path, lock_clock, lock_factory=probe, trainer=trainer)
    first, second = queued_job(env), queued_job(env)
    t1 = in_thread(run_job, first, env.deps)
    assert trainer.inside.wait(WAIT)
    t2 = in_thread(run_job, second, env.deps)
    assert probe.contended.wait(WAIT)
    assert not trainer.second.is_set()
    trainer.gate.set()
    t1.join(WAIT), t2.join(WAIT)
    versions = env.registry.versions["churn"]
    assert [(v["version"], v["run_id"]) for v in versions] == [(1, first), (2, second)]


def test_waiting_job_succeeds_after_the_holder_finishes(tmp_path, lock_clock):
    probe, trainer = ContentionProbe(InMemoryLockFactory(clock=lock_clock)), GatedTrainer()
    env = make_env(tmp_path, lock_clock, lock_factory=probe, trainer=trainer)
    first, second = queued_job(env), queued_job(env)
    t1 = in_thread(run_job, first, env.deps)
    assert trainer.inside.wait(WAIT)
    t2 = in_thread(run_job, second, env.deps)
    assert probe.contended.wait(WAIT)
    trainer.gate.set()
    t1.join(WAIT), t2.join(WAIT)
    statuses = [fetch(env, job_id)["status"] for job_id in (first, second)]
    assert statuses == ["succeeded", "succeeded"]
    assert fetch(env, second)["model_version"] == 2


def test_job_that_cannot_get_the_lock_in_time_fails_cleanly(tmp_path, lock_clock):
    env = make_env(tmp_path, lock_clock, timeout=0.0)
    holder = env.deps.lock_factory(lock_name("churn"), 600)
    assert holder.acquire(timeout=0)
    job_id = queued_job(env)
    assert run_job(job_id, env.deps) == "failed"
    job = fetch(env, job_id)
    assert "being trained by another job" in job["error"]
    assert env.registry.calls == []
    assert holder.held()


def test_jobs_of_different_models_do_not_wait_for_each_other(tmp_path, lock_clock):
    env = make_env(tmp_path, lock_clock, timeout=0.0)
    holder = env.deps.lock_factory(lock_name("churn"), 600)
    assert holder.acquire(timeout=0)
    assert run_job(queued_job(env, "fraud"), env.deps) == "succeeded"


def crashing_trainer(config, dataset, *, seed, on_epoch=None, **options):
    def crash(record):
        if record["epoch"] == 1:
            raise RuntimeError("worker lost its GPU at epoch 1")
        on_epoch(record)

    return train(config, dataset, seed=seed, on_epoch=crash, **options)


def test_job_crashing_mid_training_releases_the_lock(tmp_path, lock_clock):
    env = make_env(tmp_path, lock_clock, trainer=crashing_trainer)
    assert run_job(queued_job(env), env.deps) == "failed"
    probe = env.deps.lock_factory(lock_name("churn"), 600)
    assert probe.owner() is None
    assert probe.acquire(timeout=0)


def test_job_crashing_mid_training_is_marked_failed_with_the_cause(tmp_path, lock_clock):
    env = make_env(tmp_path, lock_clock, trainer=crashing_trainer)
    job_id = queued_job(env)
    run_job(job_id, env.deps)
    job = fetch(env, job_id)
    assert job["status"] == "failed"
    assert job["error"] == "RuntimeError: worker lost its GPU at epoch 1"
    assert job["model_version"] is None and job["finished_at"] is not None
    assert env.registry.calls == []


def test_registry_failure_releases_the_lock_and_fails_the_job(tmp_path, lock_clock):
    env = make_env(tmp_path, lock_clock)
    env.registry.fail_register = ConnectionError("registry down")
    job_id = queued_job(env)
    assert run_job(job_id, env.deps) == "failed"
    assert "registry down" in fetch(env, job_id)["error"]
    assert env.deps.lock_factory(lock_name("churn"), 600).acquire(timeout=0)


def test_lock_of_a_dead_holder_expires_after_its_ttl(tmp_path, lock_clock):
    env = make_env(tmp_path, lock_clock, timeout=0.0)
    dead = env.deps.lock_factory(lock_name("churn"), 600)
    assert dead.acquire(timeout=0)
    lock_clock.advance(601)
    assert run_job(queued_job(env), env.deps) == "succeeded"


def stalling_trainer(lock_clock, during_stall=lambda: None):
    """Return a trainer whose every epoch outlasts the lock's lease (then runs ``during_stall``)."""

    def trainer(config, dataset, *, seed, on_epoch=None, **options):
        def stall(record):
            lock_clock.advance(10_000)
            during_stall()
            on_epoch(record)

        return train(config, dataset, seed=seed, on_epoch=stall, **options)

    return trainer


def test_job_that_loses_its_lease_stops_before_registering(tmp_path, lock_clock):
    env = make_env(tmp_path, lock_clock, trainer=stalling_trainer(lock_clock))
    job_id = queued_job(env)
    assert run_job(job_id, env.deps) == "failed"
    assert "lost the lock" in fetch(env, job_id)["error"]
    assert env.registry.calls == []


def test_job_whose_lock_was_taken_over_stops_and_the_new_holder_keeps_it(tmp_path, lock_clock):
    taken = []

    def take_over():
        if not taken:
            other = env.deps.lock_factory(lock_name("churn"), 600)
            assert other.acquire(timeout=0)
            taken.append(other)

    env = make_env(tmp_path, lock_clock, trainer=stalling_trainer(lock_clock, take_over))
    job_id = queued_job(env)
    assert run_job(job_id, env.deps) == "failed"
    assert "lost the lock" in fetch(env, job_id)["error"]
    assert env.registry.calls == []
    assert taken[0].held()
