"""Pure parts of test generation: doctest calls, types, deterministic draws, encoding, the split."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest

from codefoundry.judge.codec import NotPlain, decode, dumps, encode
from codefoundry.judge.plaintypes import ALIASES, ANY, ATOMS, CONTAINERS, normalise_annotation, value_type
from codefoundry.judge.split import split
from codefoundry.records import TestCase
from codefoundry.testgen.doctests import doctest_calls
from codefoundry.testgen.hints import candidates_for
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
from codefoundry.testgen.strategies import boundary_values, strategy

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
        "from codefoundry.testgen.strategies import strategy\n"
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


def test_every_plain_type_has_inputs_the_codec_round_trips() -> None:
    assert set(ALIASES.values()) <= ATOMS | CONTAINERS
    for atom in sorted(ATOMS):
        edges = boundary_values(atom)
        drawn = list(value_pool(atom, 30))
        assert edges and drawn, atom
        for value in edges + drawn:
            encoded = encode([value])
            assert dumps(encode(decode(encoded))) == dumps(encoded)
            if atom != ANY:
                assert value_type(value) == atom
    for atom in ("bytes", "complex", "Decimal", "Fraction"):  # what the codec carries beyond JSON
        assert normalise_annotation(ast.parse(atom, mode="eval").body) == atom


def test_one_codec_for_the_sandbox_and_stored_values() -> None:
    from codefoundry.judge import codec
    from codefoundry.sandbox import plaindata

    assert codec.TAGS is plaindata.TAGS
    value = {"s": frozenset({"b", "a", "c"}), "k": {1: [b"\x00", (1.5, float("nan"))]}, "d": Decimal("1.50")}
    tagged = plaindata.to_plain(value)
    tagged["s"]["__set__"].sort()  # stored values are the sandbox's form, set members sorted
    assert encode(value) == tagged == encode(plaindata.loads_plain(plaindata.dumps_plain(value)))
    # a dict that looks like a tag is escaped by every tag the sandbox knows, "__int__" included
    for tag in plaindata.TAGS:
        assert encode({tag: "x"}) == {"__dict__": [[tag, "x"]]}
        assert decode(encode({tag: "x"})) == {tag: "x"}
    assert encode(Counter("aab")) == {"a": 2, "b": 1}  # what ``json`` would make of a subclass
    for too_big in (2**3000, [2**20000], Fraction(2**3000, 3)):
        with pytest.raises(NotPlain):
            encode(too_big)
    with pytest.raises(NotPlain):
        encode(object())
