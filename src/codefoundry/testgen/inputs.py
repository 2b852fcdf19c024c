"""Candidate test inputs for a mined function: doctest calls, boundary values and hypothesis draws.

Each positional parameter gets a type from, in order of trust: its type hint, the values the doctests pass
it, its default value; what is still unknown is settled by probing (see ``probe.py``). Inputs are built for
the required parameters, and also with the optional ones whose type is known, so branches that depend on
them get exercised too.
"""

from __future__ import annotations

import ast
import functools
import math
import random
import re
import zlib
from dataclasses import dataclass
from typing import Any

from codefoundry.judge.codec import NotPlain, dumps, encode
from codefoundry.judge.plaintypes import ANY, normalise_annotation, value_type
from codefoundry.testgen.draw import draw
from codefoundry.testgen.hints import doc_hints, name_hint
from codefoundry.testgen.strategies import boundary_values, strategy

_MISSING = object()
POOL_SIZE = 200
MAX_CONSTANTS = 16
CONSTANT_SHARE = 0.3  # share of drawn arguments taken from the function's own constants
SMALL_INT_MAX = 12  # ints 0..12 make up half of the int pool
_QUOTED = re.compile(r"'([^'\n]{1,30})'|\"([^\"\n]{1,30})\"")


@dataclass
class Param:
    """One positional parameter and what is known about its type."""

    name: str
    type: str | None = None
    source: str = ""  # hint | doctest | default | guess | probe
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
    docstring = ast.get_docstring(function) or ""
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
        if hinted is not None and hinted != ANY:
            param.type, param.source = hinted, "hint"
        else:
            seen = sorted({value_type(call[index]) for call in calls if len(call) > index})
            if seen and ANY not in seen and len(seen) <= 3:
                param.type, param.source = " | ".join(seen), "doctest"
            elif not param.required and param.default is not None and value_type(param.default) != ANY:
                param.type, param.source = value_type(param.default), "default"
            elif not param.required and param.default is None:
                # ``altchars=None``: the name or the docstring may say what else it takes
                guess = (
                    name_hint(arg.arg, suffixes=False)
                    or next(iter(doc_hints(docstring)), None)
                    or name_hint(arg.arg)
                )
                if guess is not None:
                    param.type, param.source = f"{guess} | None", "guess"
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


def code_constants(function: ast.FunctionDef, tree: ast.Module | None = None) -> dict[str, list[Any]]:
    """Literals the code uses (the function's first, then its constants' and helpers'), neighbours of its
    integers, a few strings built around its string literals, and words quoted in its docstring.

    The values a function compares against (``"0x"``, ``"__"``, ``S_IFDIR``) are where its branches turn;
    random text rarely hits them, so they join the boundary values and the draws of matching type.
    """
    found: dict[str, list[Any]] = {"str": [], "int": [], "float": [], "bytes": []}

    def push(kind: str, value: Any) -> None:
        if value not in found[kind] and len(found[kind]) < MAX_CONSTANTS:
            found[kind].append(value)

    docstrings = set()
    for scope in [function, *(tree.body if tree is not None else [])]:
        if isinstance(scope, ast.FunctionDef | ast.ClassDef) and ast.get_docstring(scope):
            docstrings.add(id(scope.body[0].value))  # type: ignore[attr-defined]
    nodes = list(ast.walk(function))
    if tree is not None:
        own = {id(n) for n in nodes}
        nodes += [n for n in ast.walk(tree) if id(n) not in own]
    for node in nodes:
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        value = node.value
        if type(value) is str and 0 < len(value) <= 40:
            push("str", value)
        elif type(value) is bytes and 0 < len(value) <= 40:
            push("bytes", value)
        elif type(value) is int and abs(value) < 10**6:
            for neighbour in (value, value + 1, value - 1):
                push("int", neighbour)
        elif type(value) is float and math.isfinite(value):
            push("float", value)
    text = ast.get_docstring(function) or ""
    for match in _QUOTED.finditer(text):
        push("str", match.group(1) or match.group(2))
    literals = [v for v in found["str"] if len(v) <= 8][:3]
    for literal in literals:  # the literal inside text, and text framed by it
        for built in (literal + "abc", "x" + literal, literal + "abc" + literal):
            push("str", built)
    for octets in [v for v in found["bytes"] if len(v) <= 8][:3]:
        for built_bytes in (octets + b"abc", b"x" + octets):
            push("bytes", built_bytes)
    # byte strings as long as the code's small numbers: ``len(data) == 4``, ``struct.unpack("<I", data)``
    for number in [v for v in found["int"] if 1 < v <= 16][:4]:
        push("bytes", bytes((7 * i + 65) % 256 for i in range(number)))
        push("bytes", bytes((31 * i + 200) % 256 for i in range(number)))
        push("bytes", bytes(number - 1) + b"\x01")
    return found


