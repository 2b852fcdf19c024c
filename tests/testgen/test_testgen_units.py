"""Pure parts of test generation: doctest calls, types, deterministic draws, encoding, the split."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from codefoundry.judge.codec import decode, dumps, encode
from codefoundry.judge.split import split
from codefoundry.records import TestCase
from codefoundry.testgen.doctests import doctest_calls
from codefoundry.testgen.inputs import (
    Candidate,
    Param,
    add,
    boundary_inputs,
    code_constants,
    hypothesis_inputs,
    parameters,
    shapes,
    storable,
    value_pool,
)
from codefoundry.testgen.probe import assignments, probe_inputs
from codefoundry.testgen.types import candidates_for, normalise_annotation, strategy, value_type

SOURCE = '''
def clamp(value, low=0, high=10):
    """Limit value.

    >>> clamp(15, 0, 10)
    10
    >>> clamp(-3, high=5)
    0
    >>> clamp(x, 0, 1)
    0
    >>> result = clamp(1, 2, 3)
    >>> print(clamp(2))
    2
    >>> clamp([1, 2], "a")
    Traceback (most recent call last):
    TypeError: ...
    """
    return max(low, min(value, high))
'''


def _function(source: str = SOURCE) -> ast.FunctionDef:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    return node


def test_doctest_calls_keep_plain_literal_calls_only() -> None:
    function = _function()
    calls = doctest_calls(ast.get_docstring(function) or "", function)
    # keywords are mapped to positions (gaps filled with literal defaults); names, assignments and
    # wrapped calls are skipped
    assert calls == [[15, 0, 10], [-3, 0, 5], [[1, 2], "a"]]


def test_parameter_types_from_hints_doctests_and_defaults() -> None:
    function = _function(
        "def f(a: list[int], b, c='x', opt=None):\n    '''Doc.\n\n    >>> f([1], 2.5)\n    '''\n"
    )
    params = parameters(function, [[[1], 2.5]])
    assert [(p.name, p.type, p.source) for p in params] == [
        ("a", "list[int]", "hint"),
        ("b", "float", "doctest"),
        ("c", "str", "default"),
        ("opt", None, ""),  # no hint in its name or the docstring
    ]


def test_annotation_and_value_types() -> None:
    parse = lambda text: ast.parse(text, mode="eval").body  # noqa: E731
    assert normalise_annotation(parse("Optional[List[int]]")) == "list[int] | None"
    assert normalise_annotation(parse("Dict[str, Tuple[int, ...]]")) == "dict[str, list[int]]"
    assert normalise_annotation(parse("Widget")) is None
    assert value_type((1, "a")) == "tuple[int, str]"
    assert value_type([1, 2.5]) == "list[float]"
    assert value_type({}) == "dict[int, int]"


def test_boundary_values_cover_edges() -> None:
    rows = boundary_inputs([Param("n", "int"), Param("s", "str")], limit=40)
    assert [0, ""] in rows and [1, "a"] in rows
    assert any(row[0] == -1 for row in rows) and any(row[1] == "" for row in rows)


def test_code_constants_reach_branches() -> None:
    function = _function(
        "def f(name):\n    '''Is it '__x__'?'''\n    return name[:2] == '__' and len(name) > 4\n"
    )
    constants = code_constants(function)
    assert "__" in constants["str"] and "__x__" in constants["str"]
    assert {3, 4, 5} <= set(constants["int"])


def test_generation_is_deterministic_for_a_seed() -> None:
    shape = [Param("xs", "list[int]"), Param("s", "str")]
    first = hypothesis_inputs(shape, 20, seed=7)
    assert first == hypothesis_inputs(shape, 20, seed=7)
    assert first != hypothesis_inputs(shape, 20, seed=8)


def test_draws_do_not_depend_on_hash_seed_or_loaded_modules() -> None:
    script = (
        "from codefoundry.testgen.draw import draw\n"
        "from codefoundry.testgen.types import strategy\n"
        "from codefoundry.judge.codec import encode, dumps\n"
        "print(dumps(encode(draw(strategy('tuple[set[str], dict[str, int], float]'), 25, 99))))\n"
    )
    outputs = set()
    for hash_seed, extra in (
        ("1", ""),
        ("2", "import codefoundry.mine.checks, codefoundry.verify.mutants\n"),
    ):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run(
            [sys.executable, "-c", extra + script], capture_output=True, text=True, env=env, check=True
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert strategy("int") is strategy("int")  # built once per type


def test_values_round_trip_and_sets_are_canonical() -> None:
    value = {"a": [1, (2, 3)], "s": frozenset({"x", "y", "z"}), "b": b"\x00\xff", 3: "int key"}
    encoded = encode(value)
    assert dumps(encoded) == dumps(encode(decode(encoded)))
    assert encode({"b", "a"}) == {"__set__": ["a", "b"]}
    assert decode({"__bytes__": "00ff"}) == b"\x00\xff"


def test_split_is_stable_and_two_sided() -> None:
    tests = [TestCase(task_id="t", args=[i], expected=i) for i in range(30)]
    first = split(tests, 1 / 3)
    assert [t.split for t in first] == [t.split for t in split(list(reversed(tests)), 1 / 3)][::-1]
    held = sum(t.split == "holdout" for t in first)
    assert 3 <= held <= 18
    assert {t.split for t in split(tests[:2], 1 / 3)} == {"visible", "holdout"}


def test_bytes_sets_and_tuple_keys_are_kept_as_inputs_in_tagged_form() -> None:
    found: dict[str, Candidate] = {}
    add(found, [b"\x00\xff"], "probe", 400)
    add(found, [frozenset({2, 1})], "probe", 400)
    add(found, [{(1, 2): "x"}], "probe", 400)
    add(found, ["\ud800"], "probe", 400)  # a lone surrogate can never be stored as JSON text
    args = [c.args for c in found.values()]
    assert args == [[{"__bytes__": "00ff"}], [{"__set__": [1, 2]}], [{"__dict__": [[[1, 2], "x"]]}]]
    assert decode(args[0]) == [b"\x00\xff"]
    assert storable({"__bytes__": "00"}) and not storable(["a", {"k": "\udcff"}])


def test_int_pool_favours_small_non_negative_values() -> None:
    pool = value_pool("int")
    small = sum(1 for v in pool if 0 <= v <= 12)
    assert small >= len(pool) * 0.45
    assert max(pool) > 1000 and min(pool) < -1000  # the wide draws are still there


def test_untyped_parameters_try_bytes_and_docstring_hints() -> None:
    assert "bytes" in candidates_for("data")[:2] and candidates_for("s")[:2] == ["str", "bytes"]
    assert candidates_for("thing", "Encode a bytes-like object.")[0] == "bytes"
    assert candidates_for("thing", "Join a list of strings.")[0] == "list[str]"
    assert candidates_for("names")[0] == "list[str]"
    single = assignments([Param("thing")], limit=10)
    assert {"int", "str", "bytes", "list[int]", "float", "bool"} <= {a.types["thing"] for a in single}


def test_code_constants_give_bytes_of_the_lengths_the_code_checks() -> None:
    function = _function(
        "def f(data):\n    '''Unpack.'''\n    assert len(data) == 4\n    return data.startswith(b'\\x89P')\n"
    )
    constants = code_constants(function)
    assert b"\x89P" in constants["bytes"]
    assert any(len(v) == 4 for v in constants["bytes"])


def test_probe_inputs_include_rows_of_the_codes_constants() -> None:
    constants = {"str": ["yes", "no"], "int": [], "float": [], "bytes": []}
    rows = [
        c.args
        for c in probe_inputs([Param("val", "str")], seed=1, count=2, max_chars=400, constants=constants)
    ]
    assert ["yes"] in rows and ["no"] in rows


def test_optional_none_parameters_get_a_guessed_type() -> None:
    function = _function(
        "def enc(s, altchars=None, width=None):\n    '''Encode the bytes-like object s.'''\n    return s\n"
    )
    params = parameters(function, [])
    assert [(p.name, p.type) for p in params[1:]] == [("altchars", "bytes | None"), ("width", "int | None")]
    assert [p.name for p in shapes(params)[-1]] == ["s", "altchars", "width"]
