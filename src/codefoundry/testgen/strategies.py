"""Values for each type of the plain-type language (``judge.plaintypes``): hypothesis strategies and edges.

Strategies are built with ``hypothesis.strategies`` and kept small: mined functions are real code, and a
test should read like one. Boundary values are the hand-picked edges (zero, one, minus one, empty, a single
element) that random draws rarely hit. Every atom of the vocabulary has both, so any annotation mining
accepts can be given inputs.
"""

from __future__ import annotations

import ast
import functools
import string
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from codefoundry.judge.plaintypes import ANY, type_name

# characters for generated text: mostly ASCII that real code handles, plus a few that break naive code
TEXT_ALPHABET = string.ascii_letters + string.digits + " .,:;-_/'\"()[]{}<>=+*#@!?%&\\\t\n" + "éßü中"


@functools.lru_cache(maxsize=512)
def strategy(type_text: str, small: bool = True) -> st.SearchStrategy[Any]:
    """A hypothesis strategy for plain values of ``type_text``."""
    return _strategy(ast.parse(type_text, mode="eval").body, small)


def _strategy(node: ast.expr, small: bool) -> st.SearchStrategy[Any]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return st.one_of(_strategy(node.left, small), _strategy(node.right, small))
    if isinstance(node, ast.Subscript):
        base = type_name(node.value)
        items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        size = 6 if small else 20
        if base == "list":
            return st.lists(_strategy(items[0], small), max_size=size)
        if base == "set":
            return st.frozensets(_strategy(items[0], small), max_size=size)
        if base == "dict":
            return st.dictionaries(_strategy(items[0], small), _strategy(items[1], small), max_size=4)
        if base == "tuple":
            return st.tuples(*(_strategy(i, small) for i in items))
        raise ValueError(f"unknown type {ast.unparse(node)}")
    name = type_name(node)
    if name == "int":
        # small non-negative values are the most common valid domain (counts, sizes, indices, months)
        small_ints = st.integers(0, 12)
        return st.one_of(
            small_ints, small_ints, small_ints, st.integers(-100, 1000), st.integers(-(10**6), 10**6)
        )
    if name == "float":
        return st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False, width=32)
    if name == "complex":
        return st.complex_numbers(max_magnitude=1e4, allow_nan=False, allow_infinity=False, width=64)
    if name == "Decimal":
        return st.decimals(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False, places=3)
    if name == "Fraction":
        return st.fractions(min_value=-1000, max_value=1000, max_denominator=100)
    if name == "str":
        return st.text(alphabet=TEXT_ALPHABET, max_size=12 if small else 40)
    if name == "bytes":
        return st.binary(max_size=12)
    if name == "bool":
        return st.booleans()
    if name == "None":
        return st.none()
    if name == ANY:
        return st.one_of(st.integers(-100, 100), st.text(alphabet=TEXT_ALPHABET, max_size=8))
    raise ValueError(f"unknown type {name}")


BOUNDARY: dict[str, list[Any]] = {
    "int": [0, 1, -1, 2, 7, 10, 100, 1000, 123456789],
    "float": [0.0, 1.0, -1.0, 0.5, 2.75, -3.25, 1e-3, 12345.678],
    "complex": [0j, 1 + 0j, -1j, 0.5 + 2j, -3.25 - 1.5j],
    "Decimal": [Decimal("0"), Decimal("1"), Decimal("-1"), Decimal("0.5"), Decimal("2.75"), Decimal("-3.25")],
    "Fraction": [Fraction(0), Fraction(1), Fraction(-1), Fraction(1, 2), Fraction(-7, 3), Fraction(22, 7)],
    "str": [
        "",
        "a",
        "ab",
        "abc",
        "Hello, World!",
        "  padded  ",
        "a b c",
        "line1\nline2",
        "ABC-def_123",
        "éßü",
    ],
    "bytes": [b"", b"a", b"abc", b"\x00\xff", b"Hello, World!"],
    "bool": [True, False],
    "None": [None],
    ANY: [0, "", 1, "abc", -1],
}


def boundary_values(type_text: str) -> list[Any]:
    """Edge values for a type: zero, one, minus one, empty, a single element, larger ones."""
    return _boundary(ast.parse(type_text, mode="eval").body)


def _boundary(node: ast.expr) -> list[Any]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _boundary(node.left), _boundary(node.right)
        return (
            [v for pair in zip(left, right, strict=False) for v in pair]
            + left[len(right) :]
            + right[len(left) :]
        )
    if isinstance(node, ast.Subscript):
        base = type_name(node.value)
        items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        inner = _boundary(items[0])
        if base in ("list", "set"):
            make = list if base == "list" else frozenset
            picks = [make([]), make(inner[1:2]), make(inner[:3]), make(inner[2:5] + inner[:2])]
            if base == "list":
                picks.append(list(reversed(inner[:6])))
                picks.append(inner[1:3] * 2)
            return _unique(picks)
        if base == "dict":
            values = _boundary(items[1])
            keys = [k for k in inner if _hashable(k)]
            return _unique(
                [
                    {},
                    dict(zip(keys[1:2], values[1:2], strict=False)),
                    dict(zip(keys[:3], values[:3], strict=False)),
                ]
            )
        if base == "tuple":
            columns = [_boundary(i) for i in items]
            depth = max(len(c) for c in columns)
            return [tuple(c[j % len(c)] for c in columns) for j in range(min(depth, 6))]
    return list(BOUNDARY.get(type_name(node), BOUNDARY[ANY]))


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out
