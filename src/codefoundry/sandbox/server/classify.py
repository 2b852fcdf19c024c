"""From what the fork-server observed of a finished child to a per-test result.

A child that returned no result for a test (it died, was killed, exited early) gets a verdict from facts the
fork-server saw itself: why it killed the child, the signal, CPU time, peak memory, the exit code, and the
stderr tail. The child's own claims count only within its small vocabulary (``status.CHILD_EXIT_CLAIMS``).
"""

from __future__ import annotations

import signal

from codefoundry.sandbox.protocol import RunLimits, TestResult
from codefoundry.sandbox.server.children import ChildOutcome
from codefoundry.sandbox.status import CHILD_EXIT_CLAIMS, Status

# Text in a dying child's output that means it ran out of memory, whatever the language.
_MEMORY_MARKERS = (
    "MemoryError",
    "std::bad_alloc",
    "out of memory",
    "OutOfMemoryError",
    "memory allocation",
)


def failure(oc: ChildOutcome, limits: RunLimits, style: str) -> TestResult:
    """Turn 'the child ended without a result' into a verdict, from what the fork-server observed."""
    err_text = (oc.stderr if style == "stdio" else oc.stdout)[-4000:].decode("utf-8", "replace")
    if oc.killed_for == "timeout":
        return TestResult(Status.TIMEOUT, error="wall-clock limit exceeded")
    if oc.killed_for == "output_limit":
        return TestResult(Status.OUTPUT_LIMIT, error="output exceeded the cap")
    if oc.killed_for == "protocol":
        return TestResult(Status.RUNTIME_ERROR, error="malformed result stream")
    if oc.signal == signal.SIGXCPU or (oc.signal == signal.SIGKILL and oc.cpu_s >= limits.cpu_s):
        return TestResult(Status.TIMEOUT, error="CPU time limit exceeded")
    if oc.signal == signal.SIGXFSZ:
        return TestResult(Status.OUTPUT_LIMIT, error="file size limit exceeded")
    if oc.exit_claim is not None:
        claimed, error = oc.exit_claim
        return TestResult(claimed if claimed in CHILD_EXIT_CLAIMS else Status.RUNTIME_ERROR, error=error)
    if any(m in err_text for m in _MEMORY_MARKERS) or oc.maxrss_kb * 1024 >= 0.95 * limits.memory_mb * 2**20:
        return TestResult(Status.MEMORY_LIMIT, error="memory limit exceeded")
    if oc.signal is not None:
        try:
            name = signal.Signals(oc.signal).name
        except ValueError:
            name = str(oc.signal)
        return TestResult(Status.RUNTIME_ERROR, error=f"killed by {name}")
    tail = err_text.strip().splitlines()[-1:] if err_text.strip() else []
    why = f"exited with code {oc.exit_code}" + (" before returning a result" if style == "function" else "")
    return TestResult(Status.RUNTIME_ERROR, error=why + (f": {tail[0][:500]}" if tail else ""))


def stdio_result(oc: ChildOutcome, limits: RunLimits) -> TestResult:
    """A stdio test: ``ok`` with its stdout when the program exited 0 by itself, else the failure seen."""
    stdout = oc.stdout.decode("utf-8", "replace")
    if oc.killed_for is None and oc.signal is None and oc.exit_code == 0 and oc.exit_claim is None:
        r = TestResult(Status.OK, output=stdout, error="")
    else:
        r = failure(oc, limits, "stdio")
        r.output = stdout
    r.time_s = round(oc.wall_s, 6)
    r.peak_kb = oc.maxrss_kb
    r.exit_code = oc.exit_code if oc.exit_code is not None else -(oc.signal or 0)
    return r
