"""The environment as an RL interface: reset, step, state, score and close one episode.

An episode works in its own copy of a tree, made by a ``TreeSource`` in a private temp folder
and deleted by ``close()``. Actions are unified-diff patches, file writes and shell commands
(see ``environment.actions``); ``submit`` scores the tree and ends the episode. Scoring runs the
real scorer (pristine tests restored, clean subprocess, signed report) on a copy of the
episode's tree, so the agent's working files are left as they were.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from environment.actions import Action, Outcome, parse_action, perform
from environment.paths import ActionError
from environment.runner import RunLimits
from environment.scorer import reward_of, score_tree

__all__ = [
    "ActionError",
    "EnvConfig",
    "EpisodeClosed",
    "EpisodeTree",
    "SourceError",
    "StepResult",
    "SynapseEnv",
    "TreeSource",
]
REWARD_MODES = ("sparse", "linear", "sublinear", "smooth")
TASK = (
    "The SynapseNet platform in this tree has failing tests. Make `python -m pytest tests/` "
    "pass by repairing the code under services/ and shared/; the pristine tests are restored "
    "before scoring. Actions: patch (unified diff), write (path, content), command (shell, "
    "run in the tree), submit (score and end)."
)


class SourceError(ValueError):
    """A source cannot build the requested episode (an unknown selection, for instance)."""


class EpisodeClosed(RuntimeError):
    """The episode has ended (submitted, out of steps, or closed)."""


@dataclass(frozen=True)
class EpisodeTree:
    """What a source built: the defects in it, where pristine tests live, the expected tests."""

    bugs: tuple[str, ...]
    pristine: Path
    expected: dict[str, dict[str, Any]]
    selection: dict[str, Any] = field(default_factory=dict)


class TreeSource(Protocol):
    """Something that writes an episode's tree into a folder."""

    def build(self, dest: Path, bugs: str | list[str] | None, seed: int | None) -> EpisodeTree:
        """Write the episode's tree into ``dest`` (which does not exist yet)."""
        ...


@dataclass(frozen=True)
class EnvConfig:
    """Settings of every episode of an environment."""

    reward_mode: str = "sparse"
    max_steps: int = 200
    max_output: int = 20_000
    limits: RunLimits = field(default_factory=RunLimits)

    def __post_init__(self) -> None:
        """Refuse settings no episode can run with."""
        if self.reward_mode not in REWARD_MODES:
            raise ValueError(f"reward_mode must be one of {', '.join(REWARD_MODES)}")
        if self.max_steps < 1 or self.max_output < 100:
            raise ValueError("max_steps must be at least 1 and max_output at least 100")


@dataclass
class StepResult:
    """What ``step`` returns: the observation, the reward of this step and whether it ended."""

    observation: dict[str, Any]
    reward: float
    done: bool
    info: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict."""
        return {
            "observation": self.observation,
            "reward": self.reward,
            "done": self.done,
            "info": self.info,
        }


def mode_reward(reward: dict[str, Any], mode: str) -> float:
    """Return the reward of ``mode``: the brief's stepped reward (sparse) or a dense value."""
    if mode == "sparse":
        return float(reward["reward"])
    return float(reward["dense"][mode])


def _scoped(expected: dict[str, dict[str, Any]], tests: list[str]) -> dict[str, dict[str, Any]]:
    """Return the expected tests that one of ``tests`` names (a node ID, file or folder)."""

    def named(test_id: str, sel: str) -> bool:
        return test_id == sel or test_id.startswith((sel + "::", sel.rstrip("/") + "/"))

    chosen: dict[str, dict[str, Any]] = {}
    for sel in tests:
        matched = {t: info for t, info in expected.items() if named(t, sel)}
        if not matched:
            raise SourceError(f"the 'tests' scope entry {sel!r} names no expected test")
        chosen.update(matched)
    return chosen


