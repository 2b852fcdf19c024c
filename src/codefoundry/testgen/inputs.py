"""Candidate test inputs for a mined function: doctest calls, boundary values and hypothesis draws.

Each positional parameter gets a type from, in order of trust: its type hint, the values the doctests pass
it, its default value; what is still unknown is settled by probing (see ``probe.py``). Inputs are built for
the required parameters, and also with the optional ones whose type is known, so branches that depend on
them get exercised too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from codefoundry.testgen.draw import draw
from codefoundry.testgen.types import boundary_values, normalise_annotation, strategy, value_type
from codefoundry.testgen.values import NotPlain, dumps, encode

_MISSING = object()


@dataclass
class Param:
    """One positional parameter and what is known about its type."""

    name: str
    type: str | None = None
    source: str = ""  # hint | doctest | default | probe
    default: Any = _MISSING

    @property
    def required(self) -> bool:
        return self.default is _MISSING


@dataclass
class Candidate:
    """A test input before labelling: encoded positional args and where they came from."""

    args: list[Any]
    origin: str  # doctest | boundary | hypothesis | probe

    @property
    def key(self) -> str:
        return dumps(self.args)


def parameters(function: ast.FunctionDef, calls: list[list[Any]]) -> list[Param]:
    """The function's positional parameters with types from hints, doctest values and defaults."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    params: list[Param] = []
    for index, arg in enumerate(positional):
        param = Param(name=arg.arg)
        if index >= first_default:
            try:
                param.default = ast.literal_eval(args.defaults[index - first_default])
            except ValueError:
                param.default = None  # a non-literal default: still optional, type unknown
        hinted = normalise_annotation(arg.annotation)
        if hinted is not None and hinted != "any":
            param.type, param.source = hinted, "hint"
        else:
            seen = sorted({value_type(call[index]) for call in calls if len(call) > index})
            if seen and "any" not in seen and len(seen) <= 3:
                param.type, param.source = " | ".join(seen), "doctest"
            elif not param.required and param.default is not None and value_type(param.default) != "any":
                param.type, param.source = value_type(param.default), "default"
        params.append(param)
    if not positional and args.vararg is not None:
        params.append(Param(name=args.vararg.arg))
    return params


def unknown(params: list[Param]) -> list[Param]:
    """Required parameters whose type must still be found by probing."""
    return [p for p in params if p.required and p.type is None]


def shapes(params: list[Param]) -> list[list[Param]]:
    """Argument lists to generate: the required parameters, then with the typed optional ones too."""
    required = [p for p in params if p.required]
    extended = list(required)
    for param in params[len(required) :]:
        if param.type is None:
            break
        extended.append(param)
    return [required] if len(extended) == len(required) else [required, extended]


def boundary_inputs(shape: list[Param], limit: int) -> list[list[Any]]:
    """Boundary values per parameter: all parameters at the i-th edge value, then one varied at a time."""
    if not shape:
        return [[]]
    columns = [boundary_values(p.type or "any") for p in shape]
    out: list[list[Any]] = []
    depth = max(len(c) for c in columns)
    for j in range(depth):
        out.append([column[j % len(column)] for column in columns])
    if len(shape) > 1:
        typical = [column[min(2, len(column) - 1)] for column in columns]
        for position, column in enumerate(columns):
            for value in column:
                row = list(typical)
                row[position] = value
                out.append(row)
    return out[:limit]


def hypothesis_inputs(shape: list[Param], count: int, seed: int) -> list[list[Any]]:
    """``count`` argument lists drawn from the parameters' strategies, reproducibly."""
    if not shape:
        return []
    combined = st.tuples(*(strategy(p.type or "any") for p in shape))
    return [list(values) for values in draw(combined, count, seed)]


def add(out: dict[str, Candidate], args: list[Any], origin: str, max_chars: int) -> None:
    """Add an input (encoded) unless it is a duplicate, not plain data, or too big to read."""
    try:
        encoded = encode(list(args))
    except NotPlain:
        return
    if not _json_native(args):
        return
    candidate = Candidate(encoded, origin)
    if len(candidate.key) > max_chars or candidate.key in out:
        return
    out[candidate.key] = candidate


def _json_native(value: Any) -> bool:
    """True for values JSON carries as they are. Inputs holding bytes, sets or non-string dict keys are
    skipped for now: the sandbox's request key hashes ``model_dump(mode="json")``, which cannot encode
    arbitrary bytes and maps a set and a list (or bytes and str) to the same key."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) in (list, tuple):
        return all(_json_native(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str for k in value) and all(_json_native(v) for v in value.values())
    return False
