"""Plain data: the only thing a child may hand back, and how it travels as JSON.

Accepted: None, bool, int, float, str, list, tuple (becomes a list), dict, bytes, set/frozenset, matched by
exact type first. JSON cannot carry a few of these, so they travel as one-key tagged objects:

- ``{"__float__": "nan" | "inf" | "-inf"}`` for non-finite floats,
- ``{"__bytes__": "<hex>"}`` for bytes,
- ``{"__int__": "0x..."}`` for ints too large for Python's decimal conversion guard,
- ``{"__set__": [...]}`` for set/frozenset (decoded to ``frozenset``),
- ``{"__dict__": [[k, v], ...]}`` for dicts whose keys are not all strings, or that look like a tag,
- ``{"__decimal__": "1.50"}`` (``decimal.Decimal``, also ``_pydecimal``'s), ``{"__fraction__": [n, d]}``,
  ``{"__complex__": [re, im]}``: exact numbers other than int/float.

Subclasses of the plain types (``Counter``, ``OrderedDict``, a named tuple, an ``IntEnum`` member, a ``str``
subclass carrying extra attributes) are copied as what ``json`` would make of them: the content of the plain
base type, read through the base type's own methods so no override of theirs runs (a "lying" ``__eq__`` is
simply not copied: the supervisor compares plain data only). A generator, ``range``, dict view or
builtin/itertools iterator becomes the list of the items it yields (at most ``MAX_ITEMS``), so a function
written as a generator and one returning a list are judged alike.

This is the one definition of the tagged form. Stdlib only: the same module runs in the child (encoding)
and in the supervisor (decoding); labelling collects the reference's outputs through it, and stored test
values (``judge.codec``) are this form with set members sorted.
"""

from __future__ import annotations

import decimal
import fractions
import itertools
import json
import math
import sys
import types
from typing import Any

TAGS = (
    "__float__",
    "__bytes__",
    "__set__",
    "__dict__",
    "__int__",
    "__decimal__",
    "__fraction__",
    "__complex__",
)
MAX_ITEMS = 100_000  # items taken from an iterator result; a longer one is refused
_BIG_BITS = 13_000  # beyond ~3900 decimal digits ints travel as hex (not subject to the 4300-digit guard)
_MAX_DEPTH = 200

# Captured at import, before any candidate code runs in the child.
_type = type
_len = len
_isnan = math.isnan
_isinf = math.isinf
_list = list
_dict = dict
_str = str
_int = int
_float = float
_bool = bool
_bytes = bytes
_tuple = tuple
_set = set
_frozenset = frozenset
_none = type(None)
# one encoder/decoder each, built once: json.dumps/loads with options build a new one per call
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_Decimal = decimal.Decimal
_Fraction = fractions.Fraction
_complex = complex
_decimal_str = decimal.Decimal.__str__
_tuple_iter = tuple.__iter__
_modules = sys.modules
_issubclass = issubclass
_getattr = getattr
_ITERATORS = frozenset(
    {
        types.GeneratorType,
        map,
        filter,
        zip,
        enumerate,
        reversed,
        range,
        type({}.keys()),
        type({}.values()),
        type({}.items()),
        type(iter([])),
        type(iter(())),
        type(iter("")),
        type(iter(range(0))),
    }
    | {v for v in vars(itertools).values() if isinstance(v, type) and hasattr(v, "__next__")}
)


class Unserialisable(Exception):
    """The value is not plain data."""


