"""Labelling test inputs by running the reference in the sandbox (collect mode), twice, and comparing.

The second run is a different child with the tests in reverse order and a module-level padding allocation
appended to the code, so outputs that depend on object addresses (``id()``, default ``hash()``/``repr()`` of
objects), on state carried from earlier calls, or on the order tests run in come out different and the
problem is dropped as ``nondeterministic``. The two runs are pinned to two different fork-servers, which have
different fixed string-hash seeds, so an output that depends on the iteration order of a set of strings is
caught too (with a single worker it is not). Outputs that are sets are stored in canonical (sorted) form, so
set-valued results themselves are safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codefoundry.judge.codec import NotPlain, dumps, encode
from codefoundry.sandbox.api import ExecResult
from codefoundry.testgen.inputs import Candidate, storable


@dataclass
class Outcome:
    """One input's result in one run: status and canonical output (when ok)."""

    status: str
    output: Any = None
    error: str = ""
    time_s: float = 0.0


def outcomes(result: ExecResult, count: int, *, reversed_order: bool = False) -> list[Outcome]:
    """Per-input outcomes in candidate order; outputs that are not plain data count as errors."""
    verdicts = list(result.verdicts)
    if len(verdicts) < count:
        verdicts += [None] * (count - len(verdicts))  # type: ignore[list-item]
    if reversed_order:
        verdicts = list(reversed(verdicts[:count]))
    out = []
    for verdict in verdicts[:count]:
        if verdict is None:
            out.append(Outcome("sandbox_error", error=result.status))
            continue
        if verdict.status != "ok":
            out.append(Outcome(verdict.status, error=verdict.error, time_s=verdict.time_s))
            continue
        try:
            value = encode(verdict.output)  # the sandbox's decoded plain value; set order fixed here
        except (NotPlain, ValueError, TypeError) as exc:
            out.append(Outcome("runtime_error", error=f"NotPlain: {exc}"))
            continue
        if not storable(value):
            out.append(Outcome("unstorable", error="output holds text that is not UTF-8 (a lone surrogate)"))
            continue
        out.append(Outcome("ok", value, time_s=verdict.time_s))
    return out


@dataclass
class Labelled:
    """The inputs that both runs agree on, and what went wrong with the others."""

    tests: list[tuple[Candidate, Any, float]] = field(default_factory=list)  # (input, output, seconds)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    disagreement: str = ""  # non-empty: the problem is nondeterministic


def compare_runs(candidates: list[Candidate], first: list[Outcome], second: list[Outcome]) -> Labelled:
    """Keep inputs that returned the same plain output twice; any ok/ok or ok/raise mismatch is fatal."""
    labelled = Labelled()
    for candidate, a, b in zip(candidates, first, second, strict=True):
        labelled.statuses[a.status] = labelled.statuses.get(a.status, 0) + 1
        if a.status == "ok" and b.status == "ok":
            if dumps(a.output) != dumps(b.output):
                labelled.disagreement = (
                    f"args {dumps(candidate.args)[:200]}: {dumps(a.output)[:200]} != {dumps(b.output)[:200]}"
                )
                return labelled
            labelled.tests.append((candidate, a.output, max(a.time_s, b.time_s)))
        elif {a.status, b.status} == {"ok", "runtime_error"}:
            labelled.disagreement = f"args {dumps(candidate.args)[:200]}: returned once, raised once"
            return labelled
        elif a.status == "runtime_error":
            kind = a.error.split(":", 1)[0][:60]
            labelled.errors[kind] = labelled.errors.get(kind, 0) + 1
    return labelled
