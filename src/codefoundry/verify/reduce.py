"""``verify.reduce``: the smallest suite that still rejects everything the full suite rejects (EvalPlus-Mini).

A suite of forty tests is slow to run as a reward and mostly redundant. The targets a suite must reject are
AST mutants of the reference (``verify.mutants``) and the problem's candidates known to be wrong (a candidate,
not the reference, with any verdict other than ``pass``). Each target runs against every test in judge mode
*without* stopping at the first failure, under tight limits from the reference's own timing (as
``verify.mutation`` does), which gives a kill matrix: test id -> the targets it rejects. ``reduce_suite`` then
covers it greedily: take the test rejecting the most targets not yet rejected, ties to the earlier test, until
every target any test rejects is rejected. Greedy set cover is within a log factor of the smallest cover and
is what EvalPlus reports for its Mini suites.

The stage never removes a test: the reduced suite is recorded in ``reports.suite.reduced_test_ids`` (exported
alongside the full suite), with how many wrong samples (counted with their copies) and mutants the full suite
rejects. A run the sandbox could not judge (``sandbox_error``) leaves that target out. Mutants are made only
of Python references (``verify.mutants.supports``): a task in another language is reduced against its wrong
candidates alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from codefoundry.judge.requests import judge_request
from codefoundry.pipeline.stage import Resources, StageConfig, StageResult, ThreadedStage
from codefoundry.records import Problem, Solution, SuiteReport, TestCase
from codefoundry.sandbox.api import ExecResult, Limits
from codefoundry.verify.mutants import generate, select, supports
from codefoundry.verify.variants import VariantRunConfig

NOT_KILLS = frozenset({"pass", "ok", "skipped"})


def reduce_suite(kills: dict[str, set[str]], order: list[str]) -> list[str]:
    """Test ids (in ``order``) that together kill every target some test kills, chosen greedily: the test
    killing most targets not yet killed, ties to the earlier test in ``order``. Tests that kill nothing are
    left out, but a non-empty suite keeps at least one test (its first)."""
    ranked = list(order) + sorted(t for t in kills if t not in set(order))
    rank = {test: i for i, test in enumerate(ranked)}
    remaining: set[str] = set().union(*kills.values()) if kills else set()
    chosen: set[str] = set()
    while remaining:
        best = min(ranked, key=lambda t: (-len(kills.get(t, set()) & remaining), rank[t]))
        gain = kills.get(best, set()) & remaining
        if not gain:
            break
        chosen.add(best)
        remaining -= gain
    if not chosen and ranked:
        return [ranked[0]]
    return [t for t in ranked if t in chosen]


def killed(kills: dict[str, set[str]], tests: Iterable[str]) -> set[str]:
    """The targets the given tests kill together."""
    out: set[str] = set()
    for test in tests:
        out |= kills.get(test, set())
    return out


class ReduceSuiteConfig(VariantRunConfig):
    batch_size: int = 32
    max_mutants: int = Field(24, ge=0, description="mutants of the reference run per problem")
    max_time_s: float = Field(5.0, gt=0, description="ceiling of a variant's whole-suite limit")


class ReduceSuite(ThreadedStage[Problem, Problem]):
    """Kill matrix of mutants and wrong candidates over the tests; the greedy cover as the reduced suite."""

    kind = "verify.reduce"
    version = 2  # 2: a Python stdio program's mutants (of its whole module) join the targets
    Config = ReduceSuiteConfig
    input_type = Problem
    output_type = Problem
    config: ReduceSuiteConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(sandbox_share=1.0, cpu_bound=True)

    def _limits(self, timing: ExecResult) -> Limits:
        return self.config.variant_limits(timing)

    def process_batch(self, batch: list[Problem]) -> StageResult[Problem]:
        result: StageResult[Problem] = StageResult()
        jobs: list[tuple[Problem, list[str], list[Solution]]] = []
        for problem in batch:
            if problem.reference is None or not problem.tests:
                result.records.append(problem)
                continue
            jobs.append((problem, self._mutants(problem), wrong_candidates(problem)))
        timings = self.run_sandbox(
            [judge_request(problem, problem.reference.code, Limits()) for problem, _m, _w in jobs]  # type: ignore[union-attr]
        )
        requests = []
        for (problem, mutants, wrong), timing in zip(jobs, timings, strict=True):
            limits = self._limits(timing)
            requests += [judge_request(problem, code, limits, stop=False) for code in mutants]
            requests += [judge_request(problem, s.code, limits, stop=False) for s in wrong]
        results = iter(self.run_sandbox(requests))
        for problem, mutants, wrong in jobs:
            kills: dict[str, set[str]] = {}
            report = SuiteReport()
            for index in range(len(mutants)):
                hits = _hits(problem.tests, next(results))
                if hits is None:
                    continue
                report.mutants += 1
                report.mutants_killed += bool(hits)
                for test in hits:
                    kills.setdefault(test, set()).add(f"mutant:{index}")
            for solution in wrong:
                hits = _hits(problem.tests, next(results))
                if hits is None:
                    continue
                report.wrong_samples += solution.copies
                report.wrong_rejected += solution.copies if hits else 0
                for test in hits:
                    kills.setdefault(test, set()).add(f"candidate:{solution.id}")
            report.reduced_test_ids = reduce_suite(kills, [t.id for t in problem.tests])
            reports = problem.reports.model_copy(update={"suite": report})
            result.records.append(problem.model_copy(update={"reports": reports}))
        return result

    def _mutants(self, problem: Problem) -> list[str]:
        assert problem.reference is not None
        # mutants are Python AST mutants (a stdio program's: of the whole module); other languages' suites
        # are reduced against their wrong candidates alone
        if self.config.max_mutants == 0 or not supports(problem.task.language):
            return []
        try:
            made = generate(problem.reference.code, problem.task.entry_point)
        except SyntaxError:
            return []
        return [m.code for m in select(made, self.config.max_mutants, problem.id)]


def wrong_candidates(problem: Problem) -> list[Solution]:
    """The problem's candidates, other than its reference, with any verdict other than ``pass``."""
    failing = {
        cv.solution_id for cv in problem.candidate_verdicts if any(v != "pass" for v in cv.verdicts.values())
    }
    reference = problem.reference
    return [
        s
        for s in problem.candidates
        if s.id in failing and (reference is None or (s.id != reference.id and s.code != reference.code))
    ]


def _hits(tests: list[TestCase], result: ExecResult) -> set[str] | None:
    """The ids of the tests that reject a target, or None when the sandbox could not judge it. A run that
    failed before any test (a compile error) is rejected by every test; tests left without a verdict count
    only when no test with one failed."""
    if result.status == "sandbox_error":
        return None
    hits = {t.id for t, v in zip(tests, result.verdicts, strict=False) if v.status not in NOT_KILLS}
    if not hits and not result.passed:
        hits = {t.id for t in tests[len(result.verdicts) :]}
    return hits
