"""Actions an agent takes in an episode: apply a patch, write a file, run a command, submit."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from environment.patch import PatchError, apply_patch
from environment.paths import ActionError, safe_path

ACTION_TYPES = ("patch", "write", "command", "submit")
MAX_COMMAND_TIMEOUT = 600.0
DEFAULT_COMMAND_TIMEOUT = 60.0
MAX_WRITE_BYTES = 2_000_000


@dataclass(frozen=True)
class Action:
    """One validated action; which fields matter depends on ``type``."""

    type: str
    diff: str = ""
    path: str = ""
    content: str = ""
    command: str = ""
    timeout: float = DEFAULT_COMMAND_TIMEOUT


@dataclass
class Outcome:
    """What an action did: its output (truncated), exit code and the paths it changed."""

    ok: bool
    output: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    changed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Return the outcome as a JSON-ready dict."""
        return {
            "ok": self.ok,
            "output": self.output,
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "changed": self.changed,
            "seconds": round(self.seconds, 3),
        }


def _text(raw: dict[str, Any], key: str) -> str:
    """Return a required non-empty string field of a raw action."""
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ActionError(f"a {raw.get('type')} action needs a non-empty string {key!r}")
    return value


def parse_action(raw: object) -> Action:
    """Validate a decoded action object and return it; raise ActionError when malformed."""
    if not isinstance(raw, dict):
        raise ActionError("an action must be an object with a 'type'")
    kind = raw.get("type")
    if kind not in ACTION_TYPES:
        raise ActionError(f"action type must be one of {', '.join(ACTION_TYPES)}; got {kind!r}")
    if kind == "patch":
        return Action("patch", diff=_text(raw, "diff"))
    if kind == "write":
        content = raw.get("content")
        if not isinstance(content, str):
            raise ActionError("a write action needs a string 'content'")
        if len(content.encode("utf-8")) > MAX_WRITE_BYTES:
            raise ActionError(f"a write action may hold at most {MAX_WRITE_BYTES} bytes")
        return Action("write", path=_text(raw, "path"), content=content)
    if kind == "command":
        timeout = raw.get("timeout", DEFAULT_COMMAND_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise ActionError("'timeout' must be a number of seconds")
        if not 0 < timeout <= MAX_COMMAND_TIMEOUT:
            raise ActionError(f"'timeout' must be in (0, {MAX_COMMAND_TIMEOUT:g}] seconds")
        return Action("command", command=_text(raw, "command"), timeout=float(timeout))
    return Action("submit")


def truncate(text: str, limit: int) -> str:
    """Keep the head and tail of ``text`` within ``limit`` characters, marking the cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    cut = len(text) - 2 * half
    return f"{text[:half]}\n[... {cut} characters cut ...]\n{text[len(text) - half :]}"


def command_env(home: Path) -> dict[str, str]:
    """Return the environment of an agent command: the caller's settings are not inherited."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin")])
    return {
        "PATH": path,
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }


def _read_capped(out: IO[bytes], limit: int) -> str:
    """Return the head and tail of a finished command's output file within ``limit`` chars."""
    size = out.seek(0, os.SEEK_END)
    if size <= 4 * limit:
        out.seek(0)
        return truncate(out.read().decode("utf-8", errors="replace"), limit)
    # Never load a huge output: read as many bytes as could survive truncation from each end.
    out.seek(0)
    head = out.read(2 * limit).decode("utf-8", errors="replace")
    out.seek(size - 2 * limit)
    tail = out.read().decode("utf-8", errors="replace")
    return truncate(head + "\n" + tail, limit).replace(
        "characters cut", "characters cut, of " + str(size) + " bytes", 1
    )


def _kill_group(pgid: int) -> None:
    """Kill what is left of a command's process group (background jobs it started)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def run_command(tree: Path, home: Path, action: Action, max_output: int) -> Outcome:
    """Run a shell command in ``tree`` in its own process group, killed at its timeout.

    Output goes to an unnamed temp file, so a command that prints gigabytes costs disk for as
    long as it runs, never the server's memory.
    """
    started = time.monotonic()
    timed_out = False
    with tempfile.TemporaryFile(dir=home) as out:
        proc = subprocess.Popen(
            ["bash", "-c", action.command],
            cwd=tree,
            env=command_env(home),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=action.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait()
        _kill_group(proc.pid)
        output = _read_capped(out, max_output)
    return Outcome(
        ok=not timed_out and proc.returncode == 0,
        output=output + (f"\n[killed after {action.timeout:g}s]" if timed_out else ""),
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        seconds=time.monotonic() - started,
    )


def write_file(tree: Path, action: Action) -> Outcome:
    """Write a file inside ``tree`` (folders created as needed)."""
    target = safe_path(tree, action.path)
    if target.is_dir():
        raise ActionError(f"{action.path} is a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(action.content, encoding="utf-8")
    return Outcome(ok=True, changed=[target.relative_to(tree).as_posix()])


def perform(tree: Path, home: Path, action: Action, max_output: int) -> Outcome:
    """Carry out a patch, write or command action in ``tree``."""
    if action.type == "patch":
        try:
            changed = apply_patch(tree, action.diff)
        except PatchError as exc:
            return Outcome(ok=False, output=f"patch not applied: {exc}")
        return Outcome(ok=True, output=f"patched {len(changed)} file(s)", changed=changed)
    if action.type == "write":
        return write_file(tree, action)
    if action.type == "command":
        return run_command(tree, home, action, max_output)
    raise ActionError(f"{action.type} is not carried out in the tree")
