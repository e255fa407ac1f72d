"""Held-out: artifact root confinement through a linked folder rather than a linked file."""

from __future__ import annotations

import pytest

from shared.errors import UnsafeArtifactError
from shared.ml.files import resolve_inside

pytestmark = pytest.mark.inference


def test_a_linked_folder_inside_the_root_cannot_lead_outside(tmp_path):
    root, outside = tmp_path / "artifacts", tmp_path / "elsewhere"
    (root / "team").mkdir(parents=True)
    outside.mkdir()
    (outside / "weights.npz").write_bytes(b"x")
    (root / "team" / "shared").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeArtifactError):
        resolve_inside("team/shared/weights.npz", root)
    assert resolve_inside("team/own.npz", root) == (root / "team" / "own.npz").resolve()
