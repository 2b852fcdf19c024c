"""``testgen.mined`` against the real sandbox: labelled tests, determinism, and the double-run check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codefoundry.judge.codec import decode, dumps
from codefoundry.judge.requests import collect_request
from codefoundry.mine.functions import MineFunctions
from codefoundry.mine.tasks import MakeTasks
from codefoundry.pipeline.stage import StageContext
from codefoundry.records import Problem
from codefoundry.sandbox import Sandbox, SandboxConfig
from codefoundry.sandbox.api import Limits
from codefoundry.testgen.mined import BuildMinedTests
from codefoundry.testing.stages import stage_context

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mining"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StageContext]:
    with Sandbox(SandboxConfig(workers=2)) as sandbox:
        yield stage_context(tmp_path_factory.mktemp("testgen"), sandbox)


def problems(context: StageContext, *names: str) -> list[Problem]:
    paths = [str(FIXTURES / name) for name in names]
    miner = MineFunctions(MineFunctions.Config(corpus={"kind": "files", "paths": paths}), context)
    seeds = miner.process_sync(miner.inputs()).records
    return MakeTasks(MakeTasks.Config(), context).process_sync(seeds).records


def test_tests_are_labelled_by_the_reference(context: StageContext) -> None:
    batch = [
        p
        for p in problems(context, "pure.py")
        if p.task.entry_point in ("clamp", "count_vowels", "digit_root")
    ]
    result = BuildMinedTests(BuildMinedTests.Config(), context).process_sync(batch)
    assert not result.drops
    by_name = {p.task.entry_point: p for p in result.records}
    clamp = by_name["clamp"]
    assert 5 <= len(clamp.tests) <= BuildMinedTests.Config().max_tests
    doctests = {tuple(t.args or []): t.expected for t in clamp.tests if t.origin == "doctest"}
    assert doctests[(15, 0, 10)] == 10 and doctests[(-3, 0, 10)] == 0
    for test in clamp.tests:
        value, low, high = test.args or []
        assert test.expected == max(low, min(value, high)) if low <= high else True
    assert {t.split for t in clamp.tests} == {"visible", "holdout"}
    assert clamp.reports.testgen.doctest_tests == 2
    vowels = by_name["count_vowels"]  # untyped, but its doctest passes a str
    assert all(t.expected == sum(c.lower() in "aeiou" for c in t.args[0]) for t in vowels.tests)
    root = by_name["digit_root"]  # untyped, no doctest: the type was found by probing
    assert root.reports.testgen.probed_types == "n: int"
    assert all(0 <= t.expected <= 9 for t in root.tests)


def test_generation_is_deterministic(context: StageContext) -> None:
    batch = problems(context, "pure.py")
    stage = BuildMinedTests(BuildMinedTests.Config(), context)
    first = [p.model_dump(mode="json") for p in stage.process_sync(batch).records]
    second = [p.model_dump(mode="json") for p in stage.process_sync(batch).records]
    assert first == second and first


def test_nondeterministic_output_is_dropped(context: StageContext) -> None:
    batch = problems(context, "nondeterministic.py")
    assert [p.task.entry_point for p in batch] == ["tagged"]  # it passes every static check
    result = BuildMinedTests(BuildMinedTests.Config(), context).process_sync(batch)
    assert not result.records
    assert [d.reason for d in result.drops] == ["nondeterministic"]
    assert "!=" in result.drops[0].detail


def test_too_few_tests_and_constant_outputs(context: StageContext) -> None:
    batch = problems(context, "pure.py")
    strict = BuildMinedTests(BuildMinedTests.Config(min_tests=200, max_tests=300), context).process_sync(
        batch
    )
    assert {d.reason for d in strict.drops} == {"too_few_tests"}
    code = 'def always(x: int) -> bool:\n    """Say yes."""\n    return x is not None\n'
    constant = problems_from_code(context, code)
    result = BuildMinedTests(BuildMinedTests.Config(), context).process_sync(constant)
    assert [d.reason for d in result.drops] == ["constant_output"]


def problems_from_code(context: StageContext, code: str) -> list[Problem]:
    from codefoundry.records import Provenance, Seed

    name = code.split("def ", 1)[1].split("(", 1)[0]
    seed = Seed(name=name, code=code, docstring="doc", provenance=Provenance(source="test"))
    return MakeTasks(MakeTasks.Config(), context).process_sync([seed]).records


def test_in_place_functions_are_judged_on_their_arguments(context: StageContext) -> None:
    from codefoundry.verify.reference import VerifyReference

    batch = problems(context, "in_place.py")
    by_name = {p.task.entry_point: p for p in batch}
    assert by_name["insert_sorted"].task.observe_args
    assert "works in place" in by_name["insert_sorted"].task.prompt
    result = BuildMinedTests(BuildMinedTests.Config(), context).process_sync(batch)
    assert {d.record["task"]["entry_point"]: d.reason for d in result.drops if d.record} == {
        "check_positive": "constant_output"
    }
    (kept,) = result.records
    import bisect

    for test in kept.tests:
        items, value = test.args or []
        after = list(items)
        bisect.insort(after, value)
        assert test.expected == [None, [after, value]]
    verified = VerifyReference(VerifyReference.Config(), context).process_sync([kept])
    assert verified.records and not verified.drops
    # a solution that returns the right list but leaves the argument alone fails
    from codefoundry.judge.requests import judge_request
    from codefoundry.sandbox.api import Limits

    wrong = "def insert_sorted(items, value):\n    return sorted(items + [value])\n"
    res = context.sandbox.run(judge_request(kept, wrong, Limits()))
    assert not res.passed


def test_output_following_string_hash_order_is_dropped(context: StageContext) -> None:
    # the two labelling runs are pinned to two fork-servers, which have different string-hash seeds
    batch = problems(context, "hash_order.py")
    assert [p.task.entry_point for p in batch] == ["distinct_words"]
    result = BuildMinedTests(BuildMinedTests.Config(), context).process_sync(batch)
    assert not result.records
    assert [d.reason for d in result.drops] == ["nondeterministic"]


def test_a_bytes_function_gets_tests(context: StageContext) -> None:
    code = 'def checksum(data: bytes) -> int:\n    """Sum of the octets, modulo 256."""\n    return sum(data) % 256\n'
    batch = problems_from_code(context, code)
    assert [p.task.signature for p in batch] == ["def checksum(data: bytes) -> int"]
    result = BuildMinedTests(BuildMinedTests.Config(), context).process_sync(batch)
    assert not result.drops
    (problem,) = result.records
    assert len(problem.tests) >= 5 and {t.origin for t in problem.tests} >= {"boundary", "hypothesis"}
    for test in problem.tests:
        (arg,) = test.args or []
        assert set(arg) == {"__bytes__"}  # stored in the codec's tagged form
        assert test.expected == sum(decode(arg)) % 256


def test_exact_numbers_are_inputs_and_outputs(context: StageContext) -> None:
    code = (
        "from decimal import Decimal\n"
        "from fractions import Fraction\n\n"
        "def mix(d: Decimal, q: Fraction, z: complex) -> list:\n"
        '    """Double each of ``d``, ``q`` and ``z``."""\n'
        "    return [d * 2, q * 2, z * 2]\n"
    )
    result = BuildMinedTests(BuildMinedTests.Config(), context).process_sync(
        problems_from_code(context, code)
    )
    assert not result.drops
    for test in result.records[0].tests:
        d, q, z = decode(test.args)
        assert decode(test.expected) == [d * 2, q * 2, z * 2]


def test_outputs_are_collected_through_the_sandbox_codec(context: StageContext) -> None:
    # outputs shaped like the codec's tags are stored as themselves, sets in canonical order
    code = (
        "def shapes(s: str) -> list:\n"
        '    """The text under a tag-like key, and its set of characters."""\n'
        '    return [{"__bytes__": s, "__int__": s}, {"__set__": s}, set(s + "zyx")]\n'
    )
    (problem,) = problems_from_code(context, code)
    request = collect_request(problem, [["ab"]], Limits())
    assert request.code == problem.reference.code and request.entry_point == "shapes"  # nothing appended
    assert not any(t.has_expected or t.expected is not None for t in request.tests)
    result = BuildMinedTests(BuildMinedTests.Config(), context).process_sync([problem])
    assert not result.drops
    for test in result.records[0].tests:
        (s,) = test.args or []
        first, tag_like, members = test.expected
        assert first == {"__bytes__": s, "__int__": s}
        assert tag_like == {"__dict__": [["__set__", s]]} and decode(tag_like) == {"__set__": s}
        assert members == {"__set__": sorted(set(s + "zyx"), key=dumps)}
