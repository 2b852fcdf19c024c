"""Type-aware mutation of seed inputs (EvalPlus style): new argument lists near the ones a task already has.

Prompt examples and existing tests sit where a task's interesting behaviour is (valid shapes, meaningful
values); random draws from a type rarely land there. Mutating them keeps that shape while moving the values:
integers step by one, negate, double, hit a boundary; strings gain, lose, swap or repeat characters; lists
lose, repeat, insert (a mutated copy of an element), swap or reverse elements; dicts lose an item or gain a
modified copy of one. Every mutation keeps each argument's type (an ``int`` never becomes a ``str``, an element
is only ever replaced by a mutated element), ``None`` stays ``None``, and sizes are bounded. Mutants are
mutated again (a pool grows from the seeds), all from one ``random.Random(seed)``: the same seeds and seed give
the same inputs in every process (sets are visited in a sorted order, never their hash order).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from random import Random
from typing import Any

from codefoundry.judge.codec import NotPlain, dumps, encode
from codefoundry.testgen.strategies import BOUNDARY, TEXT_ALPHABET

MAX_INT = 10**12  # integers past this are replaced by a boundary value: doubling must not run away
ATTEMPTS_PER_INPUT = 20


@dataclass(frozen=True)
class Bounds:
    """How large a mutated input may grow: items in a container or characters in a string, and the whole
    argument list's JSON text."""

    max_len: int = 24
    max_chars: int = 400
    alphabet: str = ""  # the characters strings may gain: the seeds' own (set by mutate_inputs)


