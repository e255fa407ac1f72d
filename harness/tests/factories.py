"""Tiny repository fixtures for harness tests: a fake main tree and bug files."""

from __future__ import annotations

import textwrap
from pathlib import Path

PYPROJECT = """[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-p no:cacheprovider --import-mode=importlib -q"
pythonpath = ["."]
markers = ["training: training service", "gateway: gateway service"]
"""
FILES = {
    "pyproject.toml": PYPROJECT,
    "requirements.txt": "numpy==2.2.5\n",
    "shared/__init__.py": "",
    "shared/services.py": """
        SERVICES = [ServiceSpec("gateway", 8000), ServiceSpec("training", 8004)]
        """,
    "services/__init__.py": "",
    "services/calc.py": '''
        """Arithmetic used by the training service."""


        def scale(values, factor):
            """Return every value multiplied by factor."""
            return [v * factor for v in values]


        def mean(values):
            """Return the arithmetic mean."""
            return sum(values) / len(values)
        ''',
    "tests/unit/ml_pipeline/test_calc.py": """
        import pytest

        from services.calc import mean, scale

        pytestmark = pytest.mark.training


        def test_scale_multiplies():
            assert scale([1, 2], 3) == [3, 6]


        def test_mean_of_two():
            assert mean([1, 3]) == 2
        """,
    "environment/__init__.py": "",
    "environment/tests/test_internal.py": "def test_x():\n    pass\n",
    "bugs/README.md": "catalogue\n",
    "harness/__init__.py": "",
    "docs/ARCHITECTURE.md": "maintainer doc\n",
    ".git/config": "[core]\n",
    "services/__pycache__/calc.cpython-311.pyc": "junk",
}
SCALE_EDIT = (
    "services/calc.py",
    "    return [v * factor for v in values]\n",
    "    return [v + factor for v in values]\n",
)
MEAN_EDIT = (
    "services/calc.py",
    "    return sum(values) / len(values)\n",
    "    return sum(values) / (len(values) + 1)\n",
)


def make_root(base: Path, extra: dict[str, str] | None = None) -> Path:
    """Write a fake main repository under ``base`` and return it."""
    root = base / "main"
    for name, text in {**FILES, **(extra or {})}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def bug_text(bug_id: str, edits: list[tuple[str, str, str]], **meta: object) -> str:
    """Return the TOML text of a bug file."""
    fields = {
        "id": bug_id,
        "title": f"Arithmetic slip number {bug_id}",
        "category": bug_id[0],
        "services": ["training"],
        "depends_on": [],
        "fails": [],
        **meta,
    }
    lines = [f"{key} = {_toml(value)}" for key, value in fields.items() if value is not None]
    for file, before, after in edits:
        lines += ["", "[[edits]]", f"file = {_toml(file)}"]
        lines += [f"before = '''\n{before}'''", f"after = '''\n{after}'''"]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    """Return a TOML literal for a string or a list of strings."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_bug(root: Path, bug_id: str, edits: list[tuple[str, str, str]], **meta: object) -> Path:
    """Write bugs/<ID>.toml into a fake repository."""
    path = root / "bugs" / f"{bug_id}.toml"
    path.write_text(bug_text(bug_id, edits, **meta), encoding="utf-8")
    return path
