"""`python -m infra up|down|status|env`: run the local stack on loopback, without Docker."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from infra import health, launch, postgres, processes
from infra.stack import (
    REPO_ROOT,
    Service,
    StackError,
    platform_env,
    port_env_var,
    resolve,
    select,
)

TIMEOUT_ENV = "SYNAPSE_INFRA_HEALTH_TIMEOUT"
DEFAULT_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# PostgreSQL's SIGTERM waits for clients to leave; SIGINT is its fast shutdown.
STOP_SIGNALS = {"postgres": signal.SIGINT}


class PortTaken(StackError):
    """A service's port answers, but not from a process this tool started."""


@dataclass(frozen=True)
class Outcome:
    """What `up` did for one service."""

    name: str
    port: int
    state: str  # started | running | failed
    seconds: float = 0.0
    message: str = ""


def health_timeout(env: Mapping[str, str]) -> float:
    """Return the per-service health bound in seconds (env override, else 20)."""
    raw = env.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise StackError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise StackError(f"{TIMEOUT_ENV} must be positive")
    return value


def bring_up(
    service: Service,
    *,
    timeout: float,
    probe: health.Probe | None = None,
    starter: Callable[[Service], tuple[int, Callable[[], bool]]] | None = None,
    stopper: Callable[[Service, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Start a service unless it runs, then wait for its health within `timeout`."""
    probe = probe or health.probe_for(service)
    start = clock()
    record = processes.live_record(service.pid_file)
    try:
        if record is not None:
            alive = lambda: processes.is_alive(record.pid)  # noqa: E731
            health.wait_healthy(
                service.name, probe, timeout=timeout, alive=alive, clock=clock, sleep=sleep
            )
            return Outcome(service.name, service.port, "running", clock() - start)
        if health.port_in_use(service.port):
            raise PortTaken(
                f"{service.name}: port {service.port} is taken by a process this tool did not "
                f"start; stop it or set {port_env_var(service.name)}"
            )
        pid, alive = (starter or _start)(service)
        try:
            health.wait_healthy(
                service.name, probe, timeout=timeout, alive=alive, clock=clock, sleep=sleep
            )
        except StackError:
            (stopper or _stop_quietly)(service, pid)
            raise
        return Outcome(service.name, service.port, "started", clock() - start)
    except (StackError, OSError) as exc:
        # OSError: a program that cannot be run, a folder that cannot be written.
        failure = exc if isinstance(exc, StackError) else StackError(f"{service.name}: {exc}")
        return Outcome(
            service.name, service.port, "failed", clock() - start, _failure(service, failure)
        )


def _failure(service: Service, exc: StackError) -> str:
    tail = "" if isinstance(exc, PortTaken) else processes.log_tail(service.log_file)
    text = f"{exc}\n  log: {service.log_file}"
    if tail:
        text += "\n  " + "\n  ".join(tail.splitlines())
    return text


def _start(service: Service) -> tuple[int, Callable[[], bool]]:
    service.dir.mkdir(parents=True, exist_ok=True)
    user = None
    if service.kind == "postgres":
        user = postgres.system_user()
        postgres.prepare(service, user)
    argv = launch.server_argv(service, user)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = processes.spawn(argv, service.log_file, cwd=REPO_ROOT, env=env)
    record = processes.PidRecord(proc.pid, service.port, launch.MARKERS[service.kind], time.time())
    processes.write_pid(service.pid_file, record)
    return proc.pid, lambda: proc.poll() is None


def _stop_quietly(service: Service, pid: int) -> None:
    processes.stop(pid, STOP_SIGNALS.get(service.kind, signal.SIGTERM), timeout=STOP_TIMEOUT)
    service.pid_file.unlink(missing_ok=True)


def cmd_up(services: list[Service]) -> int:
    """Start every selected service in parallel and wait for all to be healthy."""
    timeout = health_timeout(os.environ)
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        outcomes = list(pool.map(lambda svc: bring_up(svc, timeout=timeout), services))
    total = time.monotonic() - began
    print(f"{'service':<22}{'port':>6}  {'state':<8}{'seconds':>8}")
    for out in outcomes:
        print(f"{out.name:<22}{out.port:>6}  {out.state:<8}{out.seconds:>8.2f}")
    print(f"stack up in {total:.2f}s")
    failed = [out for out in outcomes if out.state == "failed"]
    for out in failed:
        print(f"\nFAILED {out.message}", file=sys.stderr)
    return 1 if failed else 0


def cmd_down(services: list[Service]) -> int:
    """Stop every selected service that runs; nothing running is fine."""

    def down(service: Service) -> str:
        record = processes.live_record(service.pid_file)
        if record is None:
            return "not running"
        sig = STOP_SIGNALS.get(service.kind, signal.SIGTERM)
        forced = processes.stop(record.pid, sig, timeout=STOP_TIMEOUT)
        service.pid_file.unlink(missing_ok=True)
        return "killed" if forced else "stopped"

    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        results = list(pool.map(down, services))
    for service, result in zip(services, results, strict=True):
        print(f"{service.name:<22}{result}")
    return 0


def cmd_status(services: list[Service]) -> int:
    """Print name, port, pid, health and memory of each service; non-zero if any is down."""

    def row(service: Service) -> tuple[Service, int | None, bool, int]:
        record = processes.live_record(service.pid_file)
        if record is None:
            return service, None, False, 0
        healthy = health._safe(health.probe_for(service)) is None
        return service, record.pid, healthy, processes.tree_rss(record.pid)

    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        rows = list(pool.map(row, services))
    print(f"{'service':<22}{'port':>6}{'pid':>9}  {'healthy':<8}{'rss MiB':>8}")
    for service, pid, healthy, rss in rows:
        pid_text = str(pid) if pid else "-"
        mib = rss / 2**20
        print(f"{service.name:<22}{service.port:>6}{pid_text:>9}  {healthy!s:<8}{mib:>8.1f}")
    total = sum(rss for *_, rss in rows) / 2**20
    print(f"{'total':<22}{'':>6}{'':>9}  {'':<8}{total:>8.1f}")
    return 0 if all(healthy for _, _, healthy, _ in rows) else 1


def cmd_env() -> int:
    """Print `export VAR=value` lines for the platform's infrastructure settings."""
    for key, value in platform_env().items():
        print(f"export {key}={value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "down", "status"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--only", help="comma-separated service names (default: all)")
    sub.add_parser("env")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one stack command and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "env":
            return cmd_env()
        services = resolve(select(args.only))
        commands = {"up": cmd_up, "down": cmd_down, "status": cmd_status}
        return commands[args.command](services)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
