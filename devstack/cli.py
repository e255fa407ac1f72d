"""`python -m devstack up|down|status`: run the built services locally, one process each.

``up`` runs the setup steps (migrations; with the real stack also the bootstrap), starts every
process that is not already running, waits for each one's /ready and prints a table; a second
``up`` leaves running processes alone. ``down`` stops them (process groups), ``status`` shows
each one's pid, port and readiness. Exit 1 when anything failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devstack import supervisor
from devstack.plan import Plan, PlanError, ProcessSpec, build_plan
from devstack.supervisor import DevstackError, Layout, Started

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_ENV = "SYNAPSE_DEVSTACK_READY_TIMEOUT"
DEFAULT_TIMEOUT = 90.0
MODE_LABELS = {
    "embedded": "embedded defaults (SQLite under var/, in-memory backends, jobs run in-process)",
    "infra": "the real stack named by the environment (python -m infra env)",
}


def ready_timeout(environ: Mapping[str, str]) -> float:
    """Return the seconds each process may take to become ready (env override, else 90)."""
    raw = environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise DevstackError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise DevstackError(f"{TIMEOUT_ENV} must be positive, got {value:g}")
    return value


def child_environment(plan: Plan, environ: Mapping[str, str]) -> dict[str, str]:
    """Return the environment every process runs with: the caller's plus the plan's."""
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), environ.get("PYTHONPATH", "")]))
    return {**environ, **plan.env, "PYTHONPATH": path}


def await_all(plan: Plan, layout: Layout, started: list[Started], timeout: float) -> list[Started]:
    """Wait for every started or running process; the gateway (last) after the others."""
    by_name = {spec.name: spec for spec in plan.processes}
    pending = [(by_name[o.name], o.pid) for o in started if o.pid is not None]
    first = [(spec, pid) for spec, pid in pending if spec.name != "gateway"]
    last = [(spec, pid) for spec, pid in pending if spec.name == "gateway"]

    def wait(item: tuple[ProcessSpec, int], until_answer: bool = False) -> Started:
        spec, pid = item
        return supervisor.await_ready(spec, layout, pid, timeout=timeout, until_answer=until_answer)

    with ThreadPoolExecutor(max_workers=max(1, len(first))) as pool:
        results = list(pool.map(wait, first))
    # The gateway is ready only when all the others are: once one failed, its first answer is
    # the report (it names what is missing), and waiting longer would only run out the clock.
    others = [o for o in started if o.name != "gateway" and o.pid is None] + results
    others_failed = any(outcome.state not in ("ready", "running") for outcome in others)
    results += [wait(item, until_answer=others_failed) for item in last]
    states = {outcome.name: outcome for outcome in results}
    return [states.get(outcome.name, outcome) for outcome in started]


def up(plan: Plan, layout: Layout, environ: Mapping[str, str]) -> int:
    """Run the setup steps, start what is not running, await readiness; return the exit code."""
    begin = time.monotonic()
    timeout = ready_timeout(environ)
    env = child_environment(plan, environ)
    print(f"platform on {MODE_LABELS[plan.mode]}")
    for name, argv in plan.setup:
        print(f"  {name} ...", flush=True)
        supervisor.run_step(name, argv, layout, env)
    started = [supervisor.start(spec, layout, env) for spec in plan.processes]
    previous = {outcome.name: outcome.state for outcome in started}
    outcomes = await_all(plan, layout, started, timeout)
    for outcome in outcomes:
        kept = previous[outcome.name] == "running" and outcome.state == "ready"
        state = "already running, ready" if kept else outcome.state
        print_row(plan_spec(plan, outcome.name), outcome.pid, state)
        if outcome.message:
            print(f"  {outcome.message}")
    print(f"up in {time.monotonic() - begin:.1f}s; logs in {layout.run_dir}")
    return 0 if all(outcome.state == "ready" for outcome in outcomes) else 1


def down(plan: Plan, layout: Layout) -> int:
    """Stop every process, the gateway first so it stops taking calls."""
    for spec in sorted(plan.processes, key=lambda process: process.name != "gateway"):
        print(f"{spec.name:<18} {supervisor.stop(spec, layout)}")
    return 0


def status(plan: Plan, layout: Layout) -> int:
    """Print each process's pid, port and readiness and a summary line."""
    print(f"{'process':<18} {'pid':>7} {'port':>5}  ready")
    all_ready = True
    for spec in plan.processes:
        pid = supervisor.running_pid(spec, layout)
        if pid is None:
            detail, ok = "stopped", False
        elif spec.ready_url is None:
            detail, ok = "running (no HTTP endpoint)", True
        else:
            readiness = supervisor.probe_ready(spec.ready_url)
            detail, ok = readiness.detail, readiness.ready
        all_ready = all_ready and ok
        print_row(spec, pid, detail)
    # Informational: a stopped platform is a state to report, not a failure of the command.
    print("all ready" if all_ready else "not all ready")
    return 0


def plan_spec(plan: Plan, name: str) -> ProcessSpec:
    """Return the plan's process named ``name``."""
    return next(spec for spec in plan.processes if spec.name == name)


def print_row(spec: ProcessSpec, pid: int | None, detail: str) -> None:
    """Print one table row: name, pid, port, detail."""
    port = "-" if spec.port is None else str(spec.port)
    print(f"{spec.name:<18} {pid if pid is not None else '-':>7} {port:>5}  {detail}")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args(argv)
    environ = dict(os.environ)
    layout = Layout(REPO_ROOT)
    try:
        plan = build_plan(environ)
        if args.command == "up":
            return up(plan, layout, environ)
        if args.command == "down":
            return down(plan, layout)
        return status(plan, layout)
    except (DevstackError, PlanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
