"""The pinned platform requirements can be installed together: no pin refuses another pin."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.gateway

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"


def read_pins(path: Path) -> dict[NormalizedName, Version]:
    """Return each pinned distribution of a requirements file with its exact version."""
    pins: dict[NormalizedName, Version] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        versions = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        assert len(versions) == 1, f"{line!r} is not pinned to one exact version"
        pins[canonicalize_name(requirement.name)] = Version(versions[0])
    return pins


PINS = read_pins(REQUIREMENTS)


def runtime_requirements(name: str) -> list[Requirement]:
    """Return what an installed distribution declares it needs at run time (no extras)."""
    declared = [Requirement(text) for text in metadata.requires(name) or []]
    return [r for r in declared if r.marker is None or r.marker.evaluate({"extra": ""})]


def test_requirements_pin_every_platform_package_exactly():
    assert {"fastapi", "django", "celery", "kombu", "elasticsearch"} <= set(PINS)


@pytest.mark.parametrize("name", sorted(PINS))
def test_pinned_package_accepts_the_versions_pinned_for_its_dependencies(name):
    conflicts = [
        f"{name} {PINS[name]} needs {requirement}, the file pins {PINS[dependency]}"
        for requirement in runtime_requirements(name)
        if (dependency := canonicalize_name(requirement.name)) in PINS
        and not requirement.specifier.contains(PINS[dependency], prereleases=True)
    ]
    assert conflicts == []
