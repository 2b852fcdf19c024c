"""A small language of argument types, and the hypothesis strategies and boundary values for each.

Types are written as Python annotation text over plain data: ``int``, ``float``, ``str``, ``bytes``,
``bool``, ``None``, ``list[T]``, ``set[T]``, ``dict[K, V]``, ``tuple[T, ...]`` and unions ``A | B``. They
come from type hints (normalised from ``typing`` spellings), from the values in doctests and defaults, from
parameter names, and from execution-based probing. Strategies are built with ``hypothesis.strategies`` and
kept small: mined functions are real code, and a test should read like one.
"""

from __future__ import annotations

import ast
import functools
import re
import string
from typing import Any

from hypothesis import strategies as st

ANY = "any"
# what ``typing`` spells differently
_ALIASES = {
    "List": "list", "Sequence": "list", "MutableSequence": "list", "Iterable": "list", "Collection": "list",
    "Iterator": "list", "Reversible": "list", "Dict": "dict", "Mapping": "dict", "MutableMapping": "dict",
    "Set": "set", "FrozenSet": "set", "frozenset": "set", "AbstractSet": "set", "MutableSet": "set",
    "Tuple": "tuple", "AnyStr": "str", "Text": "str", "SupportsInt": "int", "SupportsFloat": "float",
    "SupportsIndex": "int", "NoneType": "None", "Any": ANY, "object": ANY, "Hashable": ANY,
    "bytearray": "bytes", "ByteString": "bytes", "Real": "float", "Integral": "int", "Number": "float",
}  # fmt: skip
_ATOMS = {"int", "float", "str", "bytes", "bool", "None", ANY}
_CONTAINERS = {"list", "set", "dict", "tuple"}

# characters for generated text: mostly ASCII that real code handles, plus a few that break naive code
TEXT_ALPHABET = string.ascii_letters + string.digits + " .,:;-_/'\"()[]{}<>=+*#@!?%&\\\t\n" + "éßü中"


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


class _Unsupported(Exception):
    pass


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    raise _Unsupported(ast.dump(node))


def _norm(node: ast.expr) -> str:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_norm(node.left), _norm(node.right)])
    if isinstance(node, ast.Subscript):
        base = _ALIASES.get(_name(node.value), _name(node.value))
        inner = node.slice
        items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if base in ("Optional",):
            return _union([_norm(items[0]), "None"])
        if base == "Union":
            return _union([_norm(i) for i in items])
        if base == "Literal":
            values = [i.value for i in items if isinstance(i, ast.Constant)]
            return _union(sorted({value_type(v) for v in values})) if values else ANY
        if base in ("list", "set"):
            return f"{base}[{_norm(items[0])}]"
        if base == "dict" and len(items) == 2:
            return f"dict[{_norm(items[0])}, {_norm(items[1])}]"
        if base == "tuple":
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
                return f"list[{_norm(items[0])}]"
            return "tuple[" + ", ".join(_norm(i) for i in items) + "]"
        raise _Unsupported(base)
    base = _ALIASES.get(_name(node), _name(node))
    if base in _ATOMS:
        return base
    if base in _CONTAINERS:
        return {"list": "list[int]", "set": "set[int]", "dict": "dict[str, int]", "tuple": "list[int]"}[base]
    raise _Unsupported(base)


def _union(parts: list[str]) -> str:
    flat: list[str] = []
    for part in parts:
        for piece in _split_union(part):
            if piece not in flat:
                flat.append(piece)
    return " | ".join(flat)


def _split_union(text: str) -> list[str]:
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
    if kind in (bool, int, float, str, bytes):
        return kind.__name__
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


@functools.lru_cache(maxsize=512)
def strategy(type_text: str, small: bool = True) -> st.SearchStrategy[Any]:
    """A hypothesis strategy for plain values of ``type_text``."""
    return _strategy(ast.parse(type_text, mode="eval").body, small)


def _strategy(node: ast.expr, small: bool) -> st.SearchStrategy[Any]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return st.one_of(_strategy(node.left, small), _strategy(node.right, small))
    if isinstance(node, ast.Subscript):
        base = _name(node.value)
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
    name = _name(node)
    if name == "int":
        # small non-negative values are the most common valid domain (counts, sizes, indices, months)
        small_ints = st.integers(0, 12)
        return st.one_of(
            small_ints, small_ints, small_ints, st.integers(-100, 1000), st.integers(-(10**6), 10**6)
        )
    if name == "float":
        return st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False, width=32)
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


