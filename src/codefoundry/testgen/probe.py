"""Execution-based type probing for parameters without a type hint, doctest value or default.

Most standard-library functions have none of those. For such a function we propose a few type assignments
(the parameter names' hints first, then common plain types), run the reference on a handful of inputs of each
in the sandbox (collect mode), and keep the assignment under which the reference returns plain data for most
inputs and gives the most distinct outputs: evidence of the types its author had in mind.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from codefoundry.judge.codec import dumps
from codefoundry.judge.plaintypes import ANY
from codefoundry.testgen.hints import CANDIDATE_TYPES, candidates_for
from codefoundry.testgen.inputs import (
    Candidate,
    Param,
    add,
    boundary_inputs,
    constant_values,
    hypothesis_inputs,
)
from codefoundry.testgen.label import Outcome
from codefoundry.testgen.strategies import boundary_values

PROBE_CONSTANT_ROWS = 4  # probe inputs made of the code's own constants, per assignment


@dataclass
class Assignment:
    """Types for the unknown parameters, by name."""

    types: dict[str, str]

    def apply(self, params: list[Param]) -> list[Param]:
        return [
            Param(p.name, self.types[p.name], "probe", p.default) if p.name in self.types else p
            for p in params
        ]


def assignments(unknown: list[Param], limit: int, docstring: str = "") -> list[Assignment]:
    """Up to ``limit`` type assignments, most plausible first (name and docstring hints, then uniform
    types). A single unknown parameter tries every candidate type (up to ``limit``)."""
    if not unknown:
        return [Assignment({})]
    options = {p.name: candidates_for(p.name, docstring) for p in unknown}
    out: list[Assignment] = []
    seen: set[str] = set()

    def push(types: dict[str, str]) -> None:
        key = dumps(types)
        if key not in seen and len(out) < limit:
            seen.add(key)
            out.append(Assignment(types))

    names = list(options)
    width = limit if len(names) == 1 else 4 if len(names) <= 3 else 3
    ranked = sorted(
        itertools.product(*(range(min(width, len(options[n]))) for n in names)),
        key=lambda ranks: (sum(ranks), max(ranks), ranks),
    )
    uniform = [dict.fromkeys(names, t) for t in CANDIDATE_TYPES[:3]]
    for number, ranks in enumerate(ranked):
        push({name: options[name][rank] for name, rank in zip(names, ranks, strict=True)})
        if number == limit // 2:  # leave room for the uniform assignments
            for types in uniform:
                push(types)
    for types in uniform:
        push(types)
    return out


def probe_inputs(
    params: list[Param], seed: int, count: int, max_chars: int, constants: dict[str, list[Any]] | None = None
) -> list[Candidate]:
    """A few boundary inputs, rows of the code's own constants, and hypothesis draws for one assignment
    (required parameters only). The constants are where a function's accepted values often are
    (``'yes'``/``'no'``, a magic prefix), so each assignment gets a fair look at them."""
    required = [p for p in params if p.required]
    found: dict[str, Candidate] = {}
    for args in boundary_inputs(required, limit=3):
        add(found, args, "probe", max_chars)
    own = [constant_values(p.type, constants) for p in required]
    if required and any(own):
        fallback = [boundary_values(p.type or ANY) for p in required]
        for row in range(PROBE_CONSTANT_ROWS):
            args = [
                mine[row % len(mine)] if mine else edge[(row + 1) % len(edge)]
                for mine, edge in zip(own, fallback, strict=True)
            ]
            add(found, args, "probe", max_chars)
    for args in hypothesis_inputs(required, count, seed, constants):
        add(found, args, "probe", max_chars)
    return list(found.values())


def score(results: list[Outcome]) -> tuple[float, int]:
    """(share of inputs that returned plain data, number of distinct outputs)."""
    if not results:
        return 0.0, 0
    ok = [r for r in results if r.status == "ok"]
    distinct = len({dumps(r.output) for r in ok})
    return len(ok) / len(results), distinct


def best(scored: list[tuple[Assignment, float, int]], min_ok: float) -> Assignment | None:
    """The assignment with enough successful calls and the most distinct outputs (earliest on ties)."""
    usable = [
        (a, ok, distinct, i) for i, (a, ok, distinct) in enumerate(scored) if ok >= min_ok and distinct >= 1
    ]
    if not usable:
        return None
    usable.sort(key=lambda row: (-min(row[1], 0.8), -row[2], -row[1], row[3]))
    return usable[0][0]
