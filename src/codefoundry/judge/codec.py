"""Test values as they are stored in records: the sandbox's tagged plain form, made canonical.

There is one plain-data codec, ``sandbox.plaindata``: its tag table and ``to_plain`` are what the sandboxed
child uses to send results back, and ``from_json_value`` is how the supervisor reads them. Stored values
(``TestCase.args`` / ``expected``) are that same tagged form (``{"__bytes__": hex}``, ``{"__set__": [...]}``,
``{"__dict__": [[k, v], ...]}``, ``{"__float__": "nan"}``, ``{"__decimal__": "1.5"}``, ``{"__fraction__":
[n, d]}``, ``{"__complex__": [re, im]}``, tuples as lists) with two extra rules, because they must be
identical across runs and readable: set members are sorted by their JSON text (set iteration order depends
on the hash seed), and integers over ``MAX_INT_BITS`` or nesting deeper than ``MAX_DEPTH`` are refused.
``decode`` turns a stored value back into the Python value handed to the sandbox.
"""

from __future__ import annotations

import json
from typing import Any

from codefoundry.sandbox.plaindata import TAGS, Unserialisable, from_json_value, to_plain

MAX_INT_BITS = 2048  # ~600 digits: larger numbers make unreadable tests (and JSON readers choke on them)
MAX_DEPTH = 100


class NotPlain(ValueError):
    """A value that is not plain data."""


def encode(value: Any) -> Any:
    """Canonical JSON-able form of a plain Python value (anything the sandbox's ``to_plain`` takes: a subclass
    of a plain type as its base type's content, an iterator as the list of its items)."""
    try:
        tagged = to_plain(value)
    except (Unserialisable, RecursionError) as exc:
        raise NotPlain(str(exc)) from None
    return _canonical(tagged, 0)


def _canonical(tagged: Any, depth: int) -> Any:
    """``tagged`` (the sandbox's form) with set members sorted and the size rules applied; depth counts the
    Python value's levels, so a tag's wrapper adds none."""
    if depth > MAX_DEPTH:
        raise NotPlain("nesting too deep")
    kind = type(tagged)
    if kind is str:
        return tagged
    if kind is list:
        return [_canonical(v, depth + 1) for v in tagged]
    if kind is int:
        if tagged.bit_length() > MAX_INT_BITS:
            raise NotPlain(f"integer of {tagged.bit_length()} bits")
        return tagged
    if kind is not dict:
        return tagged  # None, bool, float
    if len(tagged) == 1:
        ((key, inner),) = tagged.items()
        if key == "__set__":
            return {key: sorted((_canonical(v, depth + 1) for v in inner), key=dumps)}
        if key == "__dict__":
            return {key: [[_canonical(k, depth + 1), _canonical(v, depth + 1)] for k, v in inner]}
        if key in ("__fraction__", "__complex__"):
            return {key: [_canonical(v, depth + 1) for v in inner]}
        if key == "__int__":
            raise NotPlain("integer of more than MAX_INT_BITS bits")
        if key in TAGS:
            return tagged  # a scalar's tag: "__float__", "__bytes__", "__decimal__"
    return {k: _canonical(v, depth + 1) for k, v in tagged.items()}


def decode(value: Any) -> Any:
    """The Python value a stored (encoded) value stands for."""
    return from_json_value(value)


_STABLE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode  # built once


def dumps(value: Any) -> str:
    """Stable text of an encoded value (dedup keys, set-member order)."""
    return _STABLE(value)


def size(value: Any) -> int:
    """Rough size of an encoded value, to keep tests readable."""
    return len(dumps(value))
