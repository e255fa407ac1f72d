"""Factories for results documents and tiny pytest projects used by the scorer tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from environment.reward import TestResult

PYPROJECT = """[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-p no:cacheprovider --import-mode=importlib -q"
pythonpath = ["."]
"""


def result(
    test_id: str,
    outcome: str = "passed",
    category: str = "unit/ml_pipeline",
    service: str = "training",
) -> TestResult:
    """Return one test result."""
    return TestResult(test_id, category, service, outcome)


def batch(
    passed: int,
    failed: int,
    category: str = "unit/ml_pipeline",
    service: str = "training",
    prefix: str = "t",
) -> list[TestResult]:
    """Return ``passed`` passing then ``failed`` failing results in one category."""
    return [
        result(f"{prefix}{category}/{i}", "passed" if i < passed else "failed", category, service)
        for i in range(passed + failed)
    ]


def as_document(tests: list[TestResult]) -> dict:
    """Return a results document for a list of results."""
    return {
        "tests": [
            {"id": t.id, "category": t.category, "service": t.service, "outcome": t.outcome}
            for t in tests
        ]
    }


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write a tiny pytest project (pyproject.toml plus ``files``) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root
