"""Verifier entry: score a tree with a bundle's own scorer copy and write flat reward files.

Usage: python -P -m environment.verifier TREE --bundle DIR [--logs /logs/verifier]

The bundle holds a copy of this package (the one that runs, so an edited scorer in TREE changes
nothing), ``pristine/tests`` and ``pristine/pyproject.toml``, ``expected.json`` and, when the
task has held-out variants, ``heldout/`` (run after the visible suite). Writes
``results.json`` (every test's outcome), ``reward-full.json`` (every component),
``reward.json`` (flat numbers) and ``reward.txt`` (the reward alone) into the logs folder. A
reward is always written: 0.0 with the reason when the tree cannot be scored.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from environment.heldout import VARIANTS_FILE
from environment.report import SuiteReport
from environment.scorer import build_results, reward_of, score_tree

# Numbers of the reward document copied into the flat reward.json, when present.
FLAT_KEYS = ("reward", "pass_rate", "weighted_pass_rate", "heldout_pass_rate")


def flat_reward(reward: dict[str, Any]) -> dict[str, float]:
    """Return the flat numbers of a reward document (dense modes included)."""
    flat = {
        key: float(reward[key]) for key in FLAT_KEYS if isinstance(reward.get(key), int | float)
    }
    flat.update({key: float(value) for key, value in reward.get("dense", {}).items()})
    return flat


def score_with_bundle(tree: Path, bundle: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the results and reward documents of ``tree`` scored against ``bundle``."""
    expected = json.loads((bundle / "expected.json").read_text(encoding="utf-8"))
    try:
        heldout = bundle / "heldout"
        variants = heldout if (heldout / VARIANTS_FILE).is_file() else None
        results = score_tree(tree, bundle / "pristine", expected, heldout=variants)
    except OSError as exc:
        results = build_results(expected, SuiteReport(problems=[f"cannot score: {exc}"]))
    return results, reward_of(results, None)


def write_logs(logs: Path, results: dict[str, Any] | None, reward: dict[str, Any]) -> None:
    """Write results.json, reward-full.json, reward.json and reward.txt into ``logs``."""
    logs.mkdir(parents=True, exist_ok=True)
    if results is not None:
        (logs / "results.json").write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    (logs / "reward-full.json").write_text(json.dumps(reward, sort_keys=True) + "\n", "utf-8")
    flat = flat_reward(reward)
    (logs / "reward.json").write_text(json.dumps(flat, sort_keys=True) + "\n", "utf-8")
    (logs / "reward.txt").write_text(f"{flat['reward']}\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    """Score TREE with the bundle and write the reward files; exit 0 whenever they are written."""
    parser = argparse.ArgumentParser(prog="python -m environment.verifier", description=__doc__)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--logs", type=Path, default=Path("/logs/verifier"))
    args = parser.parse_args(argv)
    try:
        results, reward = score_with_bundle(args.tree.resolve(), args.bundle.resolve())
    except Exception as exc:  # any failure still owes the trainer a reward
        traceback.print_exc()
        results, reward = None, {"reward": 0.0, "reason": f"verifier failed: {exc!r}"}
    write_logs(args.logs, results, reward)
    print(json.dumps(flat_reward(reward), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
