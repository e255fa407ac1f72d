"""Command line of the harness: one subcommand per pipeline step.

Usage:
    python -m harness probe ID[,ID...]
    python -m harness record ID[,ID...] | --all
    python -m harness build --out DIR [--bugs all|none|ID,ID,...]
    python -m harness solve DIR
    python -m harness score DIR [--json FILE] [--previous FILE]
    python -m harness verify [--quick] [--logs DIR]
    python -m harness demo --out DIR
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from harness import commands

ROOT = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (main)")
    sub = parser.add_subparsers(dest="command", required=True)
    probe = sub.add_parser("probe", help="run the suite with bugs planted; print failing tests")
    probe.add_argument("bugs", help="ID[,ID...]")
    probe.add_argument("--no-baseline", action="store_true", help="skip the run on main")
    record = sub.add_parser("record", help="probe each bug alone and write its fails array")
    record.add_argument("bugs", nargs="?", help="ID[,ID...]")
    record.add_argument("--all", action="store_true", help="every bug in the catalogue")
    build = sub.add_parser("build", help="build the agent environment tree")
    build.add_argument("--out", type=Path, required=True)
    build.add_argument("--bugs", default="all", help="all, none or ID,ID,... (default all)")
    solve = sub.add_parser("solve", help="apply DIR.solution/solve.sh to DIR")
    solve.add_argument("dir", type=Path)
    score = sub.add_parser("score", help="score a tree from pristine tests")
    score.add_argument("dir", type=Path)
    score.add_argument("--json", type=Path, help="write the results JSON here")
    score.add_argument("--previous", type=Path, help="results JSON of the previous scored run")
    verify = sub.add_parser("verify", help="check the catalogue quality gates")
    verify.add_argument("--quick", action="store_true", help="static gates only, no suite runs")
    verify.add_argument("--logs", type=Path, help="keep every suite run's pytest output here")
    demo = sub.add_parser("demo", help="build all bugs, score, solve, score again")
    demo.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run one command; return the exit code."""
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = getattr(commands, f"cmd_{args.command}")
    try:
        return handler(args)
    except commands.HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
