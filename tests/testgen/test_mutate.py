"""Type-aware mutation of seed inputs: types kept, deterministic, distinct, bounded."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codefoundry.testgen.mutate import Bounds, mutate_inputs

SEEDS: list[list[Any]] = [
    [[1, 2, 3], "abc", 4, 2.5, True, None, {"a": 1, "b": 2}, (1, 2)],
    [[10, -4], "Hello World", 0, -1.0, False, None, {"x": 3}, (0, 0)],
]


def _shape(value: Any) -> Any:
    """The type structure of a value: element types of containers, as sets (lengths vary)."""
    if isinstance(value, list):
        return ("list", frozenset(_shape(v) for v in value))
    if isinstance(value, tuple):
        return ("tuple", tuple(_shape(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset(_shape(k) for k in value), frozenset(_shape(v) for v in value.values()))
    return type(value).__name__


def _fits(shape: Any, seed_shape: Any) -> bool:
    """``shape`` uses only the types of ``seed_shape`` (an emptied container fits any)."""
    if not isinstance(shape, tuple):
        return bool(shape == seed_shape)
    if not isinstance(seed_shape, tuple) or shape[0] != seed_shape[0]:
        return False
    if shape[0] == "tuple":
        return all(_fits(a, b) for a, b in zip(shape[1], seed_shape[1], strict=True))
    return all(
        any(_fits(part, allowed) for allowed in seed_shape[k])
        for k in range(1, len(shape))
        for part in shape[k]
    )


def test_types_are_kept() -> None:
    out = mutate_inputs(SEEDS, 200, seed=7)
    assert len(out) == 200
    seed_shapes = [_shape(v) for v in SEEDS[0]]
    for args in out:
        assert len(args) == len(SEEDS[0])
        assert args[5] is None
        for value, seed_shape in zip(args, seed_shapes, strict=True):
            assert _fits(_shape(value), seed_shape), (value, seed_shape)
    assert {type(a[4]) for a in out} == {bool}  # a bool never becomes an int
    assert any(a[0] == [] for a in out) and any(len(a[0]) > 3 for a in out)  # lists shrink and grow
    assert any(len(a[6]) == 0 for a in out) and any(len(a[6]) > 2 for a in out)


def test_deterministic_across_processes() -> None:
    here = mutate_inputs(SEEDS, 50, seed=3)
    code = (
        "import json; from codefoundry.testgen.mutate import mutate_inputs; from tests.testgen.test_mutate import SEEDS;"
        "from codefoundry.judge.codec import encode; print(json.dumps(encode(mutate_inputs(SEEDS, 50, seed=3))))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "99", **_env()},
    )
    from codefoundry.judge.codec import encode

    assert json.loads(there.stdout) == encode(here)
    assert mutate_inputs(SEEDS, 50, seed=4) != here


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}


def test_sets_mutate_deterministically() -> None:
    seeds = [[frozenset({"apple", "pear", "fig"}), Fraction(1, 3)]]
    assert mutate_inputs(seeds, 20, seed=1) == mutate_inputs(seeds, 20, seed=1)
    assert all(
        isinstance(a[0], frozenset) and isinstance(a[1], Fraction) for a in mutate_inputs(seeds, 20, seed=1)
    )


def test_distinct_and_never_a_seed() -> None:
    out = mutate_inputs(SEEDS, 300, seed=11)
    keys = [json.dumps(repr(a)) for a in out]
    assert len(set(keys)) == len(keys)
    assert not any(a in SEEDS for a in out)


def test_sizes_are_bounded() -> None:
    bounds = Bounds(max_len=6, max_chars=120)
    out = mutate_inputs([[[1, 2, 3, 4], "abcdef"]], 300, seed=5, max_size=bounds)
    assert out
    for args in out:
        assert len(args[0]) <= 6 and len(args[1]) <= 6
        assert len(json.dumps(args)) <= 120
        assert all(abs(v) <= 10**12 for v in args[0])


def test_nothing_to_mutate() -> None:
    assert mutate_inputs([[None], [[]]], 10, seed=1) == []  # None stays, an empty list of unknown type too
    assert mutate_inputs([], 10, seed=1) == []
    assert mutate_inputs(SEEDS, 0, seed=1) == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-50, 50), st.text(max_size=5), st.lists(st.integers(-5, 5), max_size=4)),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 1000),
)
def test_any_seed_keeps_argument_types(seeds: list[tuple[int, str, list[int]]], seed: int) -> None:
    out = mutate_inputs([list(s) for s in seeds], 15, seed=seed)
    for number, text, items in out:
        assert type(number) is int and type(text) is str and all(type(i) is int for i in items)
