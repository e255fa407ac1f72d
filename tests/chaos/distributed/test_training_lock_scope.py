"""Where jobs run decides the model lock's backend: a worker refuses an in-process one."""

import logging

import pytest

from services.training.config import Settings
from services.training.main import create_worker_app
from shared.backend_scope import BackendScopeError
from shared.utils.distributed import InMemoryLockFactory
from tests.utils.training import make_training_env

pytestmark = pytest.mark.training


def test_worker_refuses_a_model_lock_that_lives_in_one_process():
    # Its pool runs jobs in several processes; each would hold its own copy of the lock.
    with pytest.raises(BackendScopeError, match="SYNAPSE_LOCKS_BACKEND=redis"):
        create_worker_app(Settings(), lock_factory=InMemoryLockFactory())


def test_api_running_jobs_inline_warns_its_model_lock_is_for_this_process_only(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="synapse.backends"):
        make_training_env(tmp_path)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "synapse.backends"]
    assert "locks backend 'memory' (this process only)" in warning
    assert "jobs run inside this API process" in warning
