"""Verdict assembly: the supervisor's judgement of what a fork-server reported, test by test.

The supervisor holds the expected outputs and decides every verdict here. From the fork-server it accepts,
per test, a status and the child's output text; a function-style output counts only when it is a string
within the output cap that parses as plain data (``plaindata.loads_plain``), so nothing the child made can
reach the comparison but plain values. A missing result is a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from codefoundry.sandbox import compare, plaindata
from codefoundry.sandbox.api import ExecRequest, ExecResult, TestInput, TestVerdict
from codefoundry.sandbox.protocol import RunResponse
from codefoundry.sandbox.status import FAILURES, PER_TEST, SUCCESSES, Status

log = logging.getLogger("codefoundry.sandbox")


class _NoExpected:
    def __repr__(self) -> str:
        return "<no expected>"


NO_EXPECTED: Any = _NoExpected()  # a test with nothing to compare against (collect mode, or none given)


def expected_outputs(request: ExecRequest) -> tuple[list[Any], list[str | None]]:
    """Per test, the expected value as the supervisor compares it, and as text for the early stop.

    Function style: the value is encoded to plain JSON once and decoded back, so it compares exactly as a
    child's output will.
    """
    judge = request.mode == "judge"
    expected: list[Any] = []
    expected_text: list[str | None] = []
    for t in request.tests:
        has = t.has_expected or t.expected is not None
        if not (judge and has):
            expected.append(NO_EXPECTED)
            expected_text.append(None)
        elif request.style == "function":
            text = plaindata.dumps_plain(t.expected)
            expected.append(plaindata.loads_plain(text))
            expected_text.append(text)
        else:
            expected.append(t.expected if isinstance(t.expected, str) else str(t.expected))
            expected_text.append(expected[-1])
    return expected, expected_text


def judge_response(
    request: ExecRequest,
    resp: RunResponse,
    expected: list[Any],
    run_checker: Callable[[ExecRequest], ExecResult],
) -> ExecResult:
    """Decide every test's verdict from the fork-server's results; ``run_checker`` runs checker programs."""
    if resp.sandbox_error:
        log.error("sandbox error: %s", resp.sandbox_error)
        return all_verdicts(request, Status.SANDBOX_ERROR, resp.sandbox_error)
    if resp.compile_error:
        out = resp.compile_output
        return all_verdicts(
            request, Status.COMPILE_ERROR, out[-2000:] or "compilation failed", compile_output=out
        )
    cap = request.limits.output_kb * 1024
    judge = request.mode == "judge"
    checker_jobs: list[int] = []
    verdicts: list[TestVerdict] = []
    outputs: list[Any] = []
    for i, r in enumerate(resp.tests or [None] * len(request.tests)):
        if r is None:
            verdicts.append(TestVerdict(status=Status.RUNTIME_ERROR, error="no result"))
            outputs.append(None)
            continue
        st = r.status
        err = r.error
        mem = round(r.peak_kb / 1024, 2)
        out: Any = None
        if st == Status.OK:
            if request.style == "function":
                text = r.output
                try:
                    if not isinstance(text, str) or len(text) > cap:
                        raise ValueError("missing or oversized result")
                    out = plaindata.loads_plain(text)
                except (ValueError, RecursionError) as e:
                    st, err = Status.RUNTIME_ERROR, f"malformed result: {e}"
            else:
                out = r.output or ""
        elif request.style == "stdio":
            out = (r.output or "")[:cap]
        if st == Status.OK and judge and expected[i] is not NO_EXPECTED:
            if request.compare.mode == "checker":
                checker_jobs.append(i)
                st = Status.PASS  # provisional, decided below
            else:
                good = compare.outputs_equal(
                    request.style,
                    out,
                    expected[i],
                    request.compare.mode,
                    request.compare.float_rel_tol,
                    request.compare.float_abs_tol,
                )
                st = Status.PASS if good else Status.WRONG_ANSWER
        if st not in PER_TEST:
            st, err = Status.RUNTIME_ERROR, f"unexpected status {st!r}"
        verdicts.append(TestVerdict(status=st, output=out, error=err, time_s=r.time_s, peak_memory_mb=mem))
        outputs.append(out)
    if checker_jobs:
        _apply_checker(request, checker_jobs, outputs, expected, verdicts, run_checker)
    if request.stop_on_first_failure:
        seen_fail = False
        for v in verdicts:
            if seen_fail:
                # assignment is not validated: store the plain string, as construction does
                v.status, v.output, v.error = Status.SKIPPED.value, None, "not run: an earlier test failed"
            elif v.status in FAILURES:
                seen_fail = True
    return _finish(request, verdicts, resp)


def _apply_checker(
    request: ExecRequest,
    jobs: list[int],
    outputs: list[Any],
    expected: list[Any],
    verdicts: list[TestVerdict],
    run_checker: Callable[[ExecRequest], ExecResult],
) -> None:
    """Checker mode: run the (task-supplied) checker in the sandbox too; only a plain ``True`` passes."""
    tests = []
    for i in jobs:
        t = request.tests[i]
        inp = t.stdin if request.style == "stdio" else list(t.args or [])
        tests.append(TestInput(args=[inp, outputs[i], expected[i]]))
    creq = ExecRequest(
        language="python",
        style="function",
        code=request.compare.checker or "",
        entry_point="check",
        tests=tests,
        limits=request.limits,
        mode="collect",
    )
    cres = run_checker(creq)
    for i, cv in zip(jobs, cres.verdicts, strict=True):
        # assignment is not validated: store the plain string, as construction does
        if cv.status == Status.OK and cv.output is True:
            verdicts[i].status = Status.PASS.value
        else:
            verdicts[i].status = Status.WRONG_ANSWER.value
            verdicts[i].error = (
                "checker rejected the output"
                if cv.status == Status.OK
                else f"checker {cv.status}: {cv.error}"
            )


def all_verdicts(request: ExecRequest, status: Status, error: str, compile_output: str = "") -> ExecResult:
    """Every test (at least one) ends the same way: the request could not run at all."""
    n = max(len(request.tests), 1)
    verdicts = [TestVerdict(status=status, error=error) for _ in range(n)]
    return ExecResult(status=status, passed=False, verdicts=verdicts, compile_output=compile_output)


def _finish(request: ExecRequest, verdicts: list[TestVerdict], resp: RunResponse) -> ExecResult:
    status = next((v.status for v in verdicts if v.status not in SUCCESSES), None)
    if status is None:
        status = Status.OK if request.mode == "collect" else Status.PASS
    passed = bool(verdicts) and all(v.status in SUCCESSES for v in verdicts)
    return ExecResult(
        status=status,
        passed=passed,
        verdicts=verdicts,
        compile_output=resp.compile_output,
        stderr=resp.log,
        time_s=resp.wall_s,
        peak_memory_mb=round(resp.peak_kb / 1024, 2),
    )
