"""``verify.reference``: the reference must pass every one of its tests, twice, judged by the sandbox.

Labelling already ran the reference twice in collect mode; this is the independent check in judge mode, the
way any candidate solution will be judged later (the supervisor compares outputs with the stored expected
values after their JSON round trip). The second run has the tests in reverse order on another fork-server
(another string-hash seed), so it is a different request (never a cache hit) and catches order-dependent
state.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from codefoundry.pipeline.stage import Resources, Stage, StageConfig, StageResult
from codefoundry.records import Problem
from codefoundry.sandbox.api import ExecRequest, ExecResult, Limits, TestInput
from codefoundry.testgen.observe import call_target
from codefoundry.testgen.values import decode


class VerifyReferenceConfig(StageConfig):
    kind: Literal["verify.reference"] = "verify.reference"
    batch_size: int = 64
    runs: int = Field(2, ge=1, le=4, description="judged runs that must all pass")
    per_test_time_s: float = Field(1.0, gt=0)
    time_s: float = Field(20.0, gt=0)
    memory_mb: int = Field(512, gt=0)


def judge_request(
    problem: Problem,
    code: str,
    limits: Limits,
    *,
    reverse: bool = False,
    stop: bool = False,
    worker: int | None = None,
) -> ExecRequest:
    """A judge-mode request of ``code`` against all of the problem's tests (optionally in reverse, optionally
    pinned to one fork-server, i.e. one string-hash seed)."""
    tests = list(reversed(problem.tests)) if reverse else list(problem.tests)
    code, entry_point = call_target(problem.task, code)
    return ExecRequest(
        language="python",
        style="function",
        code=code,
        entry_point=entry_point,
        tests=[
            TestInput(args=decode(t.args or []), expected=decode(t.expected), has_expected=True)
            for t in tests
        ],
        limits=limits,
        mode="judge",
        stop_on_first_failure=stop,
        worker=worker,
    )


def failures(problem: Problem, result: ExecResult, *, reversed_order: bool = False) -> list[str]:
    """Human-readable failing verdicts (test id, status, error) of one judged run."""
    tests = list(reversed(problem.tests)) if reversed_order else list(problem.tests)
    out = []
    for test, verdict in zip(tests, result.verdicts, strict=False):
        if verdict.status != "pass":
            out.append(f"{test.id}: {verdict.status} {verdict.error[:120]}".strip())
    if len(result.verdicts) < len(tests):
        out.append(f"{len(tests) - len(result.verdicts)} tests without a verdict ({result.status})")
    return out


class VerifyReference(Stage[Problem, Problem]):
    """Judge the reference against its full suite ``runs`` times; any failure drops the problem."""

    kind = "verify.reference"
    Config = VerifyReferenceConfig
    input_type = Problem
    output_type = Problem
    resources = Resources(cpu_slots=1, sandbox=True)
    config: VerifyReferenceConfig

    def process(self, batch: list[Problem]) -> StageResult[Problem]:
        cfg = self.config
        result: StageResult[Problem] = StageResult()
        limits = Limits(
            time_s=cfg.time_s, per_test_time_s=cfg.per_test_time_s, cpu_s=cfg.time_s, memory_mb=cfg.memory_mb
        )
        todo: list[Problem] = []
        for problem in batch:
            if problem.reference is None or not problem.tests:
                result.drops.append(self.drop(problem, "no_tests" if problem.reference else "no_reference"))
            else:
                todo.append(problem)
        requests = [
            judge_request(p, p.reference.code, limits, reverse=bool(run % 2), worker=run)  # type: ignore[union-attr]
            for p in todo
            for run in range(cfg.runs)
        ]
        results = self.context.sandbox.run_many(requests)
        for index, problem in enumerate(todo):
            runs = results[index * cfg.runs : (index + 1) * cfg.runs]
            problems = [
                f"run {run + 1}: " + "; ".join(failures(problem, res, reversed_order=bool(run % 2))[:5])
                for run, res in enumerate(runs)
                if not res.passed
            ]
            if problems:
                result.drops.append(self.drop(problem, "reference_failed", " | ".join(problems)))
                continue
            result.records.append(problem)
        return result
