"""Episodes over a prepared tree: copies per episode, pristine tests restored when scoring."""

from __future__ import annotations

import pytest

from environment.episode import SourceError, SynapseEnv
from environment.sources import DirectorySource
from environment.tests.factories import write_project

PYPROJECT_MARKERS = '\nmarkers = ["training: training service"]\n'


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = write_project(
        tmp_path_factory.mktemp("prepared") / "tree",
        {
            "services/__init__.py": "",
            "services/calc.py": "def double(x):\n    return x + x + 1\n",
            "tests/unit/ml_pipeline/test_calc.py": """
                import pytest

                from services.calc import double

                pytestmark = pytest.mark.training


                def test_double():
                    assert double(2) == 4


                def test_double_zero():
                    assert double(0) == 0
                """,
        },
    )
    config = root / "pyproject.toml"
    config.write_text(config.read_text() + PYPROJECT_MARKERS)
    return root


def test_each_episode_gets_its_own_copy_and_edited_tests_do_not_count(prepared):
    source = DirectorySource(prepared)
    with SynapseEnv(source) as env:
        observation = env.reset()
        assert observation["tests"] == 2 and env.state()["bugs"] == []
        test_file = "tests/unit/ml_pipeline/test_calc.py"
        env.step({"type": "write", "path": test_file, "content": "def test_nothing():\n    pass\n"})
        assert env.score()["passed"] == 0
        code = "def double(x):\n    return 2 * x\n"
        env.step({"type": "write", "path": "services/calc.py", "content": code})
        score = env.score()
        assert score["reward"] == 1.0 and score["failing"] == []
    assert "x + x + 1" in (prepared / "services/calc.py").read_text()


def test_a_prepared_tree_refuses_a_selection(prepared):
    with SynapseEnv(DirectorySource(prepared)) as env, pytest.raises(SourceError):
        env.reset(bugs="random:2")


def test_a_folder_without_tests_is_not_a_source(tmp_path):
    with pytest.raises(SourceError, match="no tests"):
        DirectorySource(tmp_path)
