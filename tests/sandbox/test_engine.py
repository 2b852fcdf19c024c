"""Judge/collect semantics, comparisons, plain-data round trips, caching and the layer report."""

from __future__ import annotations

import math
import sqlite3

import pytest

from codefoundry.sandbox import Compare, ExecRequest, Limits, Sandbox, SandboxConfig, TestInput
from codefoundry.sandbox.compare import plain_equal, text_equal
from codefoundry.sandbox.plaindata import Unserialisable, dumps_plain, loads_plain


def fn(code: str, tests: list[TestInput], **kw) -> ExecRequest:
    return ExecRequest(code=code, entry_point=kw.pop("entry_point", "f"), tests=tests, **kw)


def test_judge_pass_wrong_and_error(sandbox):
    res = sandbox.run(
        fn(
            "def f(x):\n    if x < 0:\n        raise ValueError('negative')\n    return x * 2\n",
            [
                TestInput(args=[2], expected=4),
                TestInput(args=[3], expected=7),
                TestInput(args=[-1], expected=0),
            ],
        )
    )
    assert [v.status for v in res.verdicts] == ["pass", "wrong_answer", "runtime_error"]
    assert res.verdicts[2].error == "ValueError: negative"
    assert res.status == "wrong_answer" and not res.passed
    assert res.verdicts[1].output == 6


def test_collect_returns_plain_outputs(sandbox):
    code = (
        "def f(k):\n"
        "    return [None, True, 3, 2.5, float('nan'), float('-inf'), 'x', (1, 2), {'a': [1]}, {1: 'one'},"
        " b'\\x00\\xff', {3}][k]\n"
    )
    res = sandbox.run(fn(code, [TestInput(args=[k]) for k in range(12)], mode="collect"))
    assert res.status == "ok" and res.passed
    outs = [v.output for v in res.verdicts]
    assert outs[:4] == [None, True, 3, 2.5]
    assert math.isnan(outs[4]) and outs[5] == -math.inf
    assert outs[6:] == ["x", [1, 2], {"a": [1]}, {1: "one"}, b"\x00\xff", frozenset({3})]


def test_unserialisable_result(sandbox):
    res = sandbox.run(
        fn("def f():\n    return object()\n", [TestInput(args=[], expected=None, has_expected=True)])
    )
    assert res.verdicts[0].status == "runtime_error" and "unserialisable" in res.verdicts[0].error


def test_missing_entry_point(sandbox):
    res = sandbox.run(fn("def g():\n    return 1\n", [TestInput(args=[], expected=1)]))
    assert res.verdicts[0].status == "runtime_error" and "entry point" in res.verdicts[0].error


def test_syntax_error_is_runtime_error_for_python(sandbox):
    res = sandbox.run(fn("def f(:\n", [TestInput(args=[], expected=1)]))
    assert res.verdicts[0].status == "runtime_error" and "SyntaxError" in res.verdicts[0].error


def test_stop_on_first_failure_skips_the_rest(sandbox):
    tests = [
        TestInput(args=[1], expected=1),
        TestInput(args=[2], expected=0),
        TestInput(args=[3], expected=3),
    ]
    res = sandbox.run(fn("def f(x):\n    return x\n", tests, stop_on_first_failure=True))
    assert [v.status for v in res.verdicts] == ["pass", "wrong_answer", "skipped"]


def test_timeout_in_one_test_does_not_hide_later_results(sandbox):
    code = "import time\ndef f(x):\n    if x == 1:\n        time.sleep(60)\n    return x\n"
    tests = [TestInput(args=[k], expected=k) for k in range(3)]
    res = sandbox.run(fn(code, tests, limits=Limits(time_s=5, per_test_time_s=0.5)))
    assert [v.status for v in res.verdicts] == ["pass", "timeout", "pass"]


def test_float_tolerance_mode(sandbox):
    code = "def f():\n    return [0.1 + 0.2, 1e-12]\n"
    exact = sandbox.run(fn(code, [TestInput(args=[], expected=[0.3, 0.0])]))
    loose = sandbox.run(fn(code, [TestInput(args=[], expected=[0.3, 0.0])], compare=Compare(mode="float")))
    assert exact.verdicts[0].status == "wrong_answer" and loose.verdicts[0].status == "pass"


def test_stdio_modes(sandbox):
    code = "a, b = map(int, input().split())\nprint(a + b, ' ')\nprint(a / b)\n"
    tests = [TestInput(stdin="1 3\n", expected="4\n0.3333333\n")]
    for mode, want in (("exact", "wrong_answer"), ("whitespace", "wrong_answer"), ("float", "pass")):
        res = sandbox.run(
            ExecRequest(style="stdio", code=code, tests=tests, compare=Compare(mode=mode, float_rel_tol=1e-6))
        )
        assert res.verdicts[0].status == want, mode
    ws = [TestInput(stdin="2 2\n", expected="4\n1.0")]
    res = sandbox.run(ExecRequest(style="stdio", code=code, tests=ws, compare=Compare(mode="whitespace")))
    assert res.verdicts[0].status == "pass"