class SynapseEnv:
    """One episode at a time over trees from ``source``: ``reset``, ``step``, ``score``, ``close``.

    ``reset(selection, seed, tests)`` asks the source for a tree (the selection, first
    argument, is whatever the source understands; ``seed`` makes random selections
    reproducible; ``tests`` narrows scoring to those node IDs, files or folders, and the
    reward is then the reward over that scope). Steps give reward 0.0 except ``submit``,
    which scores and ends the episode.
    """

    def __init__(self, source: TreeSource, config: EnvConfig | None = None) -> None:
        """Serve episodes from ``source`` with ``config`` (defaults: sparse reward)."""
        self.source = source
        self.config = config or EnvConfig()
        self.episode_id: str | None = None
        self._scratch: Path | None = None
        self._built: EpisodeTree | None = None
        self._expected: dict[str, dict[str, Any]] = {}
        self._scope: list[str] = []
        self._steps = 0
        self._done = False
        self._previous: dict[str, Any] | None = None
        self._last: dict[str, Any] | None = None
        self._cleanup: Callable[[], Any] | None = None

    @property
    def tree(self) -> Path:
        """Return the episode's working tree; raise EpisodeClosed when there is none."""
        if self._scratch is None:
            raise EpisodeClosed("no episode is open; call reset()")
        return self._scratch / "tree"

    def reset(
        self,
        bugs: str | list[str] | None = None,
        seed: int | None = None,
        tests: list[str] | None = None,
    ) -> dict[str, Any]:
        """Close any open episode, build a fresh tree and return the first observation."""
        self.close()
        scratch = Path(tempfile.mkdtemp(prefix="synapse-episode-"))
        try:
            built = self.source.build(scratch / "tree", bugs, seed)
            expected = _scoped(built.expected, tests) if tests else dict(built.expected)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        (scratch / "home").mkdir()
        # An environment dropped or left open at exit still removes its folder.
        self._cleanup = weakref.finalize(self, shutil.rmtree, scratch, True)
        self._scratch, self._built, self._expected = scratch, built, expected
        self._scope = list(tests or [])
        self.episode_id = secrets.token_hex(8)
        self._steps, self._done, self._previous, self._last = 0, False, None, None
        return {
            "episode_id": self.episode_id,
            "step": 0,
            "task": TASK,
            "files": sorted(p.name for p in self.tree.iterdir()),
            "tests": len(expected),
        }

    def _open(self) -> None:
        """Raise EpisodeClosed unless an episode is open and not finished."""
        if self._scratch is None:
            raise EpisodeClosed("no episode is open; call reset()")
        if self._done:
            raise EpisodeClosed(f"episode {self.episode_id} has ended; call reset()")

    def step(self, action: Action | dict[str, Any]) -> StepResult:
        """Validate and carry out one action; raise ActionError (nothing done) when invalid."""
        self._open()
        parsed = action if isinstance(action, Action) else parse_action(action)
        if parsed.type == "submit":
            self._steps += 1
            reward = self.score()
            self._done = True
            observation = {"step": self._steps, "ok": True, "output": "submitted"}
            value = reward["mode_reward"]
            return StepResult(observation, value, True, {"score": reward})
        assert self._scratch is not None  # _open() checked it
        outcome: Outcome = perform(
            self.tree, self._scratch / "home", parsed, self.config.max_output
        )
        self._steps += 1
        self._done = self._steps >= self.config.max_steps
        observation = {"step": self._steps, **outcome.as_dict()}
        info = {"truncated": self._done}
        return StepResult(observation, 0.0, self._done, info)

    def score(self) -> dict[str, Any]:
        """Score a copy of the tree with the real scorer; return the reward and its parts.

        The regression penalty compares with this episode's previous ``score()``.
        """
        if self._scratch is None or self._built is None:
            raise EpisodeClosed("no episode is open; call reset()")
        started = time.monotonic()
        copy = Path(tempfile.mkdtemp(prefix="synapse-score-", dir=self._scratch)) / "tree"
        try:
            shutil.copytree(self.tree, copy, symlinks=True)
            limits, scope = self.config.limits, self._scope
            results = score_tree(copy, self._built.pristine, self._expected, limits, tests=scope)
        finally:
            shutil.rmtree(copy.parent, ignore_errors=True)
        reward = reward_of(results, self._previous)
        self._previous = results
        reward.update(
            mode=self.config.reward_mode,
            mode_reward=mode_reward(reward, self.config.reward_mode),
            failing=[t["id"] for t in results["tests"] if t["outcome"] != "passed"],
            removed=results.get("removed", []),
            tree_changes=results.get("tree_changes", []),
            seconds=round(time.monotonic() - started, 3),
        )
        self._last = reward
        return reward

    def state(self) -> dict[str, Any]:
        """Return the episode's bookkeeping (for the trainer; it names the defects built in)."""
        built = self._built
        return {
            "episode_id": self.episode_id,
            "open": self._scratch is not None,
            "step": self._steps,
            "done": self._done,
            "max_steps": self.config.max_steps,
            "reward_mode": self.config.reward_mode,
            "bugs": list(built.bugs) if built else [],
            "selection": built.selection if built else {},
            "tests": len(self._expected),
            "scope": self._scope,
            "last_reward": self._last["mode_reward"] if self._last else None,
        }

    def close(self) -> None:
        """Delete the episode's folder; calling it twice is harmless."""
        if self._cleanup is not None:
            self._cleanup()
        self._scratch, self._built, self._cleanup = None, None, None
        self._done = True

    def __enter__(self) -> SynapseEnv:
        """Return the environment itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the open episode."""
        self.close()
