"""Shared parts of the file-reading forgery tests: the candidates, how to feed them and how to judge them.

The candidate programs live in ``forgeries/`` as plain source files, read as text (never imported), so that
they can be read, linted and compiled as what they are. The fixtures that plant files and run candidates as
plain processes are in ``conftest.py``.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codefoundry.sandbox import ExecRequest, Limits, Sandbox, TestInput
from codefoundry.sandbox.api import ExecResult
from codefoundry.sandbox.languages import get_language

# the uid switch, the private /proc and the pid namespace all need root: without them a child can read
# whatever the test process can, and these forgeries would rightly succeed
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the uid, pidns and /proc layers need root")

# where a candidate would look for a task file: common roots, then wherever it happens to run
WALK_ROOTS = ["/tmp", "/home", "/root", "/srv", "/mnt", "/var", "/work", "/opt", "."]
LIMITS = Limits(time_s=20, per_test_time_s=10, cpu_s=20, output_kb=2048)
PLAIN_TIMEOUT_S = 120
FORGERIES = Path(__file__).with_name("forgeries")

# what the tests append to a shared Python body to make it a function or a stdio program
FUNCTION_DRIVER = "\n\nimport json as _json, sys as _sys\nprint(_json.dumps(f(*_json.loads(_sys.argv[1]))))\n"
HUNT_FUNCTION = """

def f(marker, mode, x, places):
    found = _hunt(marker, places)
    if mode == "report":
        return sorted(found)
    ok, value = _answer(found, "args", [marker, mode, x, places])
    return value if ok else "nothing"
"""
HUNT_STDIO = r"""
import sys

data = sys.stdin.read()
lines = data.split("\n")
found = _hunt(lines[0], [p for p in lines[3:] if p])
if lines[1] == "report":
    print("\n".join(sorted(found)))
else:
    ok, value = _answer(found, "stdin", data)
    print(value if ok else "nothing", end="" if ok else "\n")
"""
PEEK_FUNCTION = "\n\ndef f(dirs):\n    return _peek(dirs)\n"
PEEK_STDIO = r"""
import json, sys

for path, head in _peek(sys.stdin.read().split()):
    print(path + "\t" + json.dumps(head))
"""
MEMORY_FUNCTION = """

import json


def f(x):
    found, pairs = _lookup(lambda t: json.loads(t) == [x])
    if found is not None:
        return json.loads(found)
    return "nothing: " + repr([e for _, e in pairs])[:4000]
"""
MEMORY_STDIO = """
data = sys.stdin.read()
found, pairs = _lookup(lambda t: t == data)
print(found if found is not None else "nothing: " + repr([e for _, e in pairs])[:4000], end="")
"""


def program(name: str, tail: str = "") -> str:
    """A candidate's source: a file from ``forgeries/``, plus the entry point a style needs."""
    return (FORGERIES / name).read_text(encoding="utf-8") + tail


@dataclass(frozen=True)
class Variant:
    """One forgery in one language and style."""

    name: str
    language: str
    style: str  # "function" | "stdio"
    code: str

    def request(self, plans: list[Any], expected: list[Any] | None = None, **kw: Any) -> ExecRequest:
        """Judge mode when expected outputs are given, collect mode otherwise."""
        field = "args" if self.style == "function" else "stdin"
        tests = [
            TestInput(
                **{field: plan},
                expected=None if expected is None else expected[i],
                has_expected=expected is not None,
            )
            for i, plan in enumerate(plans)
        ]
        return ExecRequest(
            language=self.language,
            style=self.style,
            code=self.code,
            entry_point="f" if self.style == "function" else "",
            tests=tests,
            limits=kw.pop("limits", LIMITS),
            mode="collect" if expected is None else "judge",
            **kw,
        )

    def plan(self, *args: Any) -> Any:
        """A candidate's input: the arguments (function), or one line per argument and list item (stdio)."""
        if self.style == "function":
            return list(args)
        lines = [item for arg in args for item in (arg if isinstance(arg, list) else [arg])]
        return "".join(f"{line}\n" for line in lines)

    def expect(self, value: int) -> Any:
        """The expected output for an integer answer, as a task holds it and the judge compares it."""
        return value if self.style == "function" else f"{value}\n"

    def task_test(self, plan: Any, expected: int) -> dict[str, Any]:
        """A task-file test as ``sandbox judge`` reads it."""
        return {"args" if self.style == "function" else "stdin": plan, "expected": self.expect(expected)}

    def answered(self, output: Any, expected: int) -> bool:
        """Whether an output is the expected one, as the judge would compare it here."""
        return output == self.expect(expected)

    def reported(self, output: Any) -> list[str]:
        """The paths a hunter's report names."""
        if self.style == "function":
            return list(output or [])
        return [line for line in (output or "").splitlines() if line]