def test_stdio_runtime_error_and_stderr(sandbox):
    res = sandbox.run(
        ExecRequest(style="stdio", code="print('partial')\n1/0\n", tests=[TestInput(stdin="", expected="x")])
    )
    v = res.verdicts[0]
    assert v.status == "runtime_error" and "ZeroDivisionError" in v.error and v.output == "partial\n"


def test_checker_mode(sandbox):
    checker = "def check(inp, out, expected):\n    return sorted(out.split()) == sorted(expected.split())\n"
    code = "import sys\nprint(*reversed(sys.stdin.read().split()))\n"
    res = sandbox.run(
        ExecRequest(
            style="stdio",
            code=code,
            tests=[TestInput(stdin="1 2 3", expected="1 2 3"), TestInput(stdin="1 2", expected="1 3")],
            compare=Compare(mode="checker", checker=checker),
        )
    )
    assert [v.status for v in res.verdicts] == ["pass", "wrong_answer"]


def test_result_size_cap(sandbox):
    res = sandbox.run(
        fn(
            "def f():\n    return 'x' * 200_000\n",
            [TestInput(args=[], expected="")],
            limits=Limits(output_kb=64),
        )
    )
    assert res.verdicts[0].status == "output_limit"


def test_run_many_keeps_order_and_reports_progress(sandbox):
    reqs = [fn(f"def f():\n    return {i}\n", [TestInput(args=[], expected=i)]) for i in range(20)]
    reqs.append(reqs[0])  # duplicate: deduplicated but still reported
    done: list[int] = []
    res = sandbox.run_many(reqs, on_done=done.append)
    assert [r.verdicts[0].output for r in res] == list(range(20)) + [0]
    assert all(r.passed for r in res) and sorted(done) == list(range(21))


def test_cache_hits_and_survives_reopen(tmp_path):
    db = tmp_path / "cache.sqlite"
    req = fn("def f(x):\n    return x + 1\n", [TestInput(args=[1], expected=2)])
    with Sandbox(SandboxConfig(workers=1), cache_path=db) as sb:
        first, second = sb.run(req), sb.run(req)
        changed = sb.run(req.model_copy(update={"tests": [TestInput(args=[1], expected=3)]}))
    assert not first.cached and second.cached and second.passed
    assert not changed.cached and not changed.passed
    with Sandbox(SandboxConfig(workers=1), cache_path=db) as sb:
        assert sb.run(req).cached
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_layer_report_is_complete(sandbox):
    layers = sandbox.layers()
    for name in (
        "session",
        "rlimits",
        "namespaces",
        "pidns",
        "cgroup",
        "uid",
        "fs_view",
        "landlock",
        "seccomp",
    ):
        assert name in layers
    assert layers["lang:python"].active


def test_require_isolation_refuses_missing_layers():
    cfg = SandboxConfig(workers=1, layers=["session", "rlimits"], require_isolation=True)
    sb = Sandbox(cfg)
    with pytest.raises(Exception, match="layers are missing"):
        sb.layers()
    sb.close()


def test_plaindata_codec():
    for v in [None, True, 0, -(10**5000), 1.5, "é", [1, [2]], {"a": 1}, {1: 2}, b"ab", {"__set__": 1}]:
        assert plain_equal(
            loads_plain(dumps_plain(v)), v if not isinstance(v, dict) or "__set__" not in v else v
        )
    assert loads_plain(dumps_plain((1, 2))) == [1, 2]
    for bad in [object(), iter(object, 1), 1j.__class__]:
        with pytest.raises(Unserialisable):
            dumps_plain(bad)
    with pytest.raises(ValueError):
        loads_plain("NaN")


def test_plaindata_exact_numbers_named_tuples_and_iterators():
    from collections import namedtuple
    from decimal import Decimal
    from fractions import Fraction

    for v in [Decimal("1.50"), Decimal("-Infinity"), Fraction(-3, 4), 1.5 - 2j, complex(0, math.inf)]:
        back = loads_plain(dumps_plain(v))
        assert type(back) is type(v) and back == v
    assert plain_equal(loads_plain(dumps_plain(Decimal("NaN"))), Decimal("NaN"))
    assert not plain_equal(Decimal("1"), Fraction(1)) and not plain_equal(Decimal("1"), 1)
    from collections import Counter, OrderedDict
    from enum import IntEnum

    liar = type("Liar", (int,), {"__eq__": lambda self, other: True, "__int__": lambda self: 99})(3)
    assert loads_plain(dumps_plain(liar)) == 3 and type(loads_plain(dumps_plain(liar))) is int
    assert loads_plain(dumps_plain([Counter("aab"), OrderedDict(x=1)])) == [{"a": 2, "b": 1}, {"x": 1}]
    assert loads_plain(dumps_plain(IntEnum("E", "A B").B)) == 2
    shouting = type("Shout", (str,), {"__str__": lambda self: "LIE"})("quiet")
    assert loads_plain(dumps_plain(shouting)) == "quiet"
    point = namedtuple("Point", "x y")
    assert loads_plain(dumps_plain(point(1, [2]))) == [1, [2]]
    assert loads_plain(dumps_plain(x * x for x in range(4))) == [0, 1, 4, 9]
    assert loads_plain(dumps_plain({"a": 1}.items())) == [["a", 1]]
    with pytest.raises(Unserialisable, match="more than"):
        dumps_plain(iter(range(10**6)))
    for malformed in ['{"__fraction__": [1, 0]}', '{"__decimal__": "1.2.3"}', '{"__complex__": [1, "x"]}']:
        with pytest.raises(ValueError):
            loads_plain(malformed)


