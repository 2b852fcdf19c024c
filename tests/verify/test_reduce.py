"""``reduce_suite`` (greedy set cover of a kill matrix) and the ``verify.reduce`` stage in the sandbox."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from codefoundry.pipeline.registry import stage_classes
from codefoundry.records import CandidateVerdicts, Problem, Provenance, Solution, SolutionRole, Task, TestCase
from codefoundry.sandbox import Sandbox
from codefoundry.testing.stages import stage_context
from codefoundry.verify.reduce import ReduceSuite, ReduceSuiteConfig, killed, reduce_suite, wrong_candidates


def test_every_kill_is_kept_with_fewer_tests() -> None:
    kills = {"t1": {"a"}, "t2": {"a", "b"}, "t3": {"c"}, "t4": set(), "t5": {"b", "c"}}
    reduced = reduce_suite(kills, ["t1", "t2", "t3", "t4", "t5"])
    assert killed(kills, reduced) == {"a", "b", "c"}
    assert reduced == ["t2", "t3"]  # t2 first (2 kills, before t5), then t3 (first test killing c)


def test_greedy_picks_the_biggest_first() -> None:
    kills = {"small1": {"x"}, "small2": {"y"}, "big": {"x", "y", "z"}}
    assert reduce_suite(kills, ["small1", "small2", "big"]) == ["big"]


def test_ties_go_to_the_earlier_test() -> None:
    kills = {"a": {"m1"}, "b": {"m1"}, "c": {"m1"}}
    assert reduce_suite(kills, ["b", "c", "a"]) == ["b"]
    assert reduce_suite(kills, ["c", "a", "b"]) == ["c"]


def test_nothing_killed_keeps_the_first_test() -> None:
    assert reduce_suite({"t1": set(), "t2": set()}, ["t2", "t1"]) == ["t2"]
    assert reduce_suite({}, ["t9", "t1"]) == ["t9"]
    assert reduce_suite({}, []) == []


def test_tests_missing_from_order_still_count() -> None:
    assert reduce_suite({"late": {"m"}}, ["t1"]) == ["late"]


@given(
    st.dictionaries(
        st.sampled_from([f"t{i}" for i in range(12)]),
        st.sets(st.sampled_from([f"m{i}" for i in range(10)]), max_size=6),
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_reduced_suite_kills_exactly_the_union(kills: dict[str, set[str]], rng: object) -> None:
    order = [f"t{i}" for i in range(12)]
    rng.shuffle(order)  # type: ignore[attr-defined]
    reduced = reduce_suite(kills, order)
    assert killed(kills, reduced) == killed(kills, order)
    assert len(reduced) == len(set(reduced)) >= 1
    assert all(kills.get(t) for t in reduced) or reduced == [order[0]]
    assert [t for t in order if t in reduced] == reduced  # suite order
    # every pick adds at least one new kill
    assert len(reduced) <= max(1, len(killed(kills, order)))


TESTS = [([1, 2], 3), ([0, 0], 0), ([2, 2], 4), ([-1, 1], 0), ([5, 5], 10), ([3, -3], 0)]


def _problem() -> Problem:
    task = Task(
        prompt='def add(a: int, b: int) -> int:\n    """Sum of a and b."""\n', entry_point="add",
        provenance=Provenance(source="test"),
    )  # fmt: skip
    reference = Solution(
        task_id=task.id, code="def add(a, b):\n    if a > b:\n        return b + a\n    return a + b\n"
    )
    tests = [TestCase(task_id=task.id, args=args, expected=out) for args, out in TESTS]
    times = Solution(
        task_id=task.id, code="def add(a, b):\n    return a * b\n", role=SolutionRole.CANDIDATE, copies=3
    )
    right = Solution(task_id=task.id, code="def add(a, b):\n    return b + a\n", role=SolutionRole.CANDIDATE)
    broken = Solution(task_id=task.id, code="def add(a, b)\n    return a\n", role=SolutionRole.CANDIDATE)
    verdicts = [
        CandidateVerdicts(solution_id=times.id, verdicts={tests[0].id: "wrong_answer", tests[1].id: "pass"}),
        CandidateVerdicts(solution_id=right.id, verdicts={t.id: "pass" for t in tests}),
        CandidateVerdicts(solution_id=broken.id, verdicts={tests[0].id: "compile_error"}),
    ]
    return Problem(
        task=task,
        reference=reference,
        tests=tests,
        candidates=[times, right, broken],
        candidate_verdicts=verdicts,
    )


def test_wrong_candidates_are_those_with_a_failing_verdict() -> None:
    problem = _problem()
    assert [s.code.splitlines()[1].strip() for s in wrong_candidates(problem)] == ["return a * b", "return a"]


def test_stage_in_the_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    problem = _problem()
    stage = ReduceSuite(ReduceSuiteConfig(), stage_context(tmp_path, sandbox))
    (out,) = stage.process_sync([problem]).records
    report = out.reports.suite
    assert report is not None
    assert report.wrong_samples == 4 and report.wrong_rejected == 4  # a * b (3 copies) and the syntax error
    assert report.mutants >= 5 and 0 < report.mutants_killed <= report.mutants
    ids = [t.id for t in problem.tests]
    assert report.reduced_test_ids and set(report.reduced_test_ids) <= set(ids)
    assert len(report.reduced_test_ids) < len(ids)
    assert out.tests == problem.tests  # nothing removed
    # the reduced suite still rejects ``a * b``: it keeps a test where a * b != a + b
    products = {t.id: t.args[0] * t.args[1] == t.expected for t in problem.tests}  # type: ignore[index]
    assert any(not products[i] for i in report.reduced_test_ids)


def test_problems_without_reference_or_tests_pass_unchanged(sandbox: Sandbox, tmp_path: Path) -> None:
    bare = _problem().model_copy(update={"tests": []})
    stage = ReduceSuite(ReduceSuiteConfig(), stage_context(tmp_path, sandbox))
    assert stage.process_sync([bare]).records == [bare]


def test_registered_after_the_mutation_gate() -> None:
    kinds = list(stage_classes())
    assert kinds.index("verify.reduce") == kinds.index("verify.mutation") + 1
