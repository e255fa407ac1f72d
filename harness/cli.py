"""Command line of the harness: one subcommand per pipeline step.

Usage:
    python -m harness probe ID[,ID...] [--heldout] [--full] [--no-cache] [--jobs N]
    python -m harness record ID[,ID...] | --all [--since REV] [--full] [--no-cache] [--jobs N]
    python -m harness build --out DIR [--bugs all|none|ID,...|tier:setup|tier:1|tier:2|random:N]
                            [--seed S]
    python -m harness solve DIR
    python -m harness score DIR [--json FILE] [--previous FILE] [--heldout]
    python -m harness verify [--quick] [--logs DIR] [--full] [--no-cache] [--jobs N]
                             [--check-selection N] [--gate8 enforce|info|skip]
    python -m harness curve [--order dependency|random] [--seed N] [--out DIR] [--jobs N]
                            [--no-cache]
    python -m harness overlap [--crowded N] [--near N]
    python -m harness rebase [--base REV] [--dry-run] [ID,ID...]
    python -m harness demo --out DIR
    python -m harness mutants [-n N] [--seed S] [--json FILE] [--min-score X] [--jobs N]
    python -m harness serve [--host H] [--port P] [--max-episodes N] [--default-bugs SPEC]
                            [--reward-mode sparse|linear|sublinear|smooth] [--max-steps N]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from environment.server import serve_options
from harness import commands

ROOT = Path(__file__).resolve().parent.parent


def _run_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of commands that run the suite."""
    parser.add_argument("--jobs", type=int, help="suite runs at a time (default: cores)")
    parser.add_argument("--full", action="store_true", help="run every test, not a selection")
    parser.add_argument(
        "--no-cache", action="store_true", help="do not reuse cached runs (fresh ones are stored)"
    )


def _mutants_options(mutants: argparse.ArgumentParser) -> None:
    """Add the options of ``mutants``."""
    mutants.add_argument("-n", type=int, default=200, help="mutants to sample (default 200)")
    mutants.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    mutants.add_argument("--json", type=Path, help="report file (default build/mutants.json)")
    mutants.add_argument("--min-score", type=float, help="exit 1 when the score is lower (0-1)")
    mutants.add_argument("--jobs", type=int, help="suite runs at a time (default: cores)")
    mutants.add_argument("--no-cache", action="store_true", help="do not reuse cached runs")
    mutants.add_argument(
        "--rejudge",
        type=Path,
        metavar="REPORT",
        help="run again only what an earlier report's mutants left alive (kills stand)",
    )


def _parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (main)")
    sub = parser.add_subparsers(dest="command", required=True)
    probe = sub.add_parser("probe", help="run the suite with bugs planted; print failing tests")
    probe.add_argument("bugs", help="ID[,ID...]")
    probe.add_argument("--no-baseline", action="store_true", help="skip the run on main")
    probe.add_argument(
        "--heldout", action="store_true", help="also run the bugs' held-out variants (and on main)"
    )
    _run_options(probe)
    record = sub.add_parser("record", help="probe each bug alone and write its fails array")
    record.add_argument("bugs", nargs="?", help="ID[,ID...]")
    record.add_argument("--all", action="store_true", help="every bug in the catalogue")
    record.add_argument(
        "--since",
        metavar="REV",
        help="run only the tests of modules changed since REV; other records are kept",
    )
    _run_options(record)
    build = sub.add_parser("build", help="build the agent environment tree")
    build.add_argument("--out", type=Path, required=True)
    build.add_argument(
        "--bugs",
        default="all",
        help="all, none, ID,ID,..., tier:setup|1|2[:N] or random:N (default all)",
    )
    build.add_argument("--seed", type=int, default=0, help="seed of random draws (default 0)")
    solve = sub.add_parser("solve", help="apply DIR.solution/solve.sh to DIR")
    solve.add_argument("dir", type=Path)
    score = sub.add_parser("score", help="score a tree from pristine tests")
    score.add_argument("dir", type=Path)
    score.add_argument("--json", type=Path, help="write the results JSON here")
    score.add_argument("--previous", type=Path, help="results JSON of the previous scored run")
    score.add_argument(
        "--heldout", action="store_true", help="also run the catalogue's held-out variants"
    )
    verify = sub.add_parser("verify", help="check the catalogue quality gates")
    verify.add_argument("--quick", action="store_true", help="static gates only, no suite runs")
    verify.add_argument("--logs", type=Path, help="keep every suite run's pytest output here")
    _run_options(verify)
    verify.add_argument(
        "--check-selection",
        type=int,
        default=2,
        metavar="N",
        help="also run N bugs in full and compare with their selected runs (default 2)",
    )
    verify.add_argument(
        "--gate8",
        choices=("enforce", "info", "skip"),
        default="enforce",
        help="full mode: judge gate 8 on the measured curve (default), only report it, or skip"
        " its runs",
    )
    curve = sub.add_parser("curve", help="fix bugs one at a time and score every step")
    curve.add_argument("--order", choices=("dependency", "random"), default="dependency")
    curve.add_argument("--seed", type=int, default=0, help="seed of --order random (default 0)")
    curve.add_argument("--out", type=Path, help="folder for curve.csv, curve.png (build/curve)")
    curve.add_argument("--jobs", type=int, help="suite runs at a time (default: cores)")
    curve.add_argument("--no-cache", action="store_true", help="do not reuse cached runs")
    overlap = sub.add_parser("overlap", help="report crowded files and nearby edits")
    overlap.add_argument("--crowded", type=int, default=5, help="edits that make a file crowded")
    overlap.add_argument("--near", type=int, default=3, help="lines that make two edits near")
    rebase = sub.add_parser("rebase", help="carry the bugs' edits across a change of main")
    rebase.add_argument("bugs", nargs="?", default="all", help="ID[,ID...] (default all)")
    rebase.add_argument("--base", help="commit the edits were written against")
    rebase.add_argument("--dry-run", action="store_true", help="show what would be rewritten")
    _mutants_options(
        sub.add_parser("mutants", help="sampled mutation testing of services/ and shared/")
    )
    demo = sub.add_parser("demo", help="build all bugs, score, solve, score again")
    demo.add_argument("--out", type=Path, required=True)
    serve = sub.add_parser("serve", help="serve RL episodes over HTTP, bugs chosen per reset")
    serve_options(serve)
    serve.add_argument("--default-bugs", default="all", help="selection when a reset names none")
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
