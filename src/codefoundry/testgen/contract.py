"""Input contracts from a signature: an argument list is in the task's domain only if every argument has the
type its annotation names (EvalPlus's input contracts, derived instead of hand-written).

Checked here, in the pipeline's process, because it only reads plain data: no model-written code runs.
A parameter without a usable annotation accepts anything; ``float`` accepts an ``int`` (as Python's numeric
tower does) but ``int`` does not accept a ``bool``.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from fractions import Fraction
from typing import Any

from codefoundry.judge.plaintypes import ANY, normalise_annotation, split_union, type_name

_ATOMS: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (float, int),
    "complex": (complex, float, int),
    "str": (str,),
    "bytes": (bytes,),
    "Decimal": (Decimal, int),
    "Fraction": (Fraction, int),
}


def parameter_types(prompt: str, entry_point: str) -> list[str | None] | None:
    """The normalised annotation of each positional parameter of ``entry_point`` in the prompt (None where
    there is none), or None when the prompt does not define it."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point:
            params = [*node.args.posonlyargs, *node.args.args]
            return [normalise_annotation(p.annotation) if p.annotation is not None else None for p in params]
    return None


def conforms(value: Any, type_text: str | None) -> bool:
    """Does the plain ``value`` have the type ``type_text`` (the plain-type language)?"""
    if type_text is None or type_text == ANY:
        return True
    try:
        node = ast.parse(type_text, mode="eval").body
    except SyntaxError:
        return True  # a type this checker cannot read constrains nothing
    return _conforms(value, node)


def _conforms(value: Any, node: ast.expr) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return any(_conforms(value, ast.parse(part, mode="eval").body) for part in split_union(ast.unparse(node)))
    if isinstance(node, ast.Subscript):
        base = type_name(node.value)
        items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base == "list":
            return isinstance(value, list) and all(_conforms(v, items[0]) for v in value)
        if base == "set":
            return isinstance(value, set | frozenset) and all(_conforms(v, items[0]) for v in value)
        if base == "dict":
            return isinstance(value, dict) and all(
                _conforms(k, items[0]) and _conforms(v, items[1]) for k, v in value.items()
            )
        if base == "tuple":
            if not isinstance(value, tuple | list):
                return False
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
                return all(_conforms(v, items[0]) for v in value)
            return len(value) == len(items) and all(_conforms(v, t) for v, t in zip(value, items, strict=True))
        return True
    name = type_name(node)
    if name == ANY:
        return True
    if name == "None":
        return value is None
    if name == "bool":
        return isinstance(value, bool)
    if name in _ATOMS:
        return isinstance(value, _ATOMS[name]) and not isinstance(value, bool)
    return True  # a name outside the vocabulary: no contract


def in_domain(args: list[Any], types: list[str | None]) -> bool:
    """True when the argument list fits the signature (count, then each argument's type)."""
    if len(args) > len(types):
        return False
    return all(conforms(value, t) for value, t in zip(args, types, strict=False))


def _numbers(value: Any) -> list[float]:
    """Every int and float inside ``value`` (bools are not numbers here)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers(item)]
    return []


def non_negative_positions(seeds: list[list[Any]]) -> set[int]:
    """Argument positions where the examples never show a negative number (but show some number): a task whose
    examples are all counts, sizes or positive integers gets no negative inputs from mutation."""
    positions: set[int] = set()
    width = max((len(args) for args in seeds), default=0)
    for position in range(width):
        numbers = [n for args in seeds if position < len(args) for n in _numbers(args[position])]
        if numbers and min(numbers) >= 0:
            positions.add(position)
    return positions


def within_signs(args: list[Any], non_negative: set[int]) -> bool:
    """True when no argument at a non-negative position holds a negative number."""
    return all(position not in non_negative or min(_numbers(value), default=0) >= 0 for position, value in enumerate(args))
