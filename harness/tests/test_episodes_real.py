"""An RL episode on the real platform: plant one catalogue bug, repair it, score the scope."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from environment.episode import EnvConfig, SynapseEnv
from environment.server import create_app
from harness.episodes import CatalogueSource

ROOT = Path(__file__).resolve().parents[2]
# A bug with one edit whose recorded failures sit in one quick test file.
BUG = "M6"
SCOPE = ["tests/unit/ml_pipeline/test_ml_layers.py"]
# A cold clone collects main's suite first (cached in build/.cache afterwards).
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def source():
    return CatalogueSource(ROOT)


def repair(source: CatalogueSource) -> dict:
    """Return a patch action reversing the bug's edit, as an agent would write it."""
    (edit,) = source.catalogue[BUG].edits
    fixed = (ROOT / edit.file).read_text(encoding="utf-8")
    planted = fixed.replace(edit.before, edit.after)
    lines = difflib.unified_diff(
        planted.splitlines(True), fixed.splitlines(True), f"a/{edit.file}", f"b/{edit.file}"
    )
    return {"type": "patch", "diff": "".join(lines)}


def test_a_real_bug_is_repaired_through_the_python_api(source):
    with SynapseEnv(source, EnvConfig(reward_mode="linear")) as env:
        env.reset(bugs=BUG, seed=0, tests=SCOPE)
        before = env.score()
        assert sorted(before["failing"]) == sorted(source.catalogue[BUG].fails)
        assert 0 < before["mode_reward"] < 1 and before["reward"] < 1
        outcome = env.step(repair(source))
        assert outcome.observation["ok"], outcome.observation["output"]
        final = env.step({"type": "submit"})
        assert final.done and final.reward == 1.0 and final.info["score"]["failing"] == []


def test_a_real_bug_is_repaired_over_http(source):
    client = TestClient(create_app(source, EnvConfig(), limit=2))
    episode = client.post("/reset", json={"bugs": [BUG], "tests": SCOPE}).json()["episode_id"]
    look = {"type": "command", "command": "ls bugs harness 2>&1"}
    shown = client.post("/step", json={"episode_id": episode, "action": look}).json()
    assert "No such file" in shown["observation"]["output"]
    stepped = client.post("/step", json={"episode_id": episode, "action": repair(source)})
    assert stepped.json()["observation"]["ok"]
    scored = client.post("/score", json={"episode_id": episode}).json()
    assert scored["reward"] == 1.0 and scored["tests"] >= len(source.catalogue[BUG].fails)
    assert client.post("/close", json={"episode_id": episode}).status_code == 200
