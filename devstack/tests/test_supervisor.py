"""The supervisor's logic: start twice, stale pid files, port clashes, readiness, stop.

No real server is started: spawning is a double, /proc is a folder the tests fill.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import supervisor
from devstack.plan import ProcessSpec
from devstack.supervisor import Layout, Readiness
from infra import processes

SERVER = ProcessSpec(
    "models",
    ("py", "-m", "uvicorn", "services.models.main:create_app"),
    "services.models.main:create_app",
    8002,
)
WORKER = ProcessSpec("training-worker", ("py", "-m", "celery"), "services.training.worker")


class FakePopen:
    """What spawn returns: only the pid is read."""

    def __init__(self, pid: int) -> None:
        self.pid = pid


class Spawner:
    """Record each spawn and hand out increasing pids, adding them to the fake /proc."""

    def __init__(self, proc: Path) -> None:
        self.proc = proc
        self.calls: list[list[str]] = []
        self.next_pid = 4000

    def __call__(
        self, argv: list[str], log_path: Path, *, cwd: Path, env: dict[str, str]
    ) -> FakePopen:
        self.calls.append(argv)
        self.next_pid += 1
        add_process(self.proc, self.next_pid, argv)
        return FakePopen(self.next_pid)


def add_process(proc: Path, pid: int, argv: list[str], state: str = "S") -> None:
    entry = proc / str(pid)
    entry.mkdir(parents=True)
    (entry / "cmdline").write_bytes(b"\0".join(arg.encode() for arg in argv))
    (entry / "stat").write_text(f"{pid} (python) {state} 1 {pid}")


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path / "repo")


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    path = tmp_path / "proc"
    path.mkdir()
    return path


def start(
    spec: ProcessSpec, layout: Layout, proc: Path, spawn: Spawner, *, port_taken: bool = False
) -> supervisor.Started:
    return supervisor.start(
        spec, layout, {}, spawn=spawn, port_in_use=lambda port: port_taken, proc=proc
    )


def test_start_spawns_and_remembers_the_pid(layout, proc):
    spawn = Spawner(proc)
    outcome = start(SERVER, layout, proc, spawn)
    assert (outcome.state, outcome.pid) == ("started", 4001)
    assert json.loads(layout.pid_file("models").read_text())["pid"] == 4001


def test_starting_twice_leaves_the_running_process_alone(layout, proc):
    spawn = Spawner(proc)
    start(SERVER, layout, proc, spawn)
    # The port now answers, from our own process: that is no clash.
    again = start(SERVER, layout, proc, spawn, port_taken=True)
    assert (again.state, again.pid) == ("running", 4001)
    assert len(spawn.calls) == 1


def test_a_stale_pid_file_is_dropped_and_the_process_started_again(layout, proc):
    layout.run_dir.mkdir(parents=True)
    processes.write_pid(
        layout.pid_file("models"), processes.PidRecord(77, 8002, SERVER.marker, 0.0)
    )
    spawn = Spawner(proc)
    outcome = start(SERVER, layout, proc, spawn)
    assert outcome.state == "started"
    assert len(spawn.calls) == 1


def test_a_pid_reused_by_another_program_is_not_taken_for_ours(layout, proc):
    layout.run_dir.mkdir(parents=True)
    add_process(proc, 77, ["vim", "notes.txt"])
    processes.write_pid(
        layout.pid_file("models"), processes.PidRecord(77, 8002, SERVER.marker, 0.0)
    )
    assert start(SERVER, layout, proc, Spawner(proc)).state == "started"


def test_an_unreadable_pid_file_counts_as_not_running(layout, proc):
    layout.run_dir.mkdir(parents=True)
    layout.pid_file("models").write_text("{not json")
    assert start(SERVER, layout, proc, Spawner(proc)).state == "started"


def test_a_port_held_by_another_program_is_reported_and_nothing_starts(layout, proc):
    spawn = Spawner(proc)
    outcome = start(SERVER, layout, proc, spawn, port_taken=True)
    assert outcome.state == "failed"
    assert "port 8002 is already in use" in outcome.message
    assert "models" in outcome.message
    assert spawn.calls == []
    assert not layout.pid_file("models").exists()


def test_a_worker_has_no_port_to_clash_on(layout, proc):
    assert start(WORKER, layout, proc, Spawner(proc), port_taken=True).state == "started"


def test_stop_signals_the_group_and_forgets_the_pid(layout, proc):
    start(SERVER, layout, proc, Spawner(proc))
    stopped: list[int] = []
    assert (
        supervisor.stop(SERVER, layout, stopper=lambda pid: stopped.append(pid) or False, proc=proc)
        == "stopped"
    )
    assert stopped == [4001]
    assert not layout.pid_file("models").exists()


def test_stopping_what_does_not_run_is_harmless(layout, proc):
    assert (
        supervisor.stop(
            SERVER, layout, stopper=lambda pid: pytest.fail("nothing to stop"), proc=proc
        )
        == "not running"
    )


def await_ready(
    spec: ProcessSpec, layout: Layout, answers: list[Readiness], *, alive: bool = True
) -> supervisor.Started:
    clock = iter(range(1000))
    return supervisor.await_ready(
        spec,
        layout,
        4001,
        timeout=3,
        probe=lambda url: answers.pop(0) if len(answers) > 1 else answers[0],
        alive=lambda pid: alive,
        clock=lambda: float(next(clock)),
        sleep=lambda seconds: None,
    )


def test_await_ready_polls_until_the_service_answers_ready(layout):
    answers = [Readiness(False, "no answer"), Readiness(True, "ready")]
    assert await_ready(SERVER, layout, answers).state == "ready"


def test_await_ready_gives_up_naming_the_failing_check(layout):
    outcome = await_ready(SERVER, layout, [Readiness(False, "503: database (missing tables: x)")])
    assert outcome.state == "failed"
    assert "not ready after 3s: 503: database (missing tables: x)" in outcome.message


def test_await_ready_reports_a_process_that_exited_with_its_log(layout):
    layout.run_dir.mkdir(parents=True)
    layout.log_file("models").write_text("=== start\nImportError: no module named x\n")
    outcome = await_ready(SERVER, layout, [Readiness(False, "no answer")], alive=False)
    assert outcome.state == "failed"
    assert "exited" in outcome.message
    assert "ImportError" in outcome.message


def test_a_worker_is_ready_while_it_runs(layout):
    assert await_ready(WORKER, layout, [Readiness(False, "unused")]).state == "ready"


def answer(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://x/ready"))


def test_probe_names_the_failing_checks_of_a_503():
    body = {
        "checks": {
            "database": {"status": "ok"},
            "queue": {"status": "failing", "detail": "no worker"},
        }
    }
    readiness = supervisor.probe_ready("http://x/ready", get=lambda url, timeout: answer(503, body))
    assert readiness == Readiness(False, "503: queue (no worker)")


def test_probe_of_a_closed_port_says_no_answer():
    def refuse(url: str, timeout: float) -> httpx.Response:
        raise httpx.ConnectError("refused")

    assert supervisor.probe_ready("http://x/ready", get=refuse) == Readiness(
        False, "no answer (ConnectError)", answered=False
    )


def test_waiting_until_an_answer_reports_the_first_not_ready_answer(layout):
    answers = [
        Readiness(False, "no answer", answered=False),
        Readiness(False, "503: models (gone)"),
    ]
    clock = iter(range(1000))
    outcome = supervisor.await_ready(
        SERVER,
        layout,
        4001,
        timeout=60,
        probe=lambda url: answers.pop(0) if len(answers) > 1 else answers[0],
        alive=lambda pid: True,
        clock=lambda: float(next(clock)),
        sleep=lambda seconds: None,
        until_answer=True,
    )
    assert (outcome.state, outcome.message) == ("failed", "models: not ready: 503: models (gone)")
