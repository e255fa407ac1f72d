"""Pipeline definitions: which DAGs are refused, and the order their steps run in."""

from __future__ import annotations

import pytest

from services.pipeline.dag import (
    MAX_STEPS,
    InvalidPipelineError,
    Step,
    digest,
    validate,
)

pytestmark = pytest.mark.pipeline


def s(name: str, kind: str = "transform", *deps: str, **params: object) -> Step:
    return Step(name, kind, tuple(deps), params)


def test_linear_chain_runs_in_dependency_order() -> None:
    steps = [s("train", "train", "prep"), s("prep", "transform", "check"), s("check", "validate")]
    assert validate(steps) == ["check", "prep", "train"]


def test_steps_ready_together_run_in_name_order() -> None:
    steps = [s("zeta", "validate"), s("alpha", "validate"), s("mid", "validate")]
    assert validate(steps) == ["alpha", "mid", "zeta"]


def test_diamond_joins_after_both_branches() -> None:
    steps = [
        s("join", "train", "right", "left"),
        s("right", "transform", "root"),
        s("left", "transform", "root"),
        s("root", "validate"),
    ]
    assert validate(steps) == ["root", "left", "right", "join"]


def test_a_step_unblocked_later_waits_for_its_turn_by_name() -> None:
    # "b" becomes ready only after "a"; "c" was ready from the start and sorts after "b".
    steps = [s("a", "validate"), s("b", "transform", "a"), s("c", "validate")]
    assert validate(steps) == ["a", "b", "c"]


def test_declaration_order_does_not_change_the_schedule() -> None:
    steps = [s("r", "validate"), s("x", "transform", "r"), s("y", "transform", "r")]
    assert validate(steps) == validate(list(reversed(steps)))


def test_two_step_cycle_is_refused_naming_its_steps() -> None:
    with pytest.raises(InvalidPipelineError) as caught:
        validate([s("a", "transform", "b"), s("b", "transform", "a"), s("c", "validate")])
    assert caught.value.status_code == 400
    assert caught.value.details == {"steps": ["a", "b"]}


def test_step_depending_on_itself_is_refused() -> None:
    with pytest.raises(InvalidPipelineError, match="themselves"):
        validate([s("loop", "transform", "loop")])


def test_unknown_kind_is_refused_with_the_known_kinds() -> None:
    with pytest.raises(InvalidPipelineError) as caught:
        validate([s("a", "validate"), s("b", "deploy", "a")])
    assert caught.value.details == {"steps": ["b"]}
    assert "register" in caught.value.message


def test_dependency_on_an_undeclared_step_is_refused() -> None:
    with pytest.raises(InvalidPipelineError) as caught:
        validate([s("a", "validate"), s("b", "train", "a", "ghost")])
    assert caught.value.details == {"edges": ["b -> ghost"]}


def test_duplicate_step_names_are_refused() -> None:
    with pytest.raises(InvalidPipelineError) as caught:
        validate([s("a", "validate"), s("a", "train")])
    assert caught.value.details == {"steps": ["a"]}


@pytest.mark.parametrize("count", [0, MAX_STEPS + 1])
def test_empty_and_oversized_pipelines_are_refused(count: int) -> None:
    with pytest.raises(InvalidPipelineError):
        validate([s(f"s{i:03d}", "validate") for i in range(count)])


def test_equal_definitions_share_a_digest_whatever_their_order() -> None:
    one = [s("a", "validate"), s("b", "train", "a", lr=0.1)]
    two = [s("b", "train", "a", lr=0.1), s("a", "validate")]
    assert digest(one, "clicks") == digest(two, "clicks")


@pytest.mark.parametrize(
    ("other", "trigger"),
    [
        ([s("a", "validate"), s("b", "train", "a", lr=0.2)], "clicks"),
        ([s("a", "validate"), s("b", "evaluate", "a", lr=0.1)], "clicks"),
        ([s("a", "validate"), s("b", "train", "a", lr=0.1)], "views"),
    ],
)
def test_any_change_gives_another_digest(other: list[Step], trigger: str) -> None:
    base = [s("a", "validate"), s("b", "train", "a", lr=0.1)]
    assert digest(other, trigger) != digest(base, "clicks")
