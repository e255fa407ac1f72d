"""End to end on a tiny fake repository: probe, record, verify --quick, build, score."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib

import pytest

from harness.catalogue import load_catalogue
from harness.cli import main
from harness.commands import changed_test_files
from harness.probe import probe_many
from harness.tests.factories import MEAN_EDIT, SCALE_EDIT, make_root, write_bug

SCALE_TEST = "tests/unit/ml_pipeline/test_calc.py::test_scale_multiplies"
MEAN_TEST = "tests/unit/ml_pipeline/test_calc.py::test_mean_of_two"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = make_root(tmp_path_factory.mktemp("repo"))
    write_bug(root, "M1", [SCALE_EDIT])
    write_bug(root, "A1", [MEAN_EDIT], depends_on=["M1"])
    assert main(["--root", str(root), "record", "--all"]) == 0
    return root


def test_record_writes_each_bugs_failing_tests(root):
    m1 = tomllib.loads((root / "bugs/M1.toml").read_text())
    a1 = tomllib.loads((root / "bugs/A1.toml").read_text())
    assert m1["fails"] == [SCALE_TEST]
    assert a1["fails"] == [MEAN_TEST]
    recorded = json.loads((root / "bugs/_all_bugs_passing.json").read_text())
    assert recorded["passing"] == []


def test_probe_prints_the_failing_tests(root, capsys):
    assert main(["--root", str(root), "probe", "M1,A1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [MEAN_TEST, SCALE_TEST]
    assert lines[-1] == "# 2 of the 2 tests passing on main fail with M1,A1"


def test_verify_quick_reports_the_false_dependency(root, capsys):
    assert main(["--root", str(root), "verify", "--quick"]) == 1
    out = capsys.readouterr().out
    assert "[PASS] gate 1:" in out and "[PASS] gate 6:" in out and "[PASS] gate 7:" in out
    assert "[FAIL] gate 5:" in out and "A1 depends on M1, but 1 of its tests pass" in out


def test_build_score_solve_score(root, tmp_path, capsys):
    out = tmp_path / "env"
    assert main(["--root", str(root), "build", "--out", str(out), "--bugs", "M1"]) == 0
    manifest = json.loads((tmp_path / "env.solution/manifest.json").read_text())
    assert manifest["expected_passing"] == [MEAN_TEST]
    assert main(["--root", str(root), "score", str(out), "--json", str(tmp_path / "r1.json")]) == 0
    first = json.loads((tmp_path / "r1.json").read_text())
    assert {t["id"]: t["outcome"] for t in first["tests"]} == {
        MEAN_TEST: "passed",
        SCALE_TEST: "failed",
    }
    assert main(["--root", str(root), "solve", str(out)]) == 0
    capsys.readouterr()
    args = [
        "score",
        str(out),
        "--json",
        str(tmp_path / "r2.json"),
        "--previous",
        str(tmp_path / "r1.json"),
    ]
    assert main(["--root", str(root), *args]) == 0
    reward = json.loads(capsys.readouterr().out.splitlines()[-2])
    assert reward["reward"] == 1.0 and reward["regression_penalty"] == 0.0


def test_unknown_bug_is_a_clear_error(root, capsys):
    assert main(["--root", str(root), "probe", "Q1"]) == 2
    assert capsys.readouterr().err == "error: unknown bug ID(s): Q1\n"


def test_probe_runs_keep_their_pytest_output_when_asked(root, tmp_path):
    catalogue = load_catalogue(root / "bugs")
    logs = tmp_path / "logs"
    results = probe_many(root, [[], [catalogue["M1"]]], log_dir=logs)
    assert [r.failing for r in results] == [[], [SCALE_TEST]]
    assert sorted(p.name for p in logs.iterdir()) == ["000-main.log", "001-M1.log"]
    assert "FAILED " + SCALE_TEST in (logs / "001-M1.log").read_text()
    assert "FAILED" not in (logs / "000-main.log").read_text()


NEW_FLOW = """
import pytest

from services.calc import mean, scale

pytestmark = pytest.mark.training


def test_scaled_values_average_to_the_scaled_mean():
    assert mean(scale([1, 3], 3)) == 6


def test_mean_of_one():
    assert mean([5]) == 5
"""


def test_record_since_a_revision_runs_the_changed_modules_and_keeps_other_records(tmp_path):
    root = make_root(tmp_path)
    gone = "tests/unit/ml_pipeline/test_removed.py::test_old"
    write_bug(root, "M1", [SCALE_EDIT], fails=[SCALE_TEST, gone])
    commit_everything(root)
    (root / "tests/integration").mkdir(parents=True)
    (root / "tests/integration/test_calc_flow.py").write_text(NEW_FLOW.lstrip(), encoding="utf-8")

    assert main(["--root", str(root), "record", "M1", "--since", "HEAD"]) == 0

    flow = "tests/integration/test_calc_flow.py::test_scaled_values_average_to_the_scaled_mean"
    assert tomllib.loads((root / "bugs/M1.toml").read_text())["fails"] == [flow, SCALE_TEST]


def test_record_since_a_revision_records_every_test_of_a_bug_whose_code_changed(tmp_path, capsys):
    root = make_root(tmp_path)
    write_bug(root, "M1", [SCALE_EDIT], fails=[MEAN_TEST])
    commit_everything(root)
    calc = root / "services/calc.py"
    calc.write_text(calc.read_text() + "\n\ndef double(values):\n    return scale(values, 2)\n")

    assert main(["--root", str(root), "record", "M1", "--since", "HEAD"]) == 0

    assert "code these bugs edit changed since HEAD; recording every test: M1" in (
        capsys.readouterr().out
    )
    assert tomllib.loads((root / "bugs/M1.toml").read_text())["fails"] == [SCALE_TEST]


def test_record_since_an_unknown_revision_is_refused(root, capsys):
    assert main(["--root", str(root), "record", "M1", "--since", "no-such-rev"]) == 2
    assert "cannot compare the tree with no-such-rev" in capsys.readouterr().err


def commit_everything(root):
    """Make ``root`` a fresh git repository whose one commit holds every file."""
    shutil.rmtree(root / ".git", ignore_errors=True)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)


def test_a_changed_test_helper_brings_in_the_test_modules_importing_it(tmp_path):
    files = {
        "tests/utils/helper.py": "VALUE = 1\n",
        "tests/utils/wrapper.py": "from tests.utils.helper import VALUE\n",
        "tests/test_direct.py": "from tests.utils import helper\n",
        "tests/test_indirect.py": "from tests.utils.wrapper import VALUE\n",
        "tests/test_other.py": "import json\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    commit_everything(tmp_path)
    assert changed_test_files(tmp_path, "HEAD") == set()
    (tmp_path / "tests/utils/helper.py").write_text("VALUE = 2\n", encoding="utf-8")
    assert changed_test_files(tmp_path, "HEAD") == {
        "tests/test_direct.py",
        "tests/test_indirect.py",
    }
