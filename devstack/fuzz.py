"""`python -m devstack.fuzz`: run schemathesis (all checks) against every running service.

Each built service of the manifest is fuzzed through its own OpenAPI document (FastAPI:
``/openapi.json``, Django: ``/api/schema``) on its manifest port, one ``st run`` per service,
with a fixed seed so a failure reproduces. Reports and logs go to ``var/fuzz/``; the summary
counts failures per service and per check. Exit 1 when any service failed a check, errored or
was not reachable. Schemathesis lives in its own virtualenv (``make fuzz`` creates it from
``requirements-fuzz.txt``) so the platform's test tools keep their pins.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.services import ServiceSpec, built_services

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_ST = REPO_ROOT / ".venv-fuzz" / "bin" / "st"
DEFAULT_OUT = REPO_ROOT / "var" / "fuzz"
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
# Seconds per request: an eager training job answers only once it has trained.
REQUEST_TIMEOUT = 120
DEFAULT_EXAMPLES = 30
DEFAULT_SEED = 10


@dataclass(frozen=True)
class Target:
    """One service to fuzz: where its API and its OpenAPI document live."""

    name: str
    base_url: str
    schema_url: str


@dataclass
class Outcome:
    """What one schemathesis run found: failures per check, errors, or why it did not run."""

    name: str
    failures: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    problem: str | None = None

    @property
    def failed(self) -> int:
        """Return the number of failures over every check."""
        return sum(self.failures.values())

    @property
    def ok(self) -> bool:
        """Return whether the run completed with no failure and no error."""
        return self.problem is None and not self.failures and not self.errors


def target_for(spec: ServiceSpec, host: str = HOST) -> Target:
    """Return the fuzz target of one service, from its framework and manifest port."""
    base = f"http://{host}:{spec.port}"
    schema_path = "/api/schema" if spec.framework == "django" else "/openapi.json"
    return Target(spec.name, base, base + schema_path)


def st_command(st: Path, target: Target, report: Path, *, examples: int, seed: int) -> list[str]:
    """Return the ``st run`` command line for one target, writing its JSON report."""
    return [
        str(st),
        "--config-file",
        str(CONFIG),
        "run",
        target.schema_url,
        "--url",
        target.base_url,
        "--checks",
        "all",
        "--seed",
        str(seed),
        "--max-examples",
        str(examples),
        "--workers",
        "1",
        "--request-timeout",
        str(REQUEST_TIMEOUT),
        # No example database: each run depends on the seed alone, not on earlier runs.
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]


def read_report(name: str, report: Mapping[str, Any]) -> Outcome:
    """Return the failures per check (``ST103 Undocumented status code``) of a JSON report."""
    outcome = Outcome(name)
    for failure in report.get("failures") or []:
        label = f"{failure.get('code', '?')} {failure.get('title', failure.get('type', '?'))}"
        outcome.failures[label] = outcome.failures.get(label, 0) + int(failure.get("count", 1))
    outcome.errors = len(report.get("errors") or [])
    return outcome


def reachable(url: str, timeout: float = 5.0) -> str | None:
    """Return None when ``url`` answers 200, else a one-line reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return None if answer.status == 200 else f"{url} answered {answer.status}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{url} unreachable ({exc}); run `make up` first"


def fuzz(target: Target, st: Path, out: Path, *, examples: int, seed: int) -> Outcome:
    """Fuzz one target; its console output goes to ``<out>/<name>.log``."""
    reason = reachable(target.schema_url)
    if reason is not None:
        return Outcome(target.name, problem=reason)
    report = out / f"{target.name}.json"
    report.unlink(missing_ok=True)
    command = st_command(st, target, report, examples=examples, seed=seed)
    with (out / f"{target.name}.log").open("w") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    if not report.exists():
        return Outcome(target.name, problem=f"schemathesis wrote no report; see {out}")
    return read_report(target.name, json.loads(report.read_text()))


def summary(outcomes: Sequence[Outcome]) -> list[str]:
    """Return the summary lines: one per service, then one per failing check."""
    lines = []
    for outcome in outcomes:
        if outcome.problem is not None:
            lines.append(f"{outcome.name:<12} NOT RUN  {outcome.problem}")
            continue
        state = "ok" if outcome.ok else "FAILED"
        lines.append(
            f"{outcome.name:<12} {state:<8} {outcome.failed} failures, {outcome.errors} errors"
        )
        lines += [
            f"{'':<12}   {count:>3}  {check}" for check, count in sorted(outcome.failures.items())
        ]
    return lines


def parse_args(argv: Sequence[str] | None, environ: Mapping[str, str]) -> argparse.Namespace:
    """Parse the command line; defaults come from SYNAPSE_FUZZ_* variables."""
    parser = argparse.ArgumentParser(prog="python -m devstack.fuzz", description=__doc__)
    parser.add_argument("services", nargs="*", help="services to fuzz (default: every built one)")
    examples = int(environ.get("SYNAPSE_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
    parser.add_argument("--examples", type=int, default=examples, help="test cases per operation")
    seed = int(environ.get("SYNAPSE_FUZZ_SEED", DEFAULT_SEED))
    parser.add_argument("--seed", type=int, default=seed, help="schemathesis seed")
    parser.add_argument("--st", type=Path, default=DEFAULT_ST, help="the schemathesis CLI")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reports and logs folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """Fuzz the chosen services, print the summary, return 1 on any failure."""
    args = parse_args(argv, environ)
    specs = {spec.name: spec for spec in built_services()}
    unknown = sorted(set(args.services) - set(specs))
    if unknown:
        print(f"not built services: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if not args.st.exists():
        print(f"{args.st} missing: run `make fuzz` (it installs requirements-fuzz.txt)")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    names = args.services or list(specs)
    outcomes = []
    for name in names:
        print(f"fuzzing {name} ...", flush=True)
        target = target_for(specs[name])
        outcomes.append(fuzz(target, args.st, args.out, examples=args.examples, seed=args.seed))
    print("\n".join(summary(outcomes)))
    print(f"reports and logs in {args.out}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