_BOUNDARY: dict[str, list[Any]] = {
    "int": [0, 1, -1, 2, 7, 10, 100, 1000, 123456789],
    "float": [0.0, 1.0, -1.0, 0.5, 2.75, -3.25, 1e-3, 12345.678],
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
        base = _name(node.value)
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
    return list(_BOUNDARY.get(_name(node), _BOUNDARY[ANY]))


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


# parameter-name hints for untyped parameters, most specific first
_NAME_HINTS: list[tuple[tuple[str, ...], str]] = [
    (
        ("flag", "strict", "reverse", "verbose", "quiet", "force", "recursive", "keepends", "ignorecase"),
        "bool",
    ),
    (
        (
            "s",
            "st",
            "string",
            "text",
            "txt",
            "name",
            "word",
            "prefix",
            "suffix",
            "sep",
            "path",
            "url",
            "line",
            "char",
            "c",
            "ch",
            "pattern",
            "pat",
            "fmt",
            "format",
            "encoding",
            "errors",
            "mode",
            "ident",
            "host",
            "addr",
            "address",
            "tag",
            "msg",
            "message",
            "doc",
            "source",
            "src",
            "header",
            "label",
            "title",
            "filename",
            "fn",
            "p",
            "str",
            "template",
            "value_str",
            "input",
            "content",
            "chars",
            "delimiter",
            "quote",
            "token",
            "key",
            "newline",
            "field",
            "netloc",
            "scheme",
            "query",
            "fragment",
            "attr",
            "attrname",
            "modname",
            "module",
            "qualname",
            "typename",
            "cmd",
            "command",
            "arg",
            "word_sep",
            "email",
            "domain",
            "charset",
            "subtype",
            "maintype",
            "ctype",
            "hex",
            "hexstr",
            "template",
        ),
        "str",
    ),
    (
        (
            "n",
            "i",
            "j",
            "k",
            "num",
            "number",
            "count",
            "size",
            "width",
            "length",
            "len",
            "index",
            "idx",
            "pos",
            "start",
            "end",
            "stop",
            "step",
            "base",
            "level",
            "depth",
            "limit",
            "offset",
            "year",
            "month",
            "day",
            "hour",
            "minute",
            "second",
            "code",
            "bits",
            "flags",
            "mask",
            "port",
            "precision",
            "places",
            "digits",
            "indent",
            "tabsize",
            "maxsplit",
            "lineno",
            "col",
            "r",
            "m",
            "nbytes",
            "integer",
            "int",
            "ndigits",
            "maxlen",
            "days",
            "weeks",
        ),
        "int",
    ),
    (("x", "y", "z", "f", "ratio", "angle", "value", "val", "v", "weight", "q", "t"), "float"),
    (
        (
            "items",
            "seq",
            "sequence",
            "iterable",
            "values",
            "lst",
            "list",
            "elements",
            "data",
            "xs",
            "arr",
            "array",
            "pairs",
            "coll",
            "collection",
            "iterables",
            "args",
            "nums",
            "numbers",
            "l",
            "li",
            "population",
            "points",
            "a_list",
            "iter",
        ),
        "list[int]",
    ),
    (("words", "parts", "lines", "paths", "names", "strings", "strs", "fields", "tokens"), "list[str]"),
    (("d", "dct", "mapping", "dict", "table", "kwargs", "kw", "map", "params", "env"), "dict[str, int]"),
    (
        (
            "b", "buf", "buffer", "bytes", "byts", "raw", "payload", "octets", "binary", "packed", "blob",
            "bs", "bdata", "binstr", "hexdata", "der_cert_bytes",
        ),
        "bytes",
    ),
]  # fmt: skip
CANDIDATE_TYPES = ("int", "str", "list[int]", "bytes", "float", "list[str]", "dict[str, int]", "bool")
# a second guess for names that commonly stand for two types (``data`` is a list or bytes, ``s`` text or bytes)
_SECOND_HINTS = {
    "data": "bytes", "s": "bytes", "c": "bytes", "string": "bytes", "input": "bytes", "line": "bytes",
    "text": "bytes", "source": "bytes", "src": "bytes", "x": "int", "value": "int", "val": "int",
    "v": "int", "items": "list[str]", "seq": "list[str]", "sequence": "list[str]", "iterable": "list[str]",
    "lines": "list[str]", "args": "list[str]", "values": "list[str]", "parts": "list[str]", "a": "list[int]",
    "obj": "str", "o": "str", "arg": "int", "key": "int", "d": "dict[str, str]", "mapping": "dict[str, str]",
}  # fmt: skip
# words in a docstring that point at a type for the parameters that have no better hint
_DOC_HINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bbytes\b|bytes-like|byte string|bytestring|\bbinary\b|\boctets?\b", re.I), "bytes"),
    (re.compile(r"\blist of (?:str|string|name|word|line)s?\b|\bsequence of (?:str|string)s?\b", re.I),
     "list[str]"),
    (re.compile(r"\b(?:list|sequence|iterable) of (?:int|integer|number)s?\b", re.I), "list[int]"),
    (re.compile(r"\b(?:dict|dictionary|mapping)\b", re.I), "dict[str, int]"),
]  # fmt: skip


def name_hint(name: str, *, suffixes: bool = True) -> str | None:
    """A type guessed from a parameter's name (``s`` -> str, ``n`` -> int, ``items`` -> list[int]); with
    ``suffixes`` also from how it ends (``widths`` -> list[str]), a weaker guess."""
    lowered = name.lower().strip("_")
    for names, type_text in _NAME_HINTS:
        if lowered in names:
            return type_text
    if not suffixes:
        return None
    for suffix, type_text in (
        ("s", "list[str]"),
        ("str", "str"),
        ("name", "str"),
        ("count", "int"),
        ("num", "int"),
        ("bytes", "bytes"),
    ):
        if lowered.endswith(suffix) and len(lowered) > 3:
            return type_text
    return None


def doc_hints(docstring: str) -> list[str]:
    """Types a docstring's words point at (``bytes-like object`` -> bytes), most telling first."""
    return [type_text for pattern, type_text in _DOC_HINTS if pattern.search(docstring or "")]


def candidates_for(name: str, docstring: str = "") -> list[str]:
    """Types to try for an untyped parameter: the name's hint, its second guess, the docstring's, the rest."""
    lowered = name.lower().strip("_")
    out: list[str] = []
    for type_text in [name_hint(name), _SECOND_HINTS.get(lowered), *doc_hints(docstring), *CANDIDATE_TYPES]:
        if type_text and type_text not in out:
            out.append(type_text)
    return out
