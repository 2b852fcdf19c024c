"""``verify.mutation``: how strong is a problem's test suite? Mutation score = killed mutants / mutants.

Each mutant of the reference runs against the full suite in judge mode with ``stop_on_first_failure`` (one
failing, erroring or timed-out test kills it) under tight limits derived from the reference's own speed, so
mutants that loop forever cost little. All mutants of a whole batch go to the sandbox in one ``run_many``.
A sandbox error (never the mutant's fault) leaves that mutant out of the count. Problems for which no mutant
can be made are dropped ``no_mutants`` (their suites' strength cannot be measured); those below
``min_score`` are dropped ``weak_tests`` with the score.

Mutants are Python AST mutants: a stdio program (entry point ``""``) is mutated as a whole module. A task in
another language has no mutation operators here: it passes through unscored (``mutation_score`` stays None)
with the reason in ``reports.mutation.skipped``, and the run's summary counts such problems apart from the
scored ones (``mutation_skipped``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from codefoundry.judge.requests import judge_request
from codefoundry.pipeline.stage import Resources, StageConfig, StageResult, ThreadedStage
from codefoundry.records import MutationReport, Problem
from codefoundry.sandbox.api import ExecResult, Limits
from codefoundry.sandbox.languages import normalise_language
from codefoundry.verify.mutants import Mutant, generate, select, supports
from codefoundry.verify.variants import VariantRunConfig


class MutationDrop(StrEnum):
    NO_TESTS = "no_tests"
    SYNTAX_ERROR = "syntax_error"
    NO_MUTANTS = "no_mutants"
    WEAK_TESTS = "weak_tests"


def unmutated_reason(problem: Problem) -> str:
    """Why the problem's reference gets no mutants (its language), or "" when it does."""
    if supports(problem.task.language):
        return ""
    return f"no mutation operators for {normalise_language(problem.task.language)}"


class MutationGateConfig(VariantRunConfig):
    batch_size: int = 64
    min_score: float = Field(
        0.6, ge=0, le=1, description="problems whose suites kill fewer mutants are dropped"
    )
    max_mutants: int = Field(
        24, ge=1, description="mutants run per problem (chosen round-robin over operators)"
    )
    min_mutants: int = Field(1, ge=1, description="fewer mutants than this: dropped no_mutants")


class MutationGate(ThreadedStage[Problem, Problem]):
    """Run AST mutants of the reference against the tests; record the score; drop weak suites."""

    kind = "verify.mutation"
    version = 2  # 2: stdio programs mutated as whole modules; other languages pass through unscored
    Config = MutationGateConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = MutationDrop
    config: MutationGateConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(sandbox_share=1.0, cpu_bound=True)

    def _limits(self, timing: ExecResult) -> Limits:
        return self.config.variant_limits(timing)

    def process_batch(self, batch: list[Problem]) -> StageResult[Problem]:
        cfg = self.config
        result: StageResult[Problem] = StageResult()
        jobs: list[tuple[Problem, list[Mutant]]] = []
        for problem in batch:
            if problem.reference is None or not problem.tests:
                result.drops.append(self.drop(problem, MutationDrop.NO_TESTS))
                continue
            skipped = unmutated_reason(problem)
            if skipped:
                report = MutationReport(skipped=skipped)
                result.records.append(
                    problem.model_copy(update={"reports": problem.reports.model_copy(update={"mutation": report})})
                )
                continue
            try:
                mutants = select(
                    generate(problem.reference.code, problem.task.entry_point), cfg.max_mutants, problem.id
                )
            except SyntaxError as exc:
                result.drops.append(self.drop(problem, MutationDrop.SYNTAX_ERROR, str(exc)))
                continue
            if len(mutants) < cfg.min_mutants:
                result.drops.append(self.drop(problem, MutationDrop.NO_MUTANTS, f"{len(mutants)} mutants"))
                continue
            jobs.append((problem, mutants))
        timings = self.run_sandbox(
            [judge_request(problem, problem.reference.code, Limits(), stop=True) for problem, _m in jobs]  # type: ignore[union-attr]
        )
        requests = [
            judge_request(problem, mutant.code, self._limits(timing), stop=True)
            for (problem, mutants), timing in zip(jobs, timings, strict=True)
            for mutant in mutants
        ]
        results = iter(self.run_sandbox(requests))
        for problem, mutants in jobs:
            killed, total, survivors, errors = 0, 0, [], 0
            for mutant in mutants:
                res = next(results)
                if res.status == "sandbox_error":
                    errors += 1
                    continue
                total += 1
                if res.passed:
                    survivors.append(f"{mutant.operator} ({mutant.description})")
                else:
                    killed += 1
            if total == 0:
                result.drops.append(
                    self.drop(problem, MutationDrop.NO_MUTANTS, f"all {errors} mutant runs hit sandbox errors")
                )
                continue
            score = killed / total
            report = MutationReport(survivors=survivors[:10], sandbox_errors=errors)
            scored = problem.model_copy(
                update={
                    "mutation_score": round(score, 4),
                    "mutants_total": total,
                    "mutants_killed": killed,
                    "reports": problem.reports.model_copy(update={"mutation": report}),
                }
            )
            if score < cfg.min_score:
                detail = f"mutation score {score:.3f} ({killed}/{total} killed); survivors: {', '.join(survivors[:5])}"
                result.drops.append(self.drop(scored, MutationDrop.WEAK_TESTS, detail))
                continue
            result.records.append(scored)
        return result
