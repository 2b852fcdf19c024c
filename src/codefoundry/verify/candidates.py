"""``verify.candidates``: judge every candidate solution of a problem against all its tests.

The second half of rejection sampling (after ``synth.solutions``): each distinct candidate runs in judge mode
against every test, visible and holdout, so the supervisor decides each verdict outside the candidate. The
verdicts are recorded per candidate and test (``Problem.candidate_verdicts``), and the share of samples that
pass everything (copies counted) is the problem's pass rate for the sampled model, hence its difficulty
(``reports.candidates``). With ``keep: passing`` only candidates passing every test stay, and a problem with
none is dropped ``none_passing``; ``keep: all`` keeps every candidate with its verdicts (for preference pairs
or difficulty filtering later).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from codefoundry.judge.requests import judge_request
from codefoundry.pipeline.stage import Resources, StageConfig, StageResult, ThreadedStage
from codefoundry.records import (
    CandidatesReport,
    CandidateVerdicts,
    Difficulty,
    Problem,
    Solution,
)
from codefoundry.sandbox.api import ExecResult, Limits
from codefoundry.sandbox.status import Status


class KeepMode(StrEnum):
    """Which candidates a problem keeps: all of them, or only those passing every test."""

    ALL = "all"
    PASSING = "passing"


class CandidatesDrop(StrEnum):
    NO_TESTS = "no_tests"
    NO_CANDIDATES = "no_candidates"
    NONE_PASSING = "none_passing"


class VerifyCandidatesConfig(StageConfig):
    batch_size: int = 16
    keep: KeepMode = Field(
        KeepMode.PASSING, description="passing: rejection sampling; all: keep every candidate"
    )
    per_test_time_s: float = Field(1.0, gt=0)
    time_s: float = Field(20.0, gt=0)
    memory_mb: int = Field(512, gt=0)


def verdicts_of(problem: Problem, result: ExecResult) -> dict[str, str]:
    """Test id -> the sandbox's verdict status for every test of the problem; a test without a verdict (the
    program failed as a whole, e.g. a compile error) gets the request's status."""
    statuses = [str(v.status) for v in result.verdicts]
    missing = str(result.status) if result.status not in (Status.PASS, Status.OK) else str(Status.SKIPPED)
    return {test.id: statuses[i] if i < len(statuses) else missing for i, test in enumerate(problem.tests)}


def passes(verdicts: dict[str, str]) -> bool:
    return bool(verdicts) and all(status == "pass" for status in verdicts.values())


class VerifyCandidates(ThreadedStage[Problem, Problem]):
    """Judge each candidate on the full suite; record verdicts and the pass rate; keep all or the passing."""

    kind = "verify.candidates"
    Config = VerifyCandidatesConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = CandidatesDrop
    config: VerifyCandidatesConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(sandbox_share=1.0, cpu_bound=True)

    def process_batch(self, batch: list[Problem]) -> StageResult[Problem]:
        cfg = self.config
        result: StageResult[Problem] = StageResult()
        limits = Limits(
            time_s=cfg.time_s, per_test_time_s=cfg.per_test_time_s, cpu_s=cfg.time_s, memory_mb=cfg.memory_mb
        )
        todo: list[tuple[Problem, list[Solution]]] = []
        for problem in batch:
            if not problem.tests:
                result.drops.append(self.drop(problem, CandidatesDrop.NO_TESTS))
            elif not problem.candidates:
                result.drops.append(self.drop(problem, CandidatesDrop.NO_CANDIDATES))
            else:
                todo.append((problem, _distinct(problem.candidates)))
        requests = [judge_request(p, c.code, limits) for p, candidates in todo for c in candidates]
        results = iter(self.run_sandbox(requests))
        for problem, candidates in todo:
            judged = [(c, verdicts_of(problem, next(results))) for c in candidates]
            samples = sum(c.copies for c in candidates)
            passing = sum(c.copies for c, verdicts in judged if passes(verdicts))
            rate = passing / samples
            report = CandidatesReport(
                samples=samples, passing=passing, pass_rate=round(rate, 4), difficulty=Difficulty.of(rate)
            )
            if cfg.keep is KeepMode.PASSING:
                judged = [(c, verdicts) for c, verdicts in judged if passes(verdicts)]
                if not judged:
                    tests = len(problem.tests)
                    detail = f"0 of {samples} samples ({len(candidates)} distinct) pass all {tests} tests"
                    result.drops.append(self.drop(problem, CandidatesDrop.NONE_PASSING, detail))
                    continue
            result.records.append(
                problem.model_copy(
                    update={
                        "candidates": [c for c, _ in judged],
                        "candidate_verdicts": [
                            CandidateVerdicts(solution_id=c.id, verdicts=v) for c, v in judged
                        ],
                        "reports": problem.reports.model_copy(update={"candidates": report}),
                    }
                )
            )
        return result


def _distinct(candidates: list[Solution]) -> list[Solution]:
    """One entry per solution id, copies summed (a candidate listed twice is judged once)."""
    merged: dict[str, Solution] = {}
    for candidate in candidates:
        if candidate.id in merged:
            first = merged[candidate.id]
            merged[candidate.id] = first.model_copy(update={"copies": first.copies + candidate.copies})
        else:
            merged[candidate.id] = candidate
    return list(merged.values())
