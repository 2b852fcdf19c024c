"""Request builders for the sandbox: "judge this code on these tests" and "collect its outputs on these inputs".

Every stage that runs code through the sandbox (labelling, reference checks, mutants, teacher solutions)
builds its requests here, so the conventions (what a test observes, how stored values are decoded, which
fork-server a run is pinned to) are written once. Expected outputs go only into judge-mode requests, where the
supervisor keeps them; collect-mode requests carry inputs only, and their outputs come back through the
sandbox's own plain-data conversion (``sandbox.plaindata``), decoded; ``judge.codec.encode`` stores them.
"""

from __future__ import annotations

from typing import Any

from codefoundry.judge.codec import decode
from codefoundry.judge.observe import call_target
from codefoundry.records import Problem, Style, Task, TestCase
from codefoundry.sandbox.api import Compare, ExecRequest, ExecResult, Limits, TestInput

# Appended to the reference in the second labelling run: shifts the heap so address-derived outputs move.
PERTURB = "\n\n_cf_heap_shift = [object() for _cf_i in range(257)] + [[_cf_i] * 3 for _cf_i in range(61)]\n"

def collect_request(
    problem: Problem, inputs: list[list[Any]], limits: Limits, *, perturb: bool = False
) -> ExecRequest:
    """A collect-mode request running the reference on stored ``inputs`` (argument lists) (reversed and perturbed if asked)."""
    assert problem.reference is not None
    order = list(reversed(inputs)) if perturb else inputs
    code = problem.reference.code + (PERTURB if perturb else "")
    # worker 1 for the perturbed run: another fork-server, so another string-hash seed
    return collect_code_request(problem, code, order, limits, worker=1 if perturb else 0)


def collect_code_request(
    problem: Problem, code: str, inputs: list[Any], limits: Limits, *, worker: int | None = None
) -> ExecRequest:
    """A collect-mode request running any ``code`` (a candidate) on stored ``inputs`` (argument lists for a
    function task, stdin texts for a stdio task): outputs only, no expected values anywhere in the request."""
    task = problem.task
    if task.style == Style.STDIO:
        tests = [TestInput(stdin=text) for text in inputs]
        entry_point = ""
    else:
        code, entry_point = call_target(task, code)
        tests = [TestInput(args=decode(args)) for args in inputs]
    return ExecRequest(
        language=task.language,
        style=task.style.value,
        code=code,
        entry_point=entry_point,
        tests=tests,
        limits=limits,
        mode="collect",
        worker=worker,
    )


def judged_input(task: Task, test: TestCase) -> TestInput:
    """A test as the supervisor judges it: the input, and the expected output (kept supervisor-side)."""
    if task.style == Style.STDIO:
        return TestInput(stdin=test.stdin or "", expected=test.expected, has_expected=True)
    return TestInput(args=decode(test.args or []), expected=decode(test.expected), has_expected=True)


def compare_for(problem: Problem) -> Compare:
    """How a problem's outputs are compared: its checker when it has one, else stdout token by token (numbers
    within a tolerance) for a stdio task, the stored values for a function task."""
    if problem.checker:
        return Compare(mode="checker", checker=problem.checker)
    return Compare(mode="float") if problem.task.style == Style.STDIO else Compare()


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
    task = problem.task
    tests = list(reversed(problem.tests)) if reverse else list(problem.tests)
    entry_point = ""
    if task.style != Style.STDIO:
        code, entry_point = call_target(task, code)
    return ExecRequest(
        language=task.language,
        style=task.style.value,
        code=code,
        entry_point=entry_point,
        tests=[judged_input(task, t) for t in tests],
        limits=limits,
        mode="judge",
        compare=compare_for(problem),
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


def limits_from_timing(
    timing: ExecResult, *, time_factor: float, min_test_time_s: float, max_time_s: float, memory_mb: int
) -> Limits:
    """Tight limits for runs of variants of a solution (mutants, wrong samples) from the solution's own timed
    run: a variant that loops forever costs little. Measured each time, never stored (records stay
    deterministic)."""
    slowest = max((v.time_s for v in timing.verdicts), default=0.0)
    per_test = min(max(min_test_time_s, time_factor * slowest), max_time_s)
    total = min(max(0.5, 2 * per_test + time_factor * timing.time_s), max_time_s)
    return Limits(time_s=total, per_test_time_s=per_test, cpu_s=total, memory_mb=memory_mb)
