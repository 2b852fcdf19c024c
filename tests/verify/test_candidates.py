"""``verify.candidates`` against the real sandbox, on a tiny problem and hand-written candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from codefoundry.pipeline.stage import StageContext
from codefoundry.records import (
    Author,
    AuthorKind,
    Problem,
    Provenance,
    Solution,
    SolutionRole,
    Split,
    Task,
    TestCase,
)
from codefoundry.sandbox import Sandbox
from codefoundry.testing.stages import stage_context
from codefoundry.verify.candidates import VerifyCandidates

RIGHT = "def add(a, b):\n    return a + b\n"
ALSO_RIGHT = "def add(a, b):\n    return b + a\n"
WRONG_ON_HOLDOUT = "def add(a, b):\n    return a + b if a < 5 else 0\n"
BROKEN = "def add(a, b):\n    return a +\n"


@pytest.fixture
def context(tmp_path: Path, sandbox: Sandbox) -> StageContext:
    return stage_context(tmp_path, sandbox)


def make_problem(*codes: tuple[str, int], tests: bool = True) -> Problem:
    task = Task(
        prompt='def add(a, b):\n    """Sum."""\n', entry_point="add", provenance=Provenance(source="t")
    )
    suite = [
        TestCase(task_id=task.id, args=[1, 2], expected=3, split=Split.VISIBLE),
        TestCase(task_id=task.id, args=[0, 0], expected=0, split=Split.VISIBLE),
        TestCase(task_id=task.id, args=[7, 1], expected=8, split=Split.HOLDOUT),
    ]
    candidates = [
        Solution(
            task_id=task.id,
            code=code,
            role=SolutionRole.CANDIDATE,
            author=Author(kind=AuthorKind.TEACHER, name="t", model="m", sample=i),
            copies=copies,
        )
        for i, (code, copies) in enumerate(codes)
    ]
    return Problem(task=task, tests=suite if tests else [], candidates=candidates)


def run(context: StageContext, problems: list[Problem], **config: object):
    return VerifyCandidates(VerifyCandidates.Config(**config), context).process_sync(problems)


def test_rejection_sampling_keeps_only_candidates_passing_every_test(context: StageContext) -> None:
    problem = make_problem((RIGHT, 3), (WRONG_ON_HOLDOUT, 4), (BROKEN, 1), (ALSO_RIGHT, 1))
    (kept,) = run(context, [problem]).records
    assert [c.code for c in kept.candidates] == [RIGHT, ALSO_RIGHT]
    assert [v.solution_id for v in kept.candidate_verdicts] == [c.id for c in kept.candidates]
    assert all(set(v.verdicts.values()) == {"pass"} for v in kept.candidate_verdicts)
    assert set(kept.candidate_verdicts[0].verdicts) == {t.id for t in problem.tests}
    report = kept.reports.candidates
    assert report is not None
    assert (report.samples, report.passing) == (9, 4)  # copies counted
    assert report.pass_rate == pytest.approx(4 / 9, abs=1e-4) and report.difficulty == "medium"


def test_keep_all_records_every_verdict(context: StageContext) -> None:
    problem = make_problem((RIGHT, 1), (WRONG_ON_HOLDOUT, 2), (BROKEN, 1))
    (kept,) = run(context, [problem], keep="all").records
    assert len(kept.candidates) == 3
    verdicts = {v.solution_id: v.verdicts for v in kept.candidate_verdicts}
    holdout = problem.tests[2].id
    wrong = verdicts[problem.candidates[1].id]
    assert (
        wrong[holdout] == "wrong_answer" and list(wrong.values()).count("pass") == 2
    )  # the holdout test decides
    broken = verdicts[problem.candidates[2].id]
    assert len(broken) == 3 and "pass" not in broken.values()
    report = kept.reports.candidates
    assert report is not None and (report.samples, report.passing, report.difficulty) == (4, 1, "hard")


def test_drops(context: StageContext) -> None:
    failing = make_problem((WRONG_ON_HOLDOUT, 5), (BROKEN, 2))
    untested = make_problem((RIGHT, 1), tests=False)
    empty = make_problem()
    result = run(context, [failing, untested, empty])
    assert not result.records
    assert [d.reason for d in result.drops] == ["no_tests", "no_candidates", "none_passing"]
    assert "0 of 7 samples (2 distinct)" in result.drops[2].detail
    assert run(context, [failing], keep="all").records  # the same problem is kept when everything is
