"""The command line's own logic: the readiness bound and the environment of the processes."""

from __future__ import annotations

import pytest

from devstack.cli import REPO_ROOT, child_environment, ready_timeout
from devstack.plan import build_plan
from devstack.supervisor import DevstackError


def test_ready_timeout_defaults_and_reads_the_environment():
    assert ready_timeout({}) == 90.0
    assert ready_timeout({"SYNAPSE_DEVSTACK_READY_TIMEOUT": "12.5"}) == 12.5


@pytest.mark.parametrize("raw", ["soon", "0", "-3"])
def test_a_bad_ready_timeout_is_refused_with_its_name(raw):
    with pytest.raises(DevstackError, match="SYNAPSE_DEVSTACK_READY_TIMEOUT"):
        ready_timeout({"SYNAPSE_DEVSTACK_READY_TIMEOUT": raw})


def test_processes_run_with_the_plan_added_and_the_repository_importable():
    env = child_environment(build_plan({}), {"HOME": "/h", "PYTHONPATH": "/extra"})
    assert env["HOME"] == "/h"
    assert env["SYNAPSE_TRAINING_TASK_ALWAYS_EAGER"] == "true"
    assert env["PYTHONPATH"].split(":") == [str(REPO_ROOT), "/extra"]
