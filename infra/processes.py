"""Start, find and stop server processes: pid files, process groups, process-tree memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class PidRecord:
    """What a pid file remembers about a started server."""

    pid: int
    port: int
    marker: str  # a word of the server's command line, guards against pid reuse
    started_at: float


def write_pid(path: Path, record: PidRecord) -> None:
    """Write a pid file atomically."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record)))
    os.replace(tmp, path)


def read_pid(path: Path) -> PidRecord | None:
    """Return the pid file's record, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
        return PidRecord(
            int(data["pid"]), int(data["port"]), str(data["marker"]), data["started_at"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cmdline(pid: int, proc: Path = PROC) -> str:
    """Return a process's command line with spaces between arguments ("" when gone)."""
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def is_alive(pid: int, proc: Path = PROC) -> bool:
    """Return whether a process exists and is not a zombie."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may contain spaces.
    return stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] not in ("Z", "X")


def live_record(path: Path, proc: Path = PROC) -> PidRecord | None:
    """Return the pid file's record if its process still runs; drop a stale pid file."""
    record = read_pid(path)
    if record is None:
        path.unlink(missing_ok=True)
        return None
    if is_alive(record.pid, proc) and record.marker in cmdline(record.pid, proc):
        return record
    path.unlink(missing_ok=True)
    return None


def spawn(
    argv: Sequence[str], log_path: Path, *, cwd: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start a server in its own session with stdout and stderr appended to its log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


# How long a stop waits for the kernel to remove a group after SIGKILL.
KILL_GRACE = 5.0


def stop(
    pid: int,
    sig: int = signal.SIGTERM,
    *,
    timeout: float = 10.0,
    alive: Callable[[int], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    send: Callable[[int, int], None] | None = None,
) -> bool:
    """Signal a server's process group, wait up to `timeout`, then SIGKILL it; True if forced.

    The wait lasts until every member of the group is gone, not only the leader: a Celery
    worker's pool processes can outlive their parent, and a stop must not leave them behind.
    """
    send = send or _signal_group
    alive = alive or group_alive
    send(pid, sig)
    deadline = clock() + timeout
    while alive(pid):
        if clock() >= deadline:
            send(pid, signal.SIGKILL)
            _wait_until_gone(pid, alive, clock() + KILL_GRACE, clock, sleep)
            return True
        sleep(0.05)
    return False


def _wait_until_gone(
    pid: int,
    alive: Callable[[int], bool],
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    # SIGKILL is delivered asynchronously; return once the group is gone (or after a bound).
    while alive(pid) and clock() < deadline:
        sleep(0.05)


def group_alive(pgid: int, proc: Path = PROC) -> bool:
    """Return whether any live (non-zombie) process belongs to the process group `pgid`."""
    return any(entry.name.isdigit() and _group_member(entry, pgid) for entry in proc.iterdir())


def _group_member(entry: Path, pgid: int) -> bool:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return False
    # After the parenthesised command name: state, ppid, pgrp, ...
    state, _ppid_field, pgrp = stat[stat.rfind(")") + 2 :].split()[:3]
    return int(pgrp) == pgid and state not in ("Z", "X")


def _signal_group(pid: int, sig: int) -> None:
    # Servers run as session leaders, so their group id is their pid; children go too.
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)


def tree_rss(pid: int, proc: Path = PROC) -> int:
    """Return the resident memory in bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            parent = _ppid(entry)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss(proc / str(current))
        todo.extend(children.get(current, ()))
    return total


def _ppid(entry: Path) -> int | None:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def _rss(entry: Path) -> int:
    try:
        for line in (entry / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def log_tail(path: Path, lines: int = 15) -> str:
    """Return the last lines the latest start wrote to a log ("" when there are none)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode(errors="replace")
    except OSError:
        return ""
    latest = text.rsplit("\n=== ", 1)[-1] if "\n=== " in text else text
    return "\n".join(latest.splitlines()[-lines:])
