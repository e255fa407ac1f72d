"""Sources of episode trees that need nothing beyond the shipped tree itself."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

from environment.episode import EpisodeTree, SourceError
from environment.expected import collect_expected

# Never copied into an episode: caches, history and local virtualenvs.
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".venv", ".pytest_cache")
AS_BUILT = ("", "as-built")


class DirectorySource:
    """Give every episode a copy of one prepared tree (the tree as an agent receives it).

    The directory is the master copy: its ``tests/`` and ``pyproject.toml`` are the pristine
    ones the scorer restores, so it must not change while episodes run. Its defects were chosen
    when it was made, so ``reset`` takes no selection (or ``"as-built"``).
    """

    def __init__(self, tree: Path, expected: dict[str, dict[str, Any]] | None = None) -> None:
        """Serve copies of ``tree``; ``expected`` skips collecting its tests once."""
        self.tree = Path(tree).resolve()
        if not (self.tree / "tests").is_dir() or not (self.tree / "pyproject.toml").is_file():
            raise SourceError(f"{self.tree} has no tests/ and pyproject.toml to score with")
        self._expected = expected
        self._lock = threading.Lock()

    def expected(self) -> dict[str, dict[str, Any]]:
        """Return the tree's expected tests, collected on first use."""
        with self._lock:
            if self._expected is None:
                self._expected = collect_expected(self.tree)
            return self._expected

    def build(self, dest: Path, bugs: str | list[str] | None, seed: int | None) -> EpisodeTree:
        """Copy the tree into ``dest``; ``seed`` changes nothing in a fixed tree."""
        if bugs is not None and bugs not in AS_BUILT:
            raise SourceError("this source serves one prepared tree; leave 'bugs' out")
        shutil.copytree(self.tree, dest, symlinks=True, ignore=IGNORED)
        return EpisodeTree((), self.tree, self.expected(), {"spec": "as-built", "seed": seed})