def test_generator_and_named_tuple_results_are_judged_as_lists(sandbox):
    code = (
        "from collections import namedtuple\n"
        "from decimal import Decimal\n"
        "Pair = namedtuple('Pair', 'lo hi')\n"
        "def f(k):\n"
        "    if k == 0:\n"
        "        return (i * i for i in range(3))\n"
        "    if k == 1:\n"
        "        return Pair(1, 2)\n"
        "    return Decimal('0.10') + Decimal('0.20')\n"
    )
    from decimal import Decimal

    tests = [TestInput(args=[0], expected=[0, 1, 4]), TestInput(args=[1], expected=[1, 2])]
    tests.append(TestInput(args=[2], expected=Decimal("0.30")))
    res = sandbox.run(fn(code, tests))
    assert [v.status for v in res.verdicts] == ["pass", "pass", "pass"]


def test_compare_rules():
    assert plain_equal(3, 3.0) and not plain_equal(True, 1) and plain_equal(float("nan"), float("nan"))
    assert not plain_equal([1, 2], [1, 2, 3]) and not plain_equal({"a": 1}, {"b": 1})
    assert plain_equal(1.0, 1.0 + 1e-9, rel_tol=1e-6) and not plain_equal(1.0, 1.1, rel_tol=1e-6)
    assert text_equal("1  2\n\n", "1 2", "whitespace", 0, 0) and not text_equal(
        "1 2", "12", "whitespace", 0, 0
    )
    assert text_equal("0.333333", "0.3333333", "float", 1e-5, 0) and not text_equal(
        "a", "b", "float", 1e-5, 0
    )


def test_loading_is_charged_to_the_whole_run_not_the_first_test(sandbox):
    tests = [TestInput(args=[1], expected=1), TestInput(args=[2], expected=2)]
    slow_import = "import time\ntime.sleep(0.3)\ndef f(x):\n    return x\n"
    res = sandbox.run(fn(slow_import, tests, limits=Limits(time_s=2, per_test_time_s=0.1)))
    assert [v.status for v in res.verdicts] == ["pass", "pass"]
    never_loads = "while True:\n    pass\ndef f(x):\n    return x\n"
    res = sandbox.run(fn(never_loads, tests, limits=Limits(time_s=1, per_test_time_s=0.1)))
    assert [v.status for v in res.verdicts] == ["timeout", "timeout"]
    slow_test = "import time\ndef f(x):\n    time.sleep(x)\n    return x\n"
    res = sandbox.run(
        fn(
            slow_test,
            [
                TestInput(args=[0], expected=0),
                TestInput(args=[0.5], expected=0.5),
                TestInput(args=[0], expected=0),
            ],
            limits=Limits(time_s=3, per_test_time_s=0.1),
        )
    )
    assert [v.status for v in res.verdicts] == ["pass", "timeout", "pass"]


def test_preimport_extra_modules_are_loaded_in_the_workers():
    code = "import sys\ndef f():\n    return 'colorsys' in sys.modules\n"
    with Sandbox(SandboxConfig(workers=1)) as plain:
        assert plain.run(fn(code, [TestInput(args=[])], mode="collect")).verdicts[0].output is False
    with Sandbox(SandboxConfig(workers=1, preimport_extra=["colorsys"])) as warm:
        assert warm.run(fn(code, [TestInput(args=[])], mode="collect")).verdicts[0].output is True


def test_requests_pinned_to_workers_see_each_workers_fixed_hash_seed():
    code = "def f():\n    return [w for w in {'alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta'}]\n"
    orders = []
    with Sandbox(SandboxConfig(workers=2)) as sb:
        for worker in (0, 1, 0, 1):
            res = sb.run(fn(code + f"# {worker}\n", [TestInput(args=[])], mode="collect", worker=worker))
            orders.append(res.verdicts[0].output)
    assert orders[0] == orders[2] and orders[1] == orders[3]  # fixed per worker
    assert orders[0] != orders[1]  # and different between workers
    with Sandbox(SandboxConfig(workers=1)) as again:  # and the same from one run to the next
        res = again.run(fn(code, [TestInput(args=[])], mode="collect", worker=0))
    assert res.verdicts[0].output == orders[0]
