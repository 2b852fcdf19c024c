"""``verify.reference`` and ``verify.mutation`` against the real sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codefoundry.mine.functions import MineFunctions
from codefoundry.mine.tasks import MakeTasks
from codefoundry.pipeline.stage import StageContext
from codefoundry.records import Problem
from codefoundry.sandbox import Sandbox, SandboxConfig
from codefoundry.testgen.mined import BuildMinedTests
from codefoundry.testing.stages import stage_context
from codefoundry.verify.mutation import MutationGate
from codefoundry.verify.reference import VerifyReference

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mining"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StageContext]:
    with Sandbox(SandboxConfig(workers=2)) as sandbox:
        yield stage_context(tmp_path_factory.mktemp("verify"), sandbox)


@pytest.fixture(scope="module")
def tested(context: StageContext) -> dict[str, Problem]:
    paths = [str(FIXTURES / "pure.py"), str(FIXTURES / "weak.py")]
    miner = MineFunctions(MineFunctions.Config(corpus={"kind": "files", "paths": paths}), context)
    problems = MakeTasks(MakeTasks.Config(), context).process_sync(miner.process_sync(miner.inputs()).records).records
    records = BuildMinedTests(BuildMinedTests.Config(), context).process_sync(problems).records
    return {p.task.entry_point: p for p in records}


def test_reference_passes_its_own_tests_twice(context: StageContext, tested: dict[str, Problem]) -> None:
    result = VerifyReference(VerifyReference.Config(), context).process_sync(list(tested.values()))
    assert not result.drops and len(result.records) == len(tested)


def test_reference_failing_a_test_is_dropped(context: StageContext, tested: dict[str, Problem]) -> None:
    problem = tested["clamp"]
    wrong = problem.tests[0].model_copy(update={"expected": 12345})
    broken = problem.model_copy(update={"tests": [wrong, *problem.tests[1:]]})
    result = VerifyReference(VerifyReference.Config(), context).process_sync([broken])
    assert [d.reason for d in result.drops] == ["reference_failed"]
    assert wrong.id in result.drops[0].detail and "wrong_answer" in result.drops[0].detail


def test_strong_suite_is_kept_with_its_score(context: StageContext, tested: dict[str, Problem]) -> None:
    result = MutationGate(MutationGate.Config(), context).process_sync([tested["clamp"]])
    (kept,) = result.records
    assert kept.mutants_total > 5 and kept.mutants_killed <= kept.mutants_total
    assert kept.mutation_score == pytest.approx(kept.mutants_killed / kept.mutants_total, abs=1e-3)
    assert kept.mutation_score is not None and kept.mutation_score >= 0.6


def test_weak_suite_is_dropped_by_the_mutation_gate(
    context: StageContext, tested: dict[str, Problem]
) -> None:
    weak = tested["double_capped"]  # the cap at one billion is never reached by the generated inputs
    result = MutationGate(MutationGate.Config(min_score=0.6), context).process_sync([weak])
    assert not result.records
    (drop,) = result.drops
    assert drop.reason == "weak_tests"
    assert "mutation score" in drop.detail
    assert drop.record is not None and drop.record["mutation_score"] < 0.6


def test_problem_without_mutants_is_dropped(context: StageContext, tested: dict[str, Problem]) -> None:
    problem = tested["clamp"]
    assert problem.reference is not None
    code = 'def clamp(value, low, high):\n    """Doc."""\n    return sorted((low, value, high))[1]\n'
    bare = problem.model_copy(update={"reference": problem.reference.model_copy(update={"code": code})})
    result = MutationGate(MutationGate.Config(min_mutants=50), context).process_sync([bare])
    assert [d.reason for d in result.drops] == ["no_mutants"]
