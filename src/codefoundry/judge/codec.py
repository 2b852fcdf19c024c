"""Test values as they are stored in records: canonical plain JSON, with the sandbox's tags for the rest.

``TestCase.args`` / ``expected`` must survive a JSON round trip unchanged and be identical across runs, so
values are kept in the sandbox's tagged plain form (``{"__bytes__": hex}``, ``{"__set__": [...]}``,
``{"__dict__": [[k, v], ...]}``, ``{"__float__": "nan"}``, ``{"__decimal__": "1.5"}``, ``{"__fraction__":
[n, d]}``, ``{"__complex__": [re, im]}``, tuples as lists) with set members sorted by their
JSON text (set iteration order depends on the hash seed). ``decode`` turns a stored value back into the
Python value handed to the sandbox.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

TAGS = ("__float__", "__bytes__", "__set__", "__dict__", "__decimal__", "__fraction__", "__complex__")


MAX_INT_BITS = 2048  # ~600 digits: larger numbers make unreadable tests (and JSON readers choke on them)


class NotPlain(ValueError):
    """A value that is not plain data."""


def encode(value: Any, depth: int = 0) -> Any:
    """Canonical JSON-able form of a plain Python value."""
    if depth > 100:
        raise NotPlain("nesting too deep")
    kind = type(value)
    if kind is int and value.bit_length() > MAX_INT_BITS:
        raise NotPlain(f"integer of {value.bit_length()} bits")
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        if math.isnan(value):
            return {"__float__": "nan"}
        if math.isinf(value):
            return {"__float__": "inf" if value > 0 else "-inf"}
        return value
    if kind in (list, tuple):
        return [encode(v, depth + 1) for v in value]
    if kind is dict:
        keys = list(value)
        if all(type(k) is str for k in keys) and not (len(keys) == 1 and keys[0] in TAGS):
            return {k: encode(value[k], depth + 1) for k in keys}
        return {"__dict__": [[encode(k, depth + 1), encode(value[k], depth + 1)] for k in keys]}
    if kind is bytes:
        return {"__bytes__": value.hex()}
    if kind in (set, frozenset):
        return {"__set__": sorted((encode(v, depth + 1) for v in value), key=dumps)}
    if kind is Decimal:
        return {"__decimal__": str(value)}
    if kind is Fraction:
        return {"__fraction__": [encode(value.numerator, depth + 1), encode(value.denominator, depth + 1)]}
    if kind is complex:
        return {"__complex__": [encode(value.real, depth + 1), encode(value.imag, depth + 1)]}
    raise NotPlain(f"not plain data: {kind.__name__}")


def decode(value: Any) -> Any:
    """The Python value a stored (encoded) value stands for."""
    if type(value) is list:
        return [decode(v) for v in value]
    if type(value) is dict:
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "__float__":
                return float(inner)
            if key == "__bytes__":
                return bytes.fromhex(inner)
            if key == "__set__":
                return frozenset(_freeze(decode(v)) for v in inner)
            if key == "__dict__":
                return {_freeze(decode(k)): decode(v) for k, v in inner}
            if key == "__decimal__":
                return Decimal(inner)
            if key == "__fraction__":
                return Fraction(*(decode(v) for v in inner))
            if key == "__complex__":
                return complex(*(decode(v) for v in inner))
        return {k: decode(v) for k, v in value.items()}
    return value


def canonical(value: Any) -> Any:
    """Re-encode a value that may already be decoded (e.g. a sandbox output) into canonical form."""
    return encode(_thaw(value))


def _thaw(value: Any) -> Any:
    if type(value) is tuple:
        return [_thaw(v) for v in value]
    if type(value) is list:
        return [_thaw(v) for v in value]
    if type(value) is dict:
        return {k: _thaw(v) for k, v in value.items()}
    return value


def _freeze(value: Any) -> Any:
    if type(value) is list:
        return tuple(_freeze(v) for v in value)
    if type(value) is dict:
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


_STABLE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode  # built once


def dumps(value: Any) -> str:
    """Stable text of an encoded value (dedup keys, set-member order)."""
    return _STABLE(value)


def size(value: Any) -> int:
    """Rough size of an encoded value, to keep tests readable."""
    return len(dumps(value))