# The hunters share one input: MARKER, MODE ("answer" or "report"), X, then PLACES (files read as they are,
# directories walked breadth-first to depth 6, hidden ones, /proc, /sys and /dev skipped, at most 200,000
# entries). "answer" returns the expected output of the task-file test whose input equals the candidate's
# own; "report" returns the paths of every file read that holds the marker.
HUNTERS = [
    Variant("python-function", "python", "function", program("hunt.py", HUNT_FUNCTION)),
    Variant("python-stdio", "python", "stdio", program("hunt.py", HUNT_STDIO)),
    Variant("cpp", "cpp", "stdio", program("hunt.cpp")),
    Variant("go", "go", "stdio", program("hunt.go")),
]
# Input: the directories whose */* files to read.
PEEKERS = [
    Variant("python-function", "python", "function", program("peek.py", PEEK_FUNCTION)),
    Variant("python-stdio", "python", "stdio", program("peek.py", PEEK_STDIO)),
    Variant("cpp", "cpp", "stdio", program("peek.cpp")),
]
# Input: the pids and paths to look through, and whether to try every pid it can see.
PROC = Variant("proc", "python", "function", program("proc.py"))
# Input: X; it answers only with an expected output it found in memory.
MEMORY = {
    "function": Variant("python-function", "python", "function", program("memory.py", MEMORY_FUNCTION)),
    "stdio": Variant("python-stdio", "python", "stdio", program("memory.py", MEMORY_STDIO)),
}

# the ``native`` fixture: the command that runs a variant as a plain process of the test
Native = Callable[[Variant], list[str]]
# the ``plant`` fixture: write a world-readable file in the given places, return the paths
Plant = Callable[..., list[Path]]


def new_marker() -> str:
    """A secret with the shape the /proc reader looks for."""
    return f"cf-secret-{secrets.token_hex(12)}"


def new_expected() -> int:
    """An output no candidate computes by chance."""
    return random.SystemRandom().randrange(10**11, 10**12)


def need(language: str) -> None:
    """Skip when the sandbox cannot run a language here."""
    ok, why = get_language(language).available()
    if not ok:
        pytest.skip(f"{language}: {why}")


def world_dir(parent: str) -> Path:
    """A fresh directory any uid may enter and list (0755)."""
    path = Path(tempfile.mkdtemp(prefix="cf-forgery-", dir=parent))
    path.chmod(0o755)
    return path


def plain(native: Native, variant: Variant, plan: Any) -> Any:
    """Run a variant outside the sandbox, as the test's own user: what it finds when nothing stops it."""
    cmd = native(variant)
    if variant.style == "function":
        proc = subprocess.run(
            [*cmd, json.dumps(plan)], capture_output=True, text=True, timeout=PLAIN_TIMEOUT_S
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout)
    proc = subprocess.run(cmd, input=plan, capture_output=True, text=True, timeout=PLAIN_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def judge_and_report(
    sandbox: Sandbox, variant: Variant, answers: list[Any], expected: list[int], report: Any
) -> tuple[ExecResult, list[str]]:
    """Judge the answering candidate, and collect what the reporting one read, in one batch."""
    exp = [variant.expect(e) for e in expected]
    judged, reported = sandbox.run_many([variant.request(answers, exp), variant.request([report])])
    assert reported.status == "ok", (reported.compile_output[-2000:], reported.verdicts)
    return judged, variant.reported(reported.verdicts[0].output)


def assert_forgery_failed(judged: ExecResult, read: list[str]) -> None:
    """Nothing read, and every test answered (so it ran) but wrongly."""
    assert read == [], f"the candidate read {read}"
    assert not judged.passed, f"the forgery passed: {judged.verdicts}"
    assert [v.status for v in judged.verdicts] == ["wrong_answer"] * len(judged.verdicts), (
        judged.compile_output[-2000:],
        judged.verdicts,
    )