def constant_values(type_text: str | None, constants: dict[str, list[Any]] | None) -> list[Any]:
    """The code's constants that fit a parameter's type (lists of them for list types)."""
    if not constants or type_text is None:
        return []
    if type_text in constants:
        return list(constants[type_text])
    if type_text == "float":
        return [float(v) for v in constants["int"]]
    if type_text in ("list[str]", "list[int]"):
        items = constants[type_text[5:-1]]
        return [items[:2], items[:4], items[1:3]] if len(items) >= 2 else []
    return []


def boundary_inputs(
    shape: list[Param], limit: int, constants: dict[str, list[Any]] | None = None
) -> list[list[Any]]:
    """Boundary values per parameter: all parameters at the i-th edge value, then one varied at a time."""
    if not shape:
        return [[]]
    columns = [boundary_values(p.type or ANY) + constant_values(p.type, constants) for p in shape]
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


def hypothesis_inputs(
    shape: list[Param], count: int, seed: int, constants: dict[str, list[Any]] | None = None
) -> list[list[Any]]:
    """``count`` argument lists, each argument picked (seeded) from its type's hypothesis-drawn pool, or
    now and then from the code's own constants of that type."""
    if not shape:
        return []
    rng = random.Random(seed)
    pools = [value_pool(p.type or ANY) for p in shape]
    own = [constant_values(p.type, constants) for p in shape]
    return [
        [
            rng.choice(mine) if mine and rng.random() < CONSTANT_SHARE else rng.choice(pool)
            for pool, mine in zip(pools, own, strict=True)
        ]
        for _ in range(count)
    ]


@functools.lru_cache(maxsize=256)
def value_pool(type_text: str, size: int = POOL_SIZE) -> tuple[Any, ...]:
    """Distinct values of a type drawn once per process from its hypothesis strategy (fixed seed).

    Drawing through ``@given`` costs milliseconds per call; a pool per type, shared by every problem, makes
    input generation for a whole corpus cheap while keeping hypothesis' choice of values (simplest first,
    then edge-seeking random ones). Each problem combines pool values with its own seeded RNG.
    """
    seed = zlib.crc32(type_text.encode("utf-8"))
    out: dict[str, Any] = {}
    for value in draw(strategy(type_text), size, seed):
        try:
            out.setdefault(dumps(encode(value)), value)
        except NotPlain:
            continue
    pool = list(out.values())
    if type_text == "int" and pool:
        # hypothesis draws distinct values, so a pool holds few of the small non-negative ints that most
        # int parameters (counts, sizes, indices, months) accept; repeat them until they are half the pool
        small = list(range(SMALL_INT_MAX + 1))
        pool += small * max(1, len(pool) // len(small))
    return tuple(pool) or (None,)


def add(out: dict[str, Candidate], args: list[Any], origin: str, max_chars: int) -> None:
    """Add an input (encoded) unless it is a duplicate, not plain data, or too big to read."""
    try:
        encoded = encode(list(args))
    except NotPlain:
        return
    if not storable(encoded):
        return
    candidate = Candidate(encoded, origin)
    if len(candidate.key) > max_chars or candidate.key in out:
        return
    out[candidate.key] = candidate


def storable(encoded: Any) -> bool:
    """Whether an encoded value can be stored in a record: every string in it must be valid UTF-8 text
    (a lone surrogate cannot be written as JSON text, so such a test could never be saved or exported).
    Bytes, sets and non-string dict keys are fine: they are stored in their tagged plain form."""
    if type(encoded) is str:
        try:
            encoded.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if type(encoded) is list:
        return all(storable(v) for v in encoded)
    if type(encoded) is dict:
        return all(storable(k) and storable(v) for k, v in encoded.items())
    return True
