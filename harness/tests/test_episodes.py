"""RL episodes built from a tiny catalogue: the Python API and the HTTP app end to end."""

from __future__ import annotations

import difflib
import gc

import pytest
from fastapi.testclient import TestClient

from environment.episode import EnvConfig, EpisodeClosed, SourceError, SynapseEnv
from environment.paths import ActionError
from environment.server import create_app
from harness.episodes import CatalogueSource
from harness.tests.factories import MEAN_EDIT, SCALE_EDIT, make_root, write_bug

CALC = "services/calc.py"
SCALE_TEST = "tests/unit/ml_pipeline/test_calc.py::test_scale_multiplies"
MEAN_TEST = "tests/unit/ml_pipeline/test_calc.py::test_mean_of_two"
# Each score is a pytest run in a subprocess; on a loaded 2-core machine a few take 20 s.
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = make_root(tmp_path_factory.mktemp("repo"))
    write_bug(root, "M1", [SCALE_EDIT])
    write_bug(root, "M2", [MEAN_EDIT])
    return CatalogueSource(root)


def diff_of(text: str, old: str, new: str) -> str:
    """Return a unified diff of services/calc.py replacing ``old`` with ``new``."""
    after = text.replace(old, new)
    lines = difflib.unified_diff(
        text.splitlines(True), after.splitlines(True), f"a/{CALC}", f"b/{CALC}"
    )
    return "".join(lines)


def repair_scale(env: SynapseEnv) -> dict:
    """Return the patch action that undoes the scale slip in the episode's tree."""
    text = (env.tree / CALC).read_text()
    return {"type": "patch", "diff": diff_of(text, "v + factor", "v * factor")}


def test_an_episode_runs_reset_steps_score_and_close(source):
    env = SynapseEnv(source, EnvConfig(reward_mode="linear"))
    observation = env.reset(bugs="M1,M2", seed=0)
    assert observation["step"] == 0 and observation["tests"] == 2
    assert "M1" not in str(observation)
    scratch = env.tree.parent
    result = env.step(repair_scale(env))
    assert result.observation["ok"] and result.observation["changed"] == [CALC]
    assert (result.reward, result.done) == (0.0, False)
    with pytest.raises(ActionError, match="absolute"):
        env.step({"type": "write", "path": "/tmp/x.py", "content": "x"})
    stale = env.step({"type": "patch", "diff": diff_of("not in the file\n", "not", "now")})
    assert not stale.observation["ok"] and "does not match" in stale.observation["output"]
    assert env.state()["step"] == 2 and env.state()["bugs"] == ["M1", "M2"]
    score = env.score()
    assert score["failing"] == [MEAN_TEST]
    assert score["weighted_pass_rate"] == 0.5 and score["mode_reward"] == 0.5
    assert score["reward"] == 0.22 and score["dense"]["sublinear"] == pytest.approx(0.707107)
    final = env.step({"type": "submit"})
    assert final.done and final.reward == 0.5 and final.info["score"]["failing"] == [MEAN_TEST]
    with pytest.raises(EpisodeClosed):
        env.step({"type": "command", "command": "true"})
    env.close()
    assert not scratch.exists()


def test_the_same_selection_and_seed_give_the_same_episode(source):
    outcomes = []
    for _ in range(2):
        with SynapseEnv(source) as env:
            env.reset(bugs="random:1", seed=4)
            outcomes.append((env.state()["bugs"], (env.tree / CALC).read_text()))
    assert outcomes[0] == outcomes[1] and len(outcomes[0][0]) == 1
    assert outcomes[0][1] != (source.root / CALC).read_text()


def test_episodes_are_isolated_and_scoring_leaves_the_working_tree_alone(source):
    with SynapseEnv(source) as first, SynapseEnv(source) as second:
        first.reset(bugs="M1")
        second.reset(bugs="M1")
        first.step({"type": "write", "path": "conftest.py", "content": "import os\n"})
        first.step({"type": "write", "path": "tests/unit/ml_pipeline/test_calc.py", "content": ""})
        assert not (second.tree / "conftest.py").exists()
        score = first.score()
        assert score["removed"] == ["conftest.py"] and score["failing"] == [SCALE_TEST]
        assert (first.tree / "conftest.py").exists()
        assert (first.tree / "tests/unit/ml_pipeline/test_calc.py").read_text() == ""


