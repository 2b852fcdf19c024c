"""``verify.dual`` against the real sandbox: K samples, the vote, the chosen solution and its evidence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codefoundry.judge.codec import encode
from codefoundry.pipeline.stage import StageContext
from codefoundry.records import (
    Author,
    AuthorKind,
    Difficulty,
    Problem,
    Provenance,
    Solution,
    SolutionRole,
    Split,
    Task,
    TestCase,
    TestOrigin,
)
from codefoundry.sandbox import Sandbox
from codefoundry.testing.stages import stage_context
from codefoundry.verify.dual import DualVerify

PROMPT = 'def add_one(xs: list[int]) -> list[int]:\n    """Add one to each item.\n    >>> add_one([1, 2])\n    [2, 3]\n    """\n'
RIGHT = PROMPT + "    return [x + 1 for x in xs]\n"
RIGHT_TOO = PROMPT + "    out = []\n    for x in xs:\n        out.append(x + 1)\n    return out\n"
WRONG = PROMPT + "    return [x + 2 for x in xs]\n"
CRASH = PROMPT + "    return [x + 1 for x in xs[1:]] + xs[0]\n"
SLOW = PROMPT + "    while True:\n        pass\n"


@pytest.fixture(scope="module")
def context(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StageContext]:
    yield stage_context(tmp_path_factory.mktemp("dual"), sandbox)


def problem(codes: list[tuple[str, int]], stated: bool = False) -> Problem:
    task = Task(prompt=PROMPT, entry_point="add_one", provenance=Provenance(source="test"))
    inputs = [
        TestCase(task_id=task.id, args=encode([xs]), origin=TestOrigin.MUTATION)
        for xs in ([], [0], [5, 6], [-1, 10, 3], [7], [1, 1, 1], [100])
    ]
    if stated:
        inputs.append(TestCase(task_id=task.id, args=encode([[1, 2]]), expected=encode([2, 3]), origin=TestOrigin.PROMPT_EXAMPLE))
    candidates = [
        Solution(task_id=task.id, code=code, role=SolutionRole.CANDIDATE, copies=copies, author=Author(kind=AuthorKind.USER, sample=i))
        for i, (code, copies) in enumerate(codes)
    ]
    return Problem(task=task, candidates=candidates, inputs=inputs)


def config(**kw: object) -> DualVerify.Config:
    return DualVerify.Config(per_test_time_s=0.5, time_s=3.0, **kw)


def test_majority_solution_is_chosen_with_voted_tests(context: StageContext) -> None:
    p = problem([(RIGHT, 2), (RIGHT_TOO, 1), (WRONG, 1), (CRASH, 1)])
    result = DualVerify(config(), context).process_sync([p])
    (kept,) = result.records
    assert kept.reference is not None and kept.reference.role is SolutionRole.REFERENCE
    assert kept.reference.code in (RIGHT, RIGHT_TOO)
    assert {t.split for t in kept.tests} == {Split.VISIBLE, Split.HOLDOUT}
    by_args = {str(t.args): t.expected for t in kept.tests}
    assert by_args[str(encode([[5, 6]]))] == encode([6, 7])
    report = kept.reports.vote
    assert report is not None
    assert (report.samples, report.distinct, report.passing) == (5, 4, 3)
    assert report.pass_rate == pytest.approx(0.6) and report.difficulty is Difficulty.MEDIUM
    verdicts = {v.solution_id: set(v.verdicts.values()) for v in kept.candidate_verdicts}
    wrong_id = next(c.id for c in kept.candidates if c.code == WRONG)
    assert verdicts[wrong_id] == {"pass", "wrong_answer"}  # right on the empty list only
    assert kept.inputs == []


def test_a_wrong_majority_loses_to_the_stated_example(context: StageContext) -> None:
    p = problem([(WRONG, 4), (RIGHT, 2)], stated=True)
    (kept,) = DualVerify(config(), context).process_sync([p]).records
    assert kept.reference is not None and kept.reference.code == RIGHT
    assert kept.reports.vote is not None and kept.reports.vote.voters == 2
    without = DualVerify(config(use_stated=False), context).process_sync([p]).records
    assert without and without[0].reference is not None and without[0].reference.code == WRONG


def test_no_agreement_is_dropped_with_the_reason(context: StageContext) -> None:
    p = problem([(RIGHT, 1), (WRONG, 1)])
    result = DualVerify(config(), context).process_sync([p])
    assert not result.records
    (drop,) = result.drops
    assert drop.reason == "too_few_decided" and "inputs decided" in drop.detail
    assert drop.record is not None and drop.record["reports"]["vote"]["decided"] == 1  # both agree on []


def test_timeouts_and_crashes_are_not_votes(context: StageContext) -> None:
    p = problem([(SLOW, 1), (CRASH, 1), (RIGHT, 2)])
    strict = DualVerify(config(max_error_share=0.25), context).process_sync([p])  # half the samples fail
    assert strict.drops and all(v["reason"] == "mostly_errors" for v in strict.drops[0].record["reports"]["vote"]["votes"])
    (kept,) = DualVerify(config(), context).process_sync([p]).records
    assert kept.reference is not None and kept.reference.code == RIGHT
    slow_id = next(c.id for c in kept.candidates if c.code == SLOW)
    assert set(next(v for v in kept.candidate_verdicts if v.solution_id == slow_id).verdicts.values()) == {"timeout"}


def test_without_candidates_or_inputs(context: StageContext) -> None:
    empty = problem([])
    no_inputs = problem([(RIGHT, 2)]).model_copy(update={"inputs": []})
    result = DualVerify(config(), context).process_sync([empty, no_inputs])
    assert [d.reason for d in result.drops] == ["no_candidates", "no_inputs"]


def test_stdio_tasks_are_refused(context: StageContext) -> None:
    task = Task(prompt="Read a, b; print a + b.", style="stdio", provenance=Provenance(source="t"))
    code = "a, b = map(int, input().split())\nprint(a + b)\n"
    stdio = Problem(
        task=task,
        candidates=[Solution(task_id=task.id, code=code, role=SolutionRole.CANDIDATE)],
        inputs=[TestCase(task_id=task.id, stdin="1 2\n")],
    )
    result = DualVerify(config(), context).process_sync([stdio])
    assert not result.records
    assert [d.reason for d in result.drops] == ["unsupported_style"] and "stdio" in result.drops[0].detail


ARGMAX = 'def argmax(xs: list[int]) -> int:\n    """An index of a largest item."""\n'
FIRST = ARGMAX + "    return xs.index(max(xs))\n"
LAST = ARGMAX + "    return len(xs) - 1 - xs[::-1].index(max(xs))\n"
ZERO = ARGMAX + "    return 0\n"
CHECKER = "def check(input, output, expected):\n    xs = input[0]\n    return type(output) is int and 0 <= output < len(xs) and xs[output] == max(xs)\n"


def argmax_problem(checker: str | None) -> Problem:
    task = Task(prompt=ARGMAX, entry_point="argmax", provenance=Provenance(source="test"))
    inputs = [TestCase(task_id=task.id, args=encode([xs]), origin=TestOrigin.MUTATION) for xs in ([3, 1, 3], [5, 5], [1, 2, 2, 0], [7, 1, 7, 7], [2, 9, 9])]
    candidates = [
        Solution(task_id=task.id, code=code, role=SolutionRole.CANDIDATE, copies=copies)
        for code, copies in ((FIRST, 2), (LAST, 2), (ZERO, 1))
    ]
    return Problem(task=task, candidates=candidates, inputs=inputs, checker=checker)


def test_a_checker_lets_different_right_answers_vote_together(context: StageContext) -> None:
    from codefoundry.judge.requests import judge_request
    from codefoundry.records import CheckerUse
    from codefoundry.sandbox.api import Limits

    exact = DualVerify(config(), context).process_sync([argmax_problem(None)])
    assert not exact.records and exact.drops[0].reason == "too_few_decided"  # 2 vs 2: never a coin toss
    (kept,) = DualVerify(config(), context).process_sync([argmax_problem(CHECKER)]).records
    assert kept.reports.vote is not None and kept.reports.vote.checker is CheckerUse.USED
    assert kept.reports.vote.passing == 4 and kept.reference is not None and kept.reference.code in (FIRST, LAST)
    # the exported tests are judged by the checker: the other right answer passes them too
    other = LAST if kept.reference.code == FIRST else FIRST
    assert context.sandbox.run_many([judge_request(kept, other, Limits())])[0].passed
    assert not context.sandbox.run_many([judge_request(kept, ZERO, Limits())])[0].passed


def test_a_checker_that_accepts_anything_is_distrusted(context: StageContext) -> None:
    from codefoundry.records import CheckerUse

    lax = "def check(input, output, expected):\n    return True\n"
    result = DualVerify(config(), context).process_sync([argmax_problem(lax)])
    (drop,) = result.drops
    assert drop.record is not None and drop.record["reports"]["vote"]["checker"] == CheckerUse.DISTRUSTED.value


def test_an_existing_reference_is_one_more_sample(context: StageContext) -> None:
    p = problem([(RIGHT, 2)])
    wrong_reference = Solution(task_id=p.task.id, code=WRONG, role=SolutionRole.REFERENCE)
    (kept,) = DualVerify(config(), context).process_sync([p.model_copy(update={"reference": wrong_reference})]).records
    assert kept.reference is not None and kept.reference.code == RIGHT
    assert WRONG in [c.code for c in kept.candidates] and kept.reports.vote is not None and kept.reports.vote.samples == 3
