"""Build RL episodes from main and the catalogue (maintainer/trainer side; never shipped).

``CatalogueSource`` is the ``TreeSource`` the shipped RL interface (``environment.episode``)
calls when a trainer picks the bugs of each episode: it plants any selection ``choose``
understands (IDs, tiers, ``random:N`` with a seed) into the episode's folder with the same
build as ``harness build``, and scores against main's pristine tests and expected IDs.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from environment.episode import EpisodeTree, SourceError
from harness.build import build_tree
from harness.catalogue import Bug, CatalogueError, load_catalogue
from harness.collect import collect_main
from harness.curriculum import choose
from harness.plant import PlantError


class CatalogueSource:
    """Plant a chosen set of bugs into each episode's copy of main's shipped files."""

    def __init__(self, root: Path, default: str = "all") -> None:
        """Serve episodes built from ``root`` (main plus ``bugs/``); ``default`` when unnamed."""
        self.root = Path(root).resolve()
        self.default = default
        self.catalogue: dict[str, Bug] = load_catalogue(self.root / "bugs")
        self._expected: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def expected(self) -> dict[str, dict[str, Any]]:
        """Return main's expected tests (collected once, cached by content on disk too)."""
        with self._lock:
            if self._expected is None:
                self._expected = dict(collect_main(self.root))
            return self._expected

    def build(self, dest: Path, bugs: str | list[str] | None, seed: int | None) -> EpisodeTree:
        """Plant the selection ``bugs`` (a spec or a list of IDs) into ``dest``."""
        spec = ",".join(bugs) if isinstance(bugs, list) else (bugs or self.default)
        try:
            selection = choose(self.catalogue, spec, seed or 0)
            built = build_tree(self.root, dest, selection.bugs)
        except (CatalogueError, PlantError) as exc:
            raise SourceError(str(exc)) from None
        return EpisodeTree(tuple(built.bugs), self.root, self.expected(), selection.record)


def serve_command(args: argparse.Namespace) -> int:
    """Serve episodes with bugs chosen per reset, over HTTP."""
    from environment.server import serve

    serve(CatalogueSource(args.root, args.default_bugs), args)
    return 0