def to_plain(x: Any, depth: int = 0) -> Any:
    """Copy ``x`` into JSON-able plain data, refusing anything that is not exactly a plain type."""
    if depth > _MAX_DEPTH:
        raise Unserialisable("nesting too deep")
    t = _type(x)
    if t is _none or t is _bool or t is _str:
        return x
    if t is _int:
        return x if x.bit_length() < _BIG_BITS else {"__int__": hex(x)}
    if t is _float:
        if _isnan(x):
            return {"__float__": "nan"}
        if _isinf(x):
            return {"__float__": "inf" if x > 0 else "-inf"}
        return x
    if t is _list or t is _tuple:
        return [to_plain(v, depth + 1) for v in x]
    if t is _dict:
        keys = _list(x.keys())
        if all(_type(k) is _str for k in keys) and not (_len(keys) == 1 and keys[0] in TAGS):
            return {k: to_plain(x[k], depth + 1) for k in keys}
        return {"__dict__": [[to_plain(k, depth + 1), to_plain(x[k], depth + 1)] for k in keys]}
    if t is _bytes:
        return {"__bytes__": x.hex()}
    if t is _set or t is _frozenset:
        return {"__set__": [to_plain(v, depth + 1) for v in x]}
    if t is _complex:
        return {"__complex__": [to_plain(x.real, depth + 1), to_plain(x.imag, depth + 1)]}
    if t is _Fraction:
        return {"__fraction__": [to_plain(x.numerator, depth + 1), to_plain(x.denominator, depth + 1)]}
    if t is _Decimal:
        return {"__decimal__": _decimal_str(x)}
    pydecimal = _modules.get("_pydecimal")
    if pydecimal is not None and t is _getattr(pydecimal, "Decimal", None):
        return {"__decimal__": pydecimal.Decimal.__str__(x)}
    if _issubclass(t, _str):
        return _str.__str__(x)
    if _issubclass(t, _int):
        return to_plain(_int.__int__(x), depth)
    if _issubclass(t, _float):
        return to_plain(_float.__float__(x), depth)
    if _issubclass(t, _bytes):
        return {"__bytes__": _bytes.hex(x)}
    if _issubclass(t, _list):
        return [to_plain(v, depth + 1) for v in _list.__iter__(x)]
    if _issubclass(t, _tuple):
        return [to_plain(v, depth + 1) for v in _tuple_iter(x)]
    if _issubclass(t, _dict):
        return to_plain(_dict(_dict.items(x)), depth)
    if _issubclass(t, _frozenset):
        return {"__set__": [to_plain(v, depth + 1) for v in _frozenset.__iter__(x)]}
    if _issubclass(t, _set):
        return {"__set__": [to_plain(v, depth + 1) for v in _set.__iter__(x)]}
    if t in _ITERATORS:
        items = []
        for v in x:
            if _len(items) >= MAX_ITEMS:
                raise Unserialisable(f"iterator yields more than {MAX_ITEMS} items")
            items.append(to_plain(v, depth + 1))
        return items
    raise Unserialisable(f"unserialisable result of type {t.__name__!s}")


def dumps_plain(x: Any) -> str:
    """Encode a plain value as compact JSON (raises Unserialisable)."""
    return _dumps(to_plain(x))


def _big_int(s: str) -> int:
    """int() without the 4300-digit guard (the text is already size-capped by the caller)."""
    if len(s) <= 4000:
        return int(s)
    neg = s.startswith("-")
    digits = s[1:] if neg else s
    acc = 0
    for i in range(0, len(digits), 4000):
        chunk = digits[i : i + 4000]
        acc = acc * 10 ** len(chunk) + int(chunk)
    return -acc if neg else acc


def _no_constants(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _freeze(v: Any) -> Any:
    """Hashable form of a decoded value (for set members and dict keys)."""
    if type(v) is list:
        return tuple(_freeze(x) for x in v)
    if type(v) is dict:
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    return v


def from_json_value(v: Any) -> Any:
    """Undo the tagging on a value produced by ``json.loads``."""
    if type(v) is list:
        return [from_json_value(x) for x in v]
    if type(v) is dict:
        if len(v) == 1:
            ((k, inner),) = v.items()
            if k == "__float__" and inner in ("nan", "inf", "-inf"):
                return float(inner)
            if k == "__int__" and type(inner) is str:
                return int(inner, 16)
            if k == "__bytes__" and type(inner) is str:
                return bytes.fromhex(inner)
            if k == "__decimal__" and type(inner) is str:
                try:
                    return decimal.Decimal(inner)
                except decimal.InvalidOperation:
                    raise ValueError("malformed __decimal__") from None
            if k == "__fraction__" and type(inner) is list and len(inner) == 2:
                n, d = (from_json_value(x) for x in inner)
                if type(n) is not int or type(d) is not int or d == 0:
                    raise ValueError("malformed __fraction__")
                return fractions.Fraction(n, d)
            if k == "__complex__" and type(inner) is list and len(inner) == 2:
                re, im = (from_json_value(x) for x in inner)
                if type(re) is not float or type(im) is not float:
                    raise ValueError("malformed __complex__")
                return complex(re, im)
            if k == "__set__" and type(inner) is list:
                return frozenset(_freeze(from_json_value(x)) for x in inner)
            if k == "__dict__" and type(inner) is list:
                out = {}
                for pair in inner:
                    if type(pair) is not list or len(pair) != 2:
                        raise ValueError("malformed __dict__ pair")
                    out[_freeze(from_json_value(pair[0]))] = from_json_value(pair[1])
                return out
        return {k: from_json_value(x) for k, x in v.items()}
    return v


_DECODER = json.JSONDecoder(parse_int=_big_int, parse_constant=_no_constants)


def loads_plain(text: str) -> Any:
    """Parse JSON text sent by an untrusted child into plain Python data (raises ValueError)."""
    if not isinstance(text, str):
        raise ValueError("plain data must arrive as text")
    return from_json_value(_DECODER.decode(text))


def normalise(x: Any) -> Any:
    """Bring a caller-supplied value (e.g. an expected output) into the decoded plain form."""
    return loads_plain(dumps_plain(x))
