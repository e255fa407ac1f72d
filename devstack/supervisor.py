"""Start, await, stop and inspect the platform's processes: pid files, logs, readiness.

Each process runs in its own session (its pid is its process group), its output appended to
``var/platform/<name>.log`` and its pid kept in ``var/platform/<name>.pid`` with a word of its
command line, so a pid reused by another program after a crash is never mistaken for ours.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.plan import ProcessSpec
from infra import health, processes

READY_TIMEOUT = 2.0
STOP_TIMEOUT = 10.0

Spawner = Callable[..., "subprocess.Popen[bytes]"]
PortProbe = Callable[[int], bool]


class DevstackError(Exception):
    """A process of the platform could not be started, awaited or stopped."""


@dataclass(frozen=True)
class Layout:
    """Where the platform runs from and keeps its pid files and logs."""

    root: Path

    @property
    def run_dir(self) -> Path:
        """Return the folder of pid files and logs."""
        return self.root / "var" / "platform"

    def pid_file(self, name: str) -> Path:
        """Return the pid file of a process."""
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        """Return the log of a process."""
        return self.run_dir / f"{name}.log"


@dataclass(frozen=True)
class Started:
    """What `up` did for one process: started | running | failed."""

    name: str
    state: str
    pid: int | None = None
    message: str = ""


@dataclass(frozen=True)
class Readiness:
    """What a process's /ready answered: ready, or why not."""

    ready: bool
    detail: str
    # False when nothing answered at all (not listening yet, or gone).
    answered: bool = True


def start(
    spec: ProcessSpec,
    layout: Layout,
    env: Mapping[str, str],
    *,
    spawn: Spawner = processes.spawn,
    port_in_use: PortProbe = health.port_in_use,
    proc: Path = processes.PROC,
) -> Started:
    """Start one process unless it already runs; refuse a port another program holds."""
    pid_file = layout.pid_file(spec.name)
    record = processes.live_record(pid_file, proc)
    if record is not None:
        return Started(spec.name, "running", record.pid)
    if spec.port is not None and port_in_use(spec.port):
        message = (
            f"{spec.name}: port {spec.port} is already in use by a process this tool did not "
            f"start; stop that process (ss -ltnp 'sport = :{spec.port}' names it) and run again"
        )
        return Started(spec.name, "failed", None, message)
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    popen = spawn(list(spec.argv), layout.log_file(spec.name), cwd=layout.root, env=dict(env))
    record = processes.PidRecord(popen.pid, spec.port or 0, spec.marker, time.time())
    processes.write_pid(pid_file, record)
    return Started(spec.name, "started", popen.pid)


def probe_ready(url: str, *, get: Callable[..., httpx.Response] = httpx.get) -> Readiness:
    """Ask one /ready endpoint and summarise the answer."""
    try:
        answer = get(url, timeout=READY_TIMEOUT)
    except httpx.HTTPError as exc:
        return Readiness(False, f"no answer ({type(exc).__name__})", answered=False)
    if answer.status_code == 200:
        return Readiness(True, "ready")
    return Readiness(False, f"{answer.status_code}: {failing_detail(answer)}")


def failing_detail(answer: httpx.Response) -> str:
    """Return the failing checks a /ready problem body names, else its raw text (shortened)."""
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:200]
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    failing = [
        f"{name} ({check.get('detail', 'failing')})"
        for name, check in checks.items()
        if isinstance(check, dict) and check.get("status") != "ok"
    ]
    return "; ".join(failing) or str(body)[:200]


def await_ready(
    spec: ProcessSpec,
    layout: Layout,
    pid: int,
    *,
    timeout: float,
    probe: Callable[[str], Readiness] = probe_ready,
    alive: Callable[[int], bool] = processes.is_alive,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    until_answer: bool = False,
) -> Started:
    """Wait until the process answers ready (a worker: until it is still alive); report it.

    With ``until_answer`` the wait ends at the first answer, ready or not: used when a process
    this one depends on already failed, so waiting for "ready" would only run out the clock.
    """
    deadline = clock() + timeout
    last = Readiness(False, "not asked yet")
    while True:
        if not alive(pid):
            return _failed(spec, layout, pid, "the process exited")
        if spec.ready_url is None:
            return Started(spec.name, "ready", pid)
        last = probe(spec.ready_url)
        if last.ready:
            return Started(spec.name, "ready", pid)
        if until_answer and last.answered:
            return Started(spec.name, "failed", pid, f"{spec.name}: not ready: {last.detail}")
        if clock() >= deadline:
            return _failed(spec, layout, pid, f"not ready after {timeout:g}s: {last.detail}")
        sleep(0.25)


def _failed(spec: ProcessSpec, layout: Layout, pid: int, reason: str) -> Started:
    log = layout.log_file(spec.name)
    tail = processes.log_tail(log)
    message = f"{spec.name}: {reason}\n  log: {log}"
    if tail:
        message += "\n  " + "\n  ".join(tail.splitlines())
    return Started(spec.name, "failed", pid, message)


def stop(
    spec: ProcessSpec,
    layout: Layout,
    *,
    stopper: Callable[[int], bool] | None = None,
    proc: Path = processes.PROC,
) -> str:
    """Stop one process's group if it runs; return "stopped", "killed" or "not running"."""
    pid_file = layout.pid_file(spec.name)
    record = processes.live_record(pid_file, proc)
    if record is None:
        return "not running"
    forced = (stopper or _stop_group)(record.pid)
    pid_file.unlink(missing_ok=True)
    return "killed" if forced else "stopped"


def _stop_group(pid: int) -> bool:
    return processes.stop(pid, timeout=STOP_TIMEOUT)


def running_pid(spec: ProcessSpec, layout: Layout, proc: Path = processes.PROC) -> int | None:
    """Return the pid of the process when this tool started it and it still runs."""
    record = processes.live_record(layout.pid_file(spec.name), proc)
    return None if record is None else record.pid


def run_step(name: str, argv: Sequence[str], layout: Layout, env: Mapping[str, str]) -> None:
    """Run a one-shot setup command to completion; raise with its log's tail if it fails."""
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    log = layout.log_file(name)
    code = processes.spawn(argv, log, cwd=layout.root, env=dict(env)).wait()
    if code != 0:
        tail = processes.log_tail(log)
        raise DevstackError(f"{name} failed with exit code {code}\n  log: {log}\n  {tail}")
