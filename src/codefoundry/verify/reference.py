"""``verify.reference``: the reference must pass every one of its tests, twice, judged by the sandbox.

Labelling already ran the reference twice in collect mode; this is the independent check in judge mode, the
way any candidate solution will be judged later (the supervisor compares outputs with the stored expected
values after their JSON round trip). The second run has the tests in reverse order on another fork-server
(another string-hash seed), so it is a different request (never a cache hit) and catches order-dependent
state.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from codefoundry.judge.requests import failures, judge_request
from codefoundry.pipeline.stage import Resources, StageConfig, StageResult, ThreadedStage
from codefoundry.records import Problem
from codefoundry.sandbox.api import Limits


class VerifyReferenceDrop(StrEnum):
    NO_REFERENCE = "no_reference"
    NO_TESTS = "no_tests"
    REFERENCE_FAILED = "reference_failed"


class VerifyReferenceConfig(StageConfig):
    batch_size: int = 64
    runs: int = Field(2, ge=1, le=4, description="judged runs that must all pass")
    per_test_time_s: float = Field(1.0, gt=0)
    time_s: float = Field(20.0, gt=0)
    memory_mb: int = Field(512, gt=0)


class VerifyReference(ThreadedStage[Problem, Problem]):
    """Judge the reference against its full suite ``runs`` times; any failure drops the problem."""

    kind = "verify.reference"
    Config = VerifyReferenceConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = VerifyReferenceDrop
    config: VerifyReferenceConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(sandbox_share=1.0, cpu_bound=True)

    def process_batch(self, batch: list[Problem]) -> StageResult[Problem]:
        cfg = self.config
        result: StageResult[Problem] = StageResult()
        limits = Limits(
            time_s=cfg.time_s, per_test_time_s=cfg.per_test_time_s, cpu_s=cfg.time_s, memory_mb=cfg.memory_mb
        )
        todo: list[Problem] = []
        for problem in batch:
            if problem.reference is None or not problem.tests:
                result.drops.append(self.drop(
                        problem,
                        VerifyReferenceDrop.NO_TESTS if problem.reference else VerifyReferenceDrop.NO_REFERENCE,
                    ))
            else:
                todo.append(problem)
        requests = [
            judge_request(p, p.reference.code, limits, reverse=bool(run % 2), worker=run)  # type: ignore[union-attr]
            for p in todo
            for run in range(cfg.runs)
        ]
        results = self.run_sandbox(requests)
        for index, problem in enumerate(todo):
            runs = results[index * cfg.runs : (index + 1) * cfg.runs]
            problems = [
                f"run {run + 1}: " + "; ".join(failures(problem, res, reversed_order=bool(run % 2))[:5])
                for run, res in enumerate(runs)
                if not res.passed
            ]
            if problems:
                result.drops.append(self.drop(problem, VerifyReferenceDrop.REFERENCE_FAILED, " | ".join(problems)))
                continue
            result.records.append(problem)
        return result