def test_a_later_score_that_loses_a_test_pays_the_regression_penalty(source):
    with SynapseEnv(source) as env:
        env.reset(bugs="M2")
        assert env.score()["regression_penalty"] == 0.0
        text = (env.tree / CALC).read_text()
        env.step({"type": "patch", "diff": diff_of(text, "v * factor", "v - factor")})
        score = env.score()
        assert score["regressions"] == [SCALE_TEST] and score["regression_penalty"] == 0.15


def test_a_command_runs_in_the_tree_with_a_timeout(source):
    with SynapseEnv(source, EnvConfig(max_steps=3, max_output=100)) as env:
        env.reset(bugs="none")
        listing = env.step({"type": "command", "command": "ls services; yes | head -c 500"})
        assert listing.observation["exit_code"] == 0
        assert "calc.py" in listing.observation["output"]
        assert "characters cut" in listing.observation["output"]
        flood = env.step({"type": "command", "command": "yes | head -c 5000000; sleep 60 &"})
        assert "of 5000000 bytes" in flood.observation["output"]
        assert len(flood.observation["output"]) < 200
        slow = env.step({"type": "command", "command": "exec sleep 30", "timeout": 0.2})
        assert slow.observation["timed_out"] and slow.observation["exit_code"] is None
        assert slow.done and slow.info == {"truncated": True}


def test_a_selection_the_catalogue_cannot_serve_is_refused(source):
    with SynapseEnv(source) as env, pytest.raises(SourceError, match="Z9"):
        env.reset(bugs="Z9")
    with SynapseEnv(source) as env, pytest.raises(SourceError, match="names no expected test"):
        env.reset(bugs="M1", tests=["tests/unit/none.py"])


def test_the_http_app_serves_the_same_episode(source):
    client = TestClient(create_app(source, EnvConfig(reward_mode="smooth"), limit=1))
    opened = client.post("/reset", json={"bugs": ["M1"], "seed": 0})
    assert opened.status_code == 200, opened.text
    episode = opened.json()["episode_id"]
    assert client.post("/reset", json={}).status_code == 429
    text = client.post(
        "/step",
        json={"episode_id": episode, "action": {"type": "command", "command": f"cat {CALC}"}},
    ).json()["observation"]["output"]
    patch = {"type": "patch", "diff": diff_of(text, "v + factor", "v * factor")}
    stepped = client.post("/step", json={"episode_id": episode, "action": patch})
    assert stepped.json()["observation"]["changed"] == [CALC]
    escape = {"type": "write", "path": "../outside.py", "content": ""}
    bad = client.post("/step", json={"episode_id": episode, "action": escape})
    assert bad.status_code == 422 and "'..'" in bad.json()["detail"]
    unknown = client.post("/step", json={"episode_id": episode, "action": {"type": "jump"}})
    assert unknown.status_code == 422
    assert client.get("/state", params={"episode_id": "nope"}).status_code == 404
    state = client.get("/state", params={"episode_id": episode}).json()
    assert state["step"] == 2 and state["bugs"] == ["M1"]
    submitted = client.post("/step", json={"episode_id": episode, "action": {"type": "submit"}})
    assert submitted.json()["done"] and submitted.json()["reward"] == 1.0
    again = client.post("/step", json={"episode_id": episode, "action": {"type": "submit"}})
    assert again.status_code == 409
    assert client.post("/score", json={"episode_id": episode}).json()["reward"] == 1.0
    assert client.post("/close", json={"episode_id": episode}).json()["closed"]
    assert client.post("/score", json={"episode_id": episode}).status_code == 404
    refused = client.post("/reset", json={"bugs": "tier:7"})
    assert refused.status_code == 422 and "unknown tier" in refused.json()["detail"]
    assert client.get("/health").json()["episodes"] == 0


def test_an_environment_dropped_without_close_removes_its_folder(source):
    env = SynapseEnv(source)
    env.reset(bugs="none")
    scratch = env.tree.parent
    assert scratch.is_dir()
    del env
    gc.collect()
    assert not scratch.exists()
