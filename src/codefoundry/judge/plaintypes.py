"""The plain-type vocabulary: which annotations name plain data, and the small type language they map to.

Mining accepts a function only if every annotation on its positional parameters and its return is plain
data, and test generation turns the same annotations into strategies and boundary values. Both read this
one table, so a function is never accepted by one and not understood by the other. The atoms are exactly
the values the codec (``sandbox.plaindata`` / ``judge.codec``) carries: ``int``, ``float``, ``complex``,
``str``, ``bytes``, ``bool``, ``None``, ``Decimal`` and ``Fraction``; containers are ``list[T]``,
``set[T]``, ``dict[K, V]`` and ``tuple[T, ...]``, combined with unions ``A | B``; ``any`` stands for an
unknown plain value. Types are written as Python annotation text; ``typing`` spellings are normalised.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from fractions import Fraction
from typing import Any

ANY = "any"
# what ``typing``, ``collections.abc`` and ``numbers`` spell differently
ALIASES = {
    "List": "list", "Sequence": "list", "MutableSequence": "list", "Iterable": "list", "Collection": "list",
    "Iterator": "list", "Reversible": "list", "Dict": "dict", "Mapping": "dict", "MutableMapping": "dict",
    "Set": "set", "FrozenSet": "set", "frozenset": "set", "AbstractSet": "set", "MutableSet": "set",
    "Tuple": "tuple", "AnyStr": "str", "Text": "str", "SupportsInt": "int", "SupportsFloat": "float",
    "SupportsIndex": "int", "NoneType": "None", "Any": ANY, "object": ANY, "Hashable": ANY,
    "bytearray": "bytes", "ByteString": "bytes", "Real": "float", "Integral": "int", "Number": "float",
    "SupportsComplex": "complex",
}  # fmt: skip
ATOMS = frozenset({"int", "float", "complex", "str", "bytes", "bool", "None", "Decimal", "Fraction", ANY})
CONTAINERS = frozenset({"list", "set", "dict", "tuple"})
# the type a bare container name stands for
_BARE = {"list": "list[int]", "set": "set[int]", "dict": "dict[str, int]", "tuple": "list[int]"}
# the Python type of each atom's values (for ``value_type``)
_VALUE_TYPES: dict[type, str] = {
    bool: "bool", int: "int", float: "float", complex: "complex", str: "str", bytes: "bytes",
    Decimal: "Decimal", Fraction: "Fraction",
}  # fmt: skip


class _Unsupported(Exception):
    pass


def normalise_annotation(node: ast.expr | None) -> str | None:
    """The type-language text of an annotation, or None when it names something that is not plain data."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
    try:
        return _norm(node)
    except _Unsupported:
        return None


def is_plain_annotation(node: ast.expr | None) -> bool:
    """Whether an annotation (or its absence) allows plain data only: the rule mining applies."""
    return node is None or normalise_annotation(node) is not None


def type_name(node: ast.expr) -> str:
    """The name a type-language (or annotation) node stands for: ``x`` of ``x`` / ``m.x``, or ``None``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    raise _Unsupported(ast.dump(node))


def _norm(node: ast.expr) -> str:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return union([_norm(node.left), _norm(node.right)])
    if isinstance(node, ast.Subscript):
        base = ALIASES.get(type_name(node.value), type_name(node.value))
        inner = node.slice
        items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if base == "Optional":
            return union([_norm(items[0]), "None"])
        if base == "Union":
            return union([_norm(i) for i in items])
        if base == "Final":
            return _norm(items[0])
        if base == "Literal":
            values = [i.value for i in items if isinstance(i, ast.Constant)]
            return union(sorted({value_type(v) for v in values})) if values else ANY
        if base in ("list", "set"):
            return f"{base}[{_norm(items[0])}]"
        if base == "dict" and len(items) == 2:
            return f"dict[{_norm(items[0])}, {_norm(items[1])}]"
        if base == "tuple":
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
                return f"list[{_norm(items[0])}]"
            return "tuple[" + ", ".join(_norm(i) for i in items) + "]"
        raise _Unsupported(base)
    base = ALIASES.get(type_name(node), type_name(node))
    if base == "Final":
        return ANY
    if base in ATOMS:
        return base
    if base in CONTAINERS:
        return _BARE[base]
    raise _Unsupported(base)


def union(parts: list[str]) -> str:
    """``A | B`` of type texts, flattened, each member once, in first-seen order."""
    flat: list[str] = []
    for part in parts:
        for piece in split_union(part):
            if piece not in flat:
                flat.append(piece)
    return " | ".join(flat)


def split_union(text: str) -> list[str]:
    """The members of a union's text (top level only)."""
    depth, start, out = 0, 0, []
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    out.append(text[start:].strip())
    return out


def value_type(value: Any) -> str:
    """The type-language text of a literal value (doctest arguments, defaults)."""
    if value is None:
        return "None"
    kind = type(value)
    if kind in _VALUE_TYPES:
        return _VALUE_TYPES[kind]
    if kind in (list, tuple):
        if kind is tuple and 0 < len(value) <= 4 and len({value_type(v) for v in value}) > 1:
            return "tuple[" + ", ".join(value_type(v) for v in value) + "]"
        return f"list[{_element_type(value)}]"
    if kind in (set, frozenset):
        return f"set[{_element_type(value)}]"
    if kind is dict:
        return f"dict[{_element_type(list(value))}, {_element_type(list(value.values()))}]"
    return ANY


def _element_type(values: Any) -> str:
    kinds = sorted({value_type(v) for v in values})
    if not kinds:
        return "int"
    if len(kinds) == 1:
        return kinds[0]
    if set(kinds) == {"float", "int"}:
        return "float"
    return " | ".join(kinds[:3])
