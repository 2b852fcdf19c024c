"""``mine.tasks``: every static rejection reason, the task built for a kept seed, and the vocabularies (plain
types, mutating methods, module-scope names) the checks share with test generation and the extractor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codefoundry.judge.plaintypes import normalise_annotation
from codefoundry.mine.checks import Analysis, Rejection, StaticConfig, analyse
from codefoundry.mine.extract import extract_functions
from codefoundry.mine.functions import MineFunctions
from codefoundry.mine.policy import MUTATING_METHODS
from codefoundry.mine.scopes import scope_names
from codefoundry.mine.tasks import MakeTasks
from codefoundry.records import Provenance, Seed
from codefoundry.testing.stages import stage_context

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mining"


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("checks")
    config = MineFunctions.Config(
        corpus={"kind": "files", "paths": [str(FIXTURES / "rejects.py"), str(FIXTURES / "pure.py")]}
    )
    miner = MineFunctions(config, stage_context(tmp))
    seeds = miner.process_sync(miner.inputs()).records
    result = MakeTasks(MakeTasks.Config(), stage_context(tmp)).process_sync(seeds)
    verdicts = {d.record["name"]: d.reason for d in result.drops if d.record}
    verdicts.update({p.task.entry_point: "kept" for p in result.records})
    return verdicts


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("shout", "io_call"),
        ("roll", "randomness"),
        ("stamp", "time"),
        ("fetch", "network"),
        ("helped", "not_self_contained"),
        ("squares", "kept"),  # a generator: its items are judged as a list
        ("bump", "global_mutation"),
        ("remember", "global_mutation"),
        ("evaluate", "dynamic_code"),
        ("constant", "no_arguments"),
        ("later", "async"),
        ("plain", "kept"),
        ("clamp", "kept"),
        ("hypotenuse", "kept"),
    ],
)
def test_static_reason(outcome: dict[str, str], name: str, reason: str) -> None:
    assert outcome[name] == reason


def _seed(code: str, name: str = "f", docstring: str = "Doc.") -> Seed:
    return Seed(name=name, code=code, docstring=docstring, provenance=Provenance(source="test"))


def test_more_reasons(tmp_path: Path) -> None:
    stage = MakeTasks(MakeTasks.Config(max_lines=3), stage_context(tmp_path))
    cases = {
        "decorated": '@staticmethod\ndef f(x):\n    """Doc."""\n    return x\n',
        "too_long": 'def f(x):\n    """Doc."""\n' + "    x += 1\n" * 5 + "    return x\n",
        "unsupported_signature": 'def f(x, *, y):\n    """Doc."""\n    return x + y\n',
        "not_self_contained": 'import numpy\n\ndef f(x):\n    """Doc."""\n    return numpy.abs(x)\n',
        "io_call": 'def f(x):\n    """Doc."""\n    import os\n    return os.listdir(x)\n',
        "non_plain_types": 'def f(x: "Widget") -> int:\n    """Doc."""\n    return 1\n',
    }
    result = stage.process_sync([_seed(code) for code in cases.values()])
    assert [d.reason for d in result.drops] == list(cases)
    no_doc = stage.process_sync([_seed("def f(x):\n    return x\n", docstring="")])
    assert [d.reason for d in no_doc.drops] == ["no_docstring"]


def test_generator_task_says_items_are_compared(tmp_path: Path) -> None:
    code = 'def evens(n):\n    """Yield the even numbers below ``n``."""\n    yield from range(0, n, 2)\n'
    (problem,) = MakeTasks(MakeTasks.Config(), stage_context(tmp_path)).process_sync([_seed(code, "evens")]).records
    assert "generator or return a list" in problem.task.prompt
    assert "generator" in problem.task.features


def test_task_prompt_has_signature_and_docstring_but_not_the_body(tmp_path: Path) -> None:
    code = 'import math\n\ndef area(r: float) -> float:\n    """Area of a circle of radius ``r``."""\n    return math.pi * r * r\n'
    (problem,) = MakeTasks(MakeTasks.Config(), stage_context(tmp_path)).process_sync([_seed(code, "area")]).records
    task = problem.task
    assert task.entry_point == "area" and task.style == "function"
    assert task.signature == "def area(r: float) -> float"
    assert "Implement the Python function `area`" in task.prompt
    assert '"""Area of a circle of radius ``r``."""' in task.prompt
    assert "math.pi" not in task.prompt
    assert problem.reference is not None and problem.reference.code == code
    assert problem.reference.task_id == task.id
    assert "import:math" in task.features and "type_hints" in task.features


def test_harmless_corners_of_impure_modules_are_kept(tmp_path: Path) -> None:
    stage = MakeTasks(MakeTasks.Config(), stage_context(tmp_path))
    kept = {
        "warn": 'def f(x):\n    """Doc."""\n    import warnings\n    warnings.warn("old", DeprecationWarning)\n'
        "    return x + 1\n",
        "from_warnings": 'def f(x):\n    """Doc."""\n    from warnings import warn\n    warn("old")\n    return x\n',
        "stringio": 'import io\n\ndef f(x):\n    """Doc."""\n    out = io.StringIO()\n    out.write(x)\n'
        "    return out.getvalue()\n",
        "late_stringio": 'def f(x):\n    """Doc."""\n    import io\n    return io.BytesIO(x).read(2)\n',
        "version": 'import sys\n\ndef f(x):\n    """Doc."""\n    return sys.version.find(x)\n',
        "audit": 'import sys\n\ndef f(x):\n    """Doc."""\n    sys.audit("f", x)\n    return x * 2\n',
        "table": 'T = [0]\nfor i in range(3):\n    T.append(i)\n\ndef f(x):\n    """Doc."""\n    return T[x]\n',
    }
    result = stage.process_sync([_seed(code) for code in kept.values()])
    assert [(d.reason, d.detail) for d in result.drops] == []
    assert len(result.records) == len(kept)


def test_late_imports_are_checked_where_they_are_used(tmp_path: Path) -> None:
    stage = MakeTasks(MakeTasks.Config(), stage_context(tmp_path))
    cases = {
        "io_call": 'def f(x):\n    """Doc."""\n    import io\n    return io.open(x).read()\n',
        "time": 'def f(x):\n    """Doc."""\n    import gzip\n    return gzip.compress(x)\n',
        "global_mutation": 'T = []\n\ndef f(x):\n    """Doc."""\n    T.append(x)\n    return len(T)\n',
        "randomness": 'def f(x):\n    """Doc."""\n    from random import choice\n    return choice(x)\n',
    }
    result = stage.process_sync([_seed(code) for code in cases.values()])
    assert [d.reason for d in result.drops] == list(cases)


def test_a_module_that_prints_when_imported_is_io(tmp_path: Path) -> None:
    stage = MakeTasks(MakeTasks.Config(), stage_context(tmp_path))
    result = stage.process_sync([_seed('def f(x):\n    """Doc."""\n    import this\n    return x\n')])
    assert [d.reason for d in result.drops] == ["io_call"]


# annotation text -> whether it names plain data (string annotations need no imports in the seed)
ANNOTATIONS = {
    "bytes": True,
    "bytearray": True,
    "list[bytes]": True,
    "dict[str, bytes] | None": True,
    "Optional[List[int]]": True,
    "Tuple[int, ...]": True,
    "Iterator[str]": True,
    "Literal['a', 'b']": True,
    "complex": True,
    "Decimal": True,
    "fractions.Fraction": True,
    "Final[int]": True,
    "Widget": False,
    "Callable[[int], int]": False,
    "memoryview": False,
    "Dict[str]": False,
}


@pytest.mark.parametrize(("text", "plain"), ANNOTATIONS.items())
def test_signature_types_are_the_ones_test_generation_understands(text: str, plain: bool) -> None:
    code = f'def f(x: "{text}", n: int = 1) -> "{text}":\n    """Doc."""\n    return x\n'
    verdict = analyse(code, "f", StaticConfig(min_lines=1))
    assert isinstance(verdict, Analysis) is plain, verdict
    if not plain:
        assert isinstance(verdict, Rejection) and verdict.reason == "non_plain_types"
    # one vocabulary: mining accepts exactly what test generation can turn into inputs
    annotation = ast.parse(text, mode="eval").body
    assert (normalise_annotation(annotation) is not None) is plain


def test_a_bytes_function_is_a_task(tmp_path: Path) -> None:
    code = 'def checksum(data: bytes) -> int:\n    """Sum of the octets, modulo 256."""\n    return sum(data) % 256\n'
    result = MakeTasks(MakeTasks.Config(), stage_context(tmp_path)).process_sync([_seed(code, "checksum")])
    assert not result.drops
    assert result.records[0].task.signature == "def checksum(data: bytes) -> int"


@pytest.mark.parametrize("method", sorted(MUTATING_METHODS))
def test_one_set_of_mutating_methods_for_the_checks_and_the_extractor(method: str) -> None:
    # called on a module-level table inside the function: global mutation
    inside = f'T = [3, 1, 2]\n\ndef f(k):\n    """Doc."""\n    T.{method}()\n    return k\n'
    verdict = analyse(inside, "f", StaticConfig(min_lines=1))
    assert isinstance(verdict, Rejection) and verdict.reason == "global_mutation"
    # called at module level: the table's first value is not its final one, so the code that changes it
    # is copied along with it
    outside = f'T = [3, 1, 2]\nT.{method}()\n\ndef f(k):\n    """Doc."""\n    return T[k]\n'
    (item,) = extract_functions(outside)
    assert f"T.{method}()" in item.code


def test_the_checks_resolve_exactly_the_names_the_extractor_reads() -> None:
    source = (
        "import math\n"
        "SCALE = 3\n"
        "OFFSET = SCALE + 1\n"
        "\n"
        "def _scaled(values):\n"
        "    return [math.floor(v * SCALE) for v in values]\n"
        "\n"
        "def spread(xs):\n"
        '    """Scaled values, sorted by their distance from OFFSET."""\n'
        "    key = lambda x: abs(x - OFFSET)\n"
        "    return sorted(_scaled(xs), key=key)\n"
    )
    (item,) = extract_functions(source)
    names = scope_names(item.code)
    assert {"math", "SCALE", "OFFSET", "_scaled", "sorted", "abs"} <= names.read
    assert {"values", "v", "xs", "key", "x"} <= names.local and not names.written
    assert isinstance(analyse(item.code, "spread", StaticConfig()), Analysis)
    # a name nothing defines is unresolved for both
    missing = item.code.replace("SCALE = 3\n", "")
    verdict = analyse(missing, "spread", StaticConfig())
    assert isinstance(verdict, Rejection) and verdict.detail == "unresolved names: SCALE"