def _characters(value: Any, found: set[str]) -> None:
    """Every character of every string inside ``value``."""
    if isinstance(value, str):
        found.update(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _characters(item, found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _characters(key, found)
            _characters(item, found)


def mutate_inputs(
    seeds: list[list[Any]], count: int, seed: int, max_size: Bounds | None = None
) -> list[list[Any]]:
    """Up to ``count`` distinct argument lists, each a mutation of a seed or of an earlier mutant; none equals a
    seed. Deterministic for the same ``seeds``, ``count`` and ``seed``."""
    found: set[str] = set()
    _characters(seeds, found)
    bounds = dataclasses.replace(max_size or Bounds(), alphabet="".join(sorted(found)))
    rng = Random(seed)
    pool = [list(args) for args in seeds if _mutable(args)]
    seen = {_key(args) for args in seeds}
    out: list[list[Any]] = []
    attempts = 0
    while pool and len(out) < count and attempts < ATTEMPTS_PER_INPUT * count:
        attempts += 1
        parent = rng.choice(pool)
        positions = [i for i, value in enumerate(parent) if value is not None]
        child = copy.deepcopy(parent)
        position = rng.choice(positions)
        changed = mutate_value(child[position], rng, bounds)
        if changed is _UNCHANGED:
            continue
        child[position] = changed
        key = _key(child)
        if key in seen or len(key) > bounds.max_chars:
            continue
        seen.add(key)
        out.append(child)
        pool.append(child)
    return out


class _Unchanged:
    """No mutation applies (an empty list whose element type is unknown, ``None``)."""


_UNCHANGED: Any = _Unchanged()


def mutate_value(value: Any, rng: Random, bounds: Bounds) -> Any:
    """One mutation of ``value`` of the same type, or ``_UNCHANGED`` when none applies."""
    kind = type(value)
    mutator = _MUTATORS.get(kind)
    if mutator is None:
        return _UNCHANGED
    return mutator(value, rng, bounds)


def _mutable(args: list[Any]) -> bool:
    return any(value is not None for value in args)


def _key(args: list[Any]) -> str:
    try:
        return dumps(encode(args))
    except NotPlain:
        return repr(args)


def _bool(value: bool, rng: Random, bounds: Bounds) -> bool:
    return not value


def _int(value: int, rng: Random, bounds: Bounds) -> int:
    options = [value + 1, value - 1, -value, 0, value * 2, rng.choice(BOUNDARY["int"])]
    new = rng.choice([o for o in options if o != value] or options)
    return new if abs(new) <= MAX_INT else rng.choice(BOUNDARY["int"][:6])


def _float(value: float, rng: Random, bounds: Bounds) -> float:
    small = round(rng.uniform(-1.0, 1.0), 3) or 0.5
    options = [value + small, value - small, value * 2, 0.0, -value, rng.choice(BOUNDARY["float"])]
    new = rng.choice([o for o in options if o != value] or options)
    return round(new, 6) if math.isfinite(new) and abs(new) <= MAX_INT else 1.0


def _number(value: Any, rng: Random, bounds: Bounds) -> Any:
    """Decimal, Fraction, complex: step, negate, double."""
    one = type(value)(1)
    options = [value + one, value - one, -value, value * 2]
    return rng.choice([o for o in options if o != value] or options)


def _str(value: str, rng: Random, bounds: Bounds) -> str:
    # the seeds' own characters, as EvalPlus mutates from its seeds' ingredients: a task whose examples are
    # strings of "<" and ">" gets inputs of "<" and ">", not of characters its domain excludes
    alphabet = bounds.alphabet or value or TEXT_ALPHABET
    i = rng.randrange(len(value) + 1)
    ops: list[Callable[[], str]] = [
        lambda: value[:i] + rng.choice(alphabet) + value[i:],  # insert
        lambda: "",  # empty
    ]
    if value:
        j = min(len(value), i + rng.randint(1, 3))
        k = min(i, len(value) - 1)
        ops += [
            lambda: value[:k] + value[k + 1 :],  # delete
            lambda: value[:k] + rng.choice(alphabet) + value[k + 1 :],  # replace
            lambda: value[:j] + value[i:j] + value[j:],  # duplicate a slice
            lambda: value[::-1],  # reverse
            lambda: value.swapcase(),
        ]
    new = _pick(ops, value, rng)
    return new if len(new) <= bounds.max_len else value[: bounds.max_len - 1]


def _bytes(value: bytes, rng: Random, bounds: Bounds) -> bytes:
    text = _str(value.decode("latin-1"), rng, bounds)
    return (
        text.encode("latin-1", errors="replace") if all(ord(c) < 256 for c in text) else value[::-1] + b"\x00"
    )


def _list(value: list[Any], rng: Random, bounds: Bounds) -> Any:
    if not value:
        return _UNCHANGED  # the element type is unknown: nothing to insert that keeps it
    i, j = rng.randrange(len(value)), rng.randrange(len(value))
    ops: list[Callable[[], Any]] = [
        lambda: value[:i] + value[i + 1 :],  # remove
        lambda: [*value[:j], copy.deepcopy(value[i]), *value[j:]],  # duplicate
        lambda: [*value[:j], _element(value[i], rng, bounds), *value[j:]],  # insert a mutated element
        lambda: [*value[:i], _element(value[i], rng, bounds), *value[i + 1 :]],  # mutate one in place
        lambda: _swapped(value, i, j),
        lambda: value[::-1],
        lambda: [],
        lambda: value + copy.deepcopy(value),  # extend
    ]
    new = _pick(ops, value, rng)
    return new if len(new) <= bounds.max_len else new[: bounds.max_len]


def _tuple(value: tuple[Any, ...], rng: Random, bounds: Bounds) -> Any:
    """A tuple's length is usually its meaning (a pair, an interval): only its elements change."""
    if not value:
        return _UNCHANGED
    i = rng.randrange(len(value))
    new = mutate_value(value[i], rng, bounds)
    return _UNCHANGED if new is _UNCHANGED else (*value[:i], new, *value[i + 1 :])


def _dict(value: dict[Any, Any], rng: Random, bounds: Bounds) -> Any:
    if not value:
        return _UNCHANGED
    items = list(value.items())
    key, item = items[rng.randrange(len(items))]
    choice = rng.randrange(3)
    if choice == 0:  # drop the item
        return {k: v for k, v in items if k != key}
    if choice == 1:  # change the value
        return {**value, key: _element(item, rng, bounds)}
    new_key = _element(key, rng, bounds)  # a modified copy of the item under another key
    if len(value) >= bounds.max_len or new_key in value:
        return {k: v for k, v in items if k != key}
    return {**value, new_key: _element(item, rng, bounds)}


def _set(value: frozenset[Any] | set[Any], rng: Random, bounds: Bounds) -> Any:
    members = sorted(value, key=repr)  # hash order differs between processes
    if not members:
        return _UNCHANGED
    member = members[rng.randrange(len(members))]
    if rng.random() < 0.5 or len(members) >= bounds.max_len:
        return type(value)(m for m in members if m != member)
    return type(value)([*members, _element(member, rng, bounds)])


def _element(value: Any, rng: Random, bounds: Bounds) -> Any:
    """A mutated copy of a container's element (the element itself when it cannot change)."""
    new = mutate_value(value, rng, bounds)
    return copy.deepcopy(value) if new is _UNCHANGED else new


def _swapped(value: list[Any], i: int, j: int) -> list[Any]:
    out = list(value)
    out[i], out[j] = out[j], out[i]
    return out


def _pick(ops: list[Callable[[], Any]], value: Any, rng: Random) -> Any:
    """The first of the operations, in a random order, that changes ``value``."""
    for op in rng.sample(ops, len(ops)):
        new = op()
        if new != value or type(new) is not type(value):
            return new
    return value


_MUTATORS: dict[type, Callable[[Any, Random, Bounds], Any]] = {
    bool: _bool, int: _int, float: _float, complex: _number, Decimal: _number, Fraction: _number, str: _str,
    bytes: _bytes, list: _list, tuple: _tuple, dict: _dict, set: _set, frozenset: _set,
}  # fmt: skip
