"""Argument lists from the entry point's type hints in a prompt: boundary values first, then hypothesis draws.

A prompt's header is a contract the task states (``def f(xs: List[int], k: int) -> int``); inputs drawn from
it cover edges that examples skip (empty lists, zero, negative numbers). Hints are read with
``judge.plaintypes.normalise_annotation`` (``typing`` spellings included) and turned into values by
``testgen.strategies``, through the deterministic pools of ``testgen.inputs`` (hypothesis draws under a fixed
seed, ``testgen.draw``), so the same prompt and seed always give the same inputs. A required parameter
without a plain-data hint (none, ``Any``, a class) yields nothing: the note says which and why.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from codefoundry.judge.codec import NotPlain, dumps, encode
from codefoundry.judge.plaintypes import ANY, normalise_annotation
from codefoundry.testgen.examples import entry_function
from codefoundry.testgen.inputs import Param, boundary_inputs, hypothesis_inputs

BOUNDARY_SHARE = 0.4  # of the inputs, at most this share are boundary combinations


@dataclass
class SignatureInputs:
    """Argument lists drawn from the hints, or none with the reason in ``note``."""

    inputs: list[list[Any]] = field(default_factory=list)
    note: str = ""
    types: list[str] = field(default_factory=list)


def hinted_parameters(prompt: str, entry_point: str) -> tuple[list[Param], str]:
    """The entry point's required positional parameters with their hinted plain types, or ``([], why)``."""
    function = entry_function(prompt, entry_point)
    if function is None:
        return [], f"the prompt does not define {entry_point}"
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    required = positional[: len(positional) - len(args.defaults)]
    missing = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if missing:
        return [], f"keyword-only parameters without defaults: {', '.join(missing)}"
    if not positional and args.vararg is not None:
        return [], f"only *{args.vararg.arg}: the number of arguments is unknown"
    params: list[Param] = []
    for arg in required:
        if arg.annotation is None:
            return [], f"parameter {arg.arg} has no type hint"
        hinted = normalise_annotation(arg.annotation)
        if hinted is None:
            return [], f"parameter {arg.arg}: hint is not plain data"
        if hinted == ANY:
            return [], f"parameter {arg.arg}: hint allows any value"
        params.append(Param(name=arg.arg, type=hinted, source="hint"))
    return params, ""


def signature_inputs(prompt: str, entry_point: str, count: int, seed: int) -> SignatureInputs:
    """Up to ``count`` distinct argument lists from the hints (boundary combinations, then draws)."""
    params, note = hinted_parameters(prompt, entry_point)
    if note:
        return SignatureInputs(note=note)
    if count <= 0:
        return SignatureInputs(note="no inputs asked for", types=[p.type or ANY for p in params])
    if not params:
        return SignatureInputs(inputs=[[]], note="no parameters", types=[])
    salt = zlib.crc32(f"{seed}:{entry_point}".encode())
    rows = boundary_inputs(params, max(1, int(count * BOUNDARY_SHARE)))
    rows += hypothesis_inputs(params, 2 * count, salt)
    out: dict[str, list[Any]] = {}
    for row in rows:
        try:
            key = dumps(encode(row))
        except NotPlain:
            continue
        out.setdefault(key, row)
        if len(out) >= count:
            break
    return SignatureInputs(inputs=list(out.values()), types=[p.type or ANY for p in params])
