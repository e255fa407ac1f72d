"""Collect, once per main, which tests execute each line of main's code (cached by content)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environment.runner import RunLimits, run_suite
from harness.build import temporary_tree
from harness.collect import cache_dir, fingerprint
from harness.fingerprint import tool_version

PLUGIN = Path(__file__).with_name("coverage_plugin.py")
MAP_NAME = ".coverage-map.json"


class CoverageMapError(Exception):
    """Main's suite could not be run under coverage."""


@dataclass
class CoverageMap:
    """Per file and line, the contexts that executed it; per test, the fixtures it used."""

    contexts: list[str]
    files: dict[str, dict[int, list[int]]]
    fixtures: dict[str, list[str]] = field(default_factory=dict)

    def contexts_of(self, file: str, lines: range) -> set[str]:
        """Return the contexts that executed any of ``lines`` of ``file``."""
        by_line = self.files.get(file, {})
        return {self.contexts[i] for line in lines for i in by_line.get(line, ())}

    def users_of(self, fixture: str) -> set[str]:
        """Return the tests whose fixture closure includes ``fixture`` (``baseid::name``)."""
        return {test for test, used in self.fixtures.items() if fixture in used}


def _parse(document: dict[str, Any]) -> CoverageMap:
    """Turn the plugin's JSON document into a CoverageMap."""
    files = {
        name: {int(line): ids for line, ids in lines.items()}
        for name, lines in document["files"].items()
    }
    return CoverageMap(list(document["contexts"]), files, dict(document.get("fixtures", {})))


def map_path(root: Path) -> Path:
    """Return where the coverage map of the current main is cached."""
    key = f"{fingerprint(root)}-{tool_version()[:8]}"
    return cache_dir(root) / f"coverage-{key}.json"


def coverage_map(root: Path, limits: RunLimits | None = None) -> CoverageMap:
    """Return main's coverage map, running main's suite under coverage when not cached."""
    cache = map_path(root)
    if cache.is_file():
        return _parse(json.loads(cache.read_text(encoding="utf-8")))
    with temporary_tree(root, []) as built:
        report = run_suite(built.path, [], limits, plugins=[PLUGIN])
        produced = built.path / MAP_NAME
        if report.exitstatus is None or not produced.is_file():
            problems = "; ".join(report.problems) or "no coverage map was written"
            raise CoverageMapError(f"main's suite did not run under coverage: {problems}")
        text = produced.read_text(encoding="utf-8")
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(cache)
    return _parse(json.loads(text))
