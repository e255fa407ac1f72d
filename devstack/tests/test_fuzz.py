"""`python -m devstack.fuzz`: targets from the manifest, the st command, report counting."""

from __future__ import annotations

from pathlib import Path

from devstack import fuzz
from shared.services import SERVICES


def test_targets_follow_the_manifest_port_and_framework():
    assert fuzz.target_for(SERVICES["models"]) == fuzz.Target(
        "models", "http://127.0.0.1:8002", "http://127.0.0.1:8002/openapi.json"
    )
    assert fuzz.target_for(SERVICES["registry"]).schema_url == "http://127.0.0.1:8003/api/schema"


def test_command_runs_every_check_with_a_seed_and_a_json_report(tmp_path):
    target = fuzz.target_for(SERVICES["training"])
    command = fuzz.st_command(Path("st"), target, tmp_path / "r.json", examples=7, seed=3)
    joined = " ".join(command)
    assert "--checks all" in joined and "--seed 3" in joined and "--max-examples 7" in joined
    assert f"--report-json-path {tmp_path / 'r.json'}" in joined
    assert command[1:3] == ["--config-file", str(fuzz.CONFIG)] and fuzz.CONFIG.exists()


def test_report_failures_are_counted_per_check():
    report = {
        "failures": [
            {"code": "ST103", "title": "Undocumented status code", "count": 3},
            {"code": "ST202", "title": "Schema-valid request rejected", "count": 1},
        ],
        "errors": [{"title": "Network Error", "count": 1}],
    }
    outcome = fuzz.read_report("models", report)
    assert outcome.failures == {
        "ST103 Undocumented status code": 3,
        "ST202 Schema-valid request rejected": 1,
    }
    assert (outcome.failed, outcome.errors, outcome.ok) == (4, 1, False)
    assert fuzz.read_report("models", {"failures": [], "errors": []}).ok


def test_unreachable_service_is_reported_not_run(tmp_path):
    target = fuzz.Target("models", "http://127.0.0.1:9", "http://127.0.0.1:9/openapi.json")
    outcome = fuzz.fuzz(target, tmp_path / "st", tmp_path, examples=1, seed=1)
    assert not outcome.ok and "make up" in (outcome.problem or "")
    assert "NOT RUN" in fuzz.summary([outcome])[0]


def test_missing_schemathesis_and_unknown_services_exit_2(tmp_path, capsys):
    assert fuzz.main(["--st", str(tmp_path / "st")], environ={}) == 2
    assert "make fuzz" in capsys.readouterr().out
    assert fuzz.main(["auth"], environ={}) == 2
