"""Argument lists from a prompt's type hints."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from codefoundry.judge.codec import encode
from codefoundry.testgen.signature import hinted_parameters, signature_inputs

TYPING = '''import typing
from typing import Dict, List, Optional, Tuple


def f(xs: List[int], pair: Tuple[str, float], table: Dict[str, int], tag: Optional[str], ys: typing.List[bool], k: int = 3) -> int:
    """Doc."""
'''  # noqa: E501


def test_typing_aliases_are_understood() -> None:
    params, note = hinted_parameters(TYPING, "f")
    assert note == ""
    assert [p.type for p in params] == [
        "list[int]",
        "tuple[str, float]",
        "dict[str, int]",
        "str | None",
        "list[bool]",
    ]


def test_values_fit_the_hints() -> None:
    result = signature_inputs(TYPING, "f", 30, seed=1)
    assert len(result.inputs) == 30
    for xs, pair, table, tag, ys in result.inputs:  # the optional ``k`` is left to its default
        assert isinstance(xs, list) and all(type(x) is int for x in xs)
        assert isinstance(pair, tuple) and type(pair[0]) is str and type(pair[1]) is float
        assert isinstance(table, dict) and all(type(k) is str and type(v) is int for k, v in table.items())
        assert tag is None or type(tag) is str
        assert all(type(y) is bool for y in ys)
    assert [] in [row[0] for row in result.inputs]  # a boundary value
    assert len({json.dumps(encode(row)) for row in result.inputs}) == 30


@pytest.mark.parametrize(
    ("prompt", "why"),
    [
        ("def f(x, y: int):\n    pass\n", "parameter x has no type hint"),
        ("from typing import Any\ndef f(x: Any):\n    pass\n", "parameter x: hint allows any value"),
        ("def f(x: Widget):\n    pass\n", "parameter x: hint is not plain data"),
        ("def f(*xs: int):\n    pass\n", "only *xs: the number of arguments is unknown"),
        ("def g(x: int):\n    pass\n", "the prompt does not define f"),
    ],
)
def test_unsupported_hints_yield_nothing_and_say_why(prompt: str, why: str) -> None:
    result = signature_inputs(prompt, "f", 10, seed=1)
    assert result.inputs == [] and result.note == why


def test_no_parameters_is_one_empty_call() -> None:
    assert signature_inputs("def f() -> int:\n    return 1\n", "f", 10, seed=1).inputs == [[]]


def test_deterministic_across_processes() -> None:
    code = (
        "import json,sys; from codefoundry.testgen.signature import signature_inputs; from codefoundry.judge.codec "
        "import encode; print(json.dumps(encode(signature_inputs(sys.argv[1], 'f', 25, seed=9).inputs)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    there = subprocess.run(
        [sys.executable, "-c", code, TYPING], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(there.stdout) == encode(signature_inputs(TYPING, "f", 25, seed=9).inputs)
    assert (
        signature_inputs(TYPING, "f", 25, seed=10).inputs != signature_inputs(TYPING, "f", 25, seed=9).inputs
    )
