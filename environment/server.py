"""Serve the RL interface over HTTP for remote trainers (reset, step, state, score, close).

Usage: python -m environment.server --tree DIR [--host H] [--port P] [--max-episodes N]
           [--reward-mode sparse|linear|sublinear|smooth] [--max-steps N]

Every request names its episode by the ``episode_id`` that ``POST /reset`` returned. Errors are
4xx with a ``detail`` message: 404 unknown episode, 409 episode already ended, 422 malformed
request or invalid action (nothing done), 429 too many open episodes.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from environment.actions import MAX_COMMAND_TIMEOUT, MAX_WRITE_BYTES
from environment.episode import (
    REWARD_MODES,
    EnvConfig,
    EpisodeClosed,
    SourceError,
    SynapseEnv,
    TreeSource,
)
from environment.paths import ActionError

RewardMode = Literal["sparse", "linear", "sublinear", "smooth"]


class Strict(BaseModel):
    """A request body that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


class PatchAction(Strict):
    """Apply a unified diff (paths relative to the tree, ``a/``/``b/`` prefixes allowed)."""

    type: Literal["patch"]
    diff: str = Field(min_length=1, max_length=MAX_WRITE_BYTES)


class WriteAction(Strict):
    """Write a text file inside the tree."""

    type: Literal["write"]
    path: str = Field(min_length=1, max_length=1000)
    content: str = Field(max_length=MAX_WRITE_BYTES)


class CommandAction(Strict):
    """Run a shell command in the tree, killed after ``timeout`` seconds."""

    type: Literal["command"]
    command: str = Field(min_length=1, max_length=100_000)
    timeout: float = Field(default=60.0, gt=0, le=MAX_COMMAND_TIMEOUT)


class SubmitAction(Strict):
    """Score the tree and end the episode."""

    type: Literal["submit"]


AnyAction = Annotated[
    PatchAction | WriteAction | CommandAction | SubmitAction, Field(discriminator="type")
]


class ResetRequest(Strict):
    """Start an episode; every field is optional."""

    bugs: str | list[str] | None = None
    seed: int | None = None
    tests: list[str] | None = Field(default=None, min_length=1, max_length=2000)
    reward_mode: RewardMode | None = None
    max_steps: int | None = Field(default=None, ge=1, le=100_000)


class EpisodeRequest(Strict):
    """Name an open episode."""

    episode_id: str = Field(min_length=1, max_length=64)


class StepRequest(EpisodeRequest):
    """One action in an episode."""

    action: AnyAction


class Episodes:
    """The open episodes, at most ``limit`` at a time, each used by one request at a time."""

    def __init__(self, source: TreeSource, config: EnvConfig, limit: int) -> None:
        """Serve episodes of ``source`` with ``config``."""
        self.source, self.config, self.limit = source, config, limit
        self._envs: dict[str, SynapseEnv] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._starting = 0

    def open(self, request: ResetRequest) -> dict[str, Any]:
        """Build a new episode and return its id and first observation."""
        with self._guard:
            if len(self._envs) + self._starting >= self.limit:
                raise HTTPException(429, f"at most {self.limit} episodes may be open; close one")
            self._starting += 1
        config = replace(
            self.config,
            reward_mode=request.reward_mode or self.config.reward_mode,
            max_steps=request.max_steps or self.config.max_steps,
        )
        env = SynapseEnv(self.source, config)
        try:
            observation = env.reset(bugs=request.bugs, seed=request.seed, tests=request.tests)
        except (SourceError, ActionError) as exc:
            raise HTTPException(422, str(exc)) from None
        finally:
            with self._guard:
                self._starting -= 1
        episode_id = env.episode_id
        assert episode_id is not None  # reset() sets it
        with self._guard:
            self._envs[episode_id] = env
            self._locks[episode_id] = threading.Lock()
        return {"episode_id": episode_id, "observation": observation, "reward": None, "done": False}

    @contextmanager
    def use(self, episode_id: str) -> Iterator[SynapseEnv]:
        """Yield the episode's environment, held for this request alone."""
        with self._guard:
            env, lock = self._envs.get(episode_id), self._locks.get(episode_id)
        if env is None or lock is None:
            raise HTTPException(404, f"unknown episode {episode_id!r}")
        with lock:
            try:
                yield env
            except EpisodeClosed as exc:
                raise HTTPException(409, str(exc)) from None
            except ActionError as exc:
                raise HTTPException(422, str(exc)) from None

    def close(self, episode_id: str) -> dict[str, Any]:
        """Close an episode and forget it."""
        with self.use(episode_id) as env:
            env.close()
        with self._guard:
            self._envs.pop(episode_id, None)
            self._locks.pop(episode_id, None)
        return {"episode_id": episode_id, "closed": True}

    def close_all(self) -> None:
        """Close every open episode (server shutdown)."""
        for episode_id in list(self._envs):
            self.close(episode_id)

    def count(self) -> int:
        """Return how many episodes are open."""
        with self._guard:
            return len(self._envs)


def create_app(source: TreeSource, config: EnvConfig | None = None, limit: int = 4) -> FastAPI:
    """Return the FastAPI app serving episodes of ``source``."""
    episodes = Episodes(source, config or EnvConfig(), limit)
    app = FastAPI(title="SynapseNet RL environment")
    app.state.episodes = episodes

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "episodes": episodes.count(), "limit": limit}

    @app.post("/reset")
    def reset(request: ResetRequest) -> dict[str, Any]:
        return episodes.open(request)

    @app.post("/step")
    def step(request: StepRequest) -> dict[str, Any]:
        with episodes.use(request.episode_id) as env:
            return {
                "episode_id": request.episode_id,
                **env.step(request.action.model_dump()).as_dict(),
            }

    @app.get("/state")
    def state(episode_id: str) -> dict[str, Any]:
        with episodes.use(episode_id) as env:
            return env.state()

    @app.post("/score")
    def score(request: EpisodeRequest) -> dict[str, Any]:
        with episodes.use(request.episode_id) as env:
            return {"episode_id": request.episode_id, **env.score()}

    @app.post("/close")
    def close(request: EpisodeRequest) -> dict[str, Any]:
        return episodes.close(request.episode_id)

    app.router.add_event_handler("shutdown", episodes.close_all)
    return app


def serve_options(parser: argparse.ArgumentParser) -> None:
    """Add the options every serving command shares."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--max-episodes", type=int, default=4, help="open episodes at a time")
    parser.add_argument("--reward-mode", choices=REWARD_MODES, default="sparse")
    parser.add_argument("--max-steps", type=int, default=200, help="steps per episode")


def serve(source: TreeSource, args: argparse.Namespace) -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    config = EnvConfig(reward_mode=args.reward_mode, max_steps=args.max_steps)
    uvicorn.run(create_app(source, config, args.max_episodes), host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> int:
    """Serve copies of one prepared tree."""
    from environment.sources import DirectorySource

    parser = argparse.ArgumentParser(prog="python -m environment.server", description=__doc__)
    parser.add_argument("--tree", type=Path, required=True, help="the prepared tree to copy")
    serve_options(parser)
    args = parser.parse_args(argv)
    serve(DirectorySource(args.tree), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
