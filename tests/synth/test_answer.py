"""Targets (language + style + weight) and the teacher's answer shapes."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from pydantic import ValidationError

from codefoundry.records import Author, AuthorKind, Provenance, Style
from codefoundry.synth.answer import (
    FunctionAnswer,
    Origin,
    ProgramAnswer,
    Target,
    TargetLanguage,
    answer_shape,
    draft_from_answer,
    parse_answer,
    pick_target,
)
from codefoundry.synth.teacher_prompt import ParseError


def test_targets_are_drawn_by_weight_and_stably() -> None:
    targets = [Target(weight=3), Target(language=TargetLanguage.GO, style=Style.STDIO)]
    drawn = Counter(pick_target(targets, f"seed-{i}").label for i in range(2000))
    assert 0.7 < drawn["python/function"] / 2000 < 0.8
    assert [pick_target(targets, f"seed-{i}").label for i in range(50)] == [
        pick_target(targets, f"seed-{i}").label for i in range(50)
    ]


def test_function_style_is_refused_where_the_sandbox_only_runs_programs() -> None:
    with pytest.raises(ValidationError, match="rust tasks are stdio programs in the sandbox"):
        Target(language=TargetLanguage.RUST, style=Style.FUNCTION)
    assert Target(language=TargetLanguage.JAVASCRIPT, style=Style.FUNCTION).label == "javascript/function"


def test_the_shapes_name_the_language_and_the_fields() -> None:
    stdio = answer_shape(Target(language=TargetLanguage.JAVA, style=Style.STDIO), 6)
    assert "Java 17 (a public class named Main" in stdio and '"input"' in stdio and "Give 6 tests" in stdio
    function = answer_shape(Target(), 4)
    assert '"entry_point"' in function and '"args"' in function


def test_a_stdio_answer_becomes_a_draft_with_stdin_tests() -> None:
    text = "Sure!\n```json\n" + json.dumps(
        {
            "problem": "Read two integers a and b on one line and print their sum.",
            "solution": "a, b = map(int, input().split())\nprint(a + b)\n",
            "tests": [{"input": "1 2\n", "output": 3}, 7, {"input": "5 5\n", "output": "10"}],
        }
    ) + "\n```"
    target = Target(style=Style.STDIO)
    answer = parse_answer(target, text)
    assert isinstance(answer, ProgramAnswer) and [t.output for t in answer.tests] == ["3", "10"]  # the stray 7 left out
    origin = Origin(provenance=Provenance(source="t", method="m"), author=Author(kind=AuthorKind.TEACHER))
    draft = draft_from_answer(answer, target, origin)
    assert draft.problem.task.style == Style.STDIO and draft.problem.task.entry_point == ""
    assert draft.inputs == ["1 2\n", "5 5\n"] and draft.expected == ["3", "10"]
    assert draft.problem.reference is not None and draft.problem.reference.task_id == draft.problem.task.id


def test_an_answer_in_the_wrong_shape_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_answer(Target(), json.dumps({"problem": "x" * 30, "solution": "print(1)" * 3, "tests": []}))
    assert caught.value.reason.value == "schema_mismatch"
    assert FunctionAnswer.model_validate(
        {"problem": "x" * 30, "entry_point": "f", "solution": "def f(): pass", "tests": [{"args": []}]}
    ).tests[0].expected is None
