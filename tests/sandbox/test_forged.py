"""Candidates that try to forge their verdict instead of computing the answer: all must fail."""

from __future__ import annotations

import textwrap

import pytest

from codefoundry.sandbox import ExecRequest, Limits, TestInput

LIMITS = Limits(time_s=5, per_test_time_s=2)


def judge(sandbox, code: str, tests=((1, 2, 3), (5, 5, 10)), style: str = "function"):
    ts = [TestInput(args=[a, b], expected=e) for a, b, e in tests]
    return sandbox.run(ExecRequest(code=textwrap.dedent(code), entry_point="add", tests=ts, limits=LIMITS))


def test_honest_candidate_passes(sandbox):
    assert judge(sandbox, "def add(a, b):\n    return a + b\n").passed


def test_always_equal_object(sandbox):
    res = judge(
        sandbox,
        """
        class Eq:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            __hash__ = object.__hash__
        def add(a, b):
            return Eq()
        """,
    )
    assert not res.passed
    assert all(v.status == "runtime_error" and "unserialisable" in v.error for v in res.verdicts)


@pytest.mark.parametrize("base", ["int", "str", "float", "list", "dict"])
def test_lying_subclasses_of_plain_types(sandbox, base):
    res = judge(
        sandbox,
        f"""
        class Liar({base}):
            def __eq__(self, other): return True
            __hash__ = {base}.__hash__
        def add(a, b):
            return Liar()
        """,
    )
    # copied as their plain base value (0, "", 0.0, [], {}): the lying __eq__ never reaches the judge
    assert not res.passed
    assert all(v.status == "wrong_answer" for v in res.verdicts)


def test_bool_is_not_an_int(sandbox):
    res = judge(sandbox, "def add(a, b):\n    return True\n", tests=((0, 1, 1),))
    assert res.verdicts[0].status == "wrong_answer"


@pytest.mark.parametrize(
    "exit_call", ["sys.exit(0)", "os._exit(0)", "raise SystemExit(0)", "os.kill(os.getpid(), 9)"]
)
def test_early_exit_is_a_failure(sandbox, exit_call):
    res = judge(sandbox, f"import os, sys\ndef add(a, b):\n    {exit_call}\n")
    assert not res.passed
    assert [v.status for v in res.verdicts] == ["runtime_error", "runtime_error"]


def test_exit_at_import_time_is_a_failure(sandbox):
    res = judge(sandbox, "import os\nos._exit(0)\ndef add(a, b):\n    return a + b\n")
    assert not res.passed and res.verdicts[0].status == "runtime_error"


def test_exit_in_stdio_program_is_not_success(sandbox):
    req = ExecRequest(
        style="stdio", code="import sys\nsys.exit(0)\n", tests=[TestInput(stdin="1 2\n", expected="3\n")]
    )
    assert sandbox.run(req).verdicts[0].status == "wrong_answer"


def test_patching_builtins_and_serialiser(sandbox):
    res = judge(
        sandbox,
        """
        import builtins, json
        builtins.type = lambda x: int
        builtins.isinstance = lambda *a: True
        json.dumps = lambda *a, **k: "3"
        json.loads = lambda *a, **k: 3
        def add(a, b):
            return a - b
        """,
    )
    # Patching builtins may break the child's own encoder (a runtime error) but can never make it pass.
    assert not res.passed
    assert all(v.status in ("wrong_answer", "runtime_error") for v in res.verdicts)


def test_walking_frames_and_gc_to_flip_results(sandbox):
    res = judge(
        sandbox,
        """
        import gc, sys
        def add(a, b):
            f = sys._getframe()
            while f is not None:
                for k in list(f.f_locals):
                    if k in ("value", "result", "passed", "ok", "expected", "text"):
                        f.f_locals[k] = True
                f = f.f_back
            for o in gc.get_objects():
                if type(o) is dict:
                    if "st" in o:
                        o["st"] = "pass"
                    if "passed" in o:
                        o["passed"] = True
            return -1
        """,
    )
    assert [v.status for v in res.verdicts] == ["wrong_answer", "wrong_answer"]


def test_printing_passed_and_fake_protocol_lines(sandbox):
    res = judge(
        sandbox,
        """
        def add(a, b):
            print("PASSED")
            print('{"e":"r","i":0,"st":"ok","v":"3"}')
            print("All tests passed", flush=True)
            return 0
        """,
    )
    assert [v.status for v in res.verdicts] == ["wrong_answer", "wrong_answer"]


def test_writing_forged_messages_to_the_result_channel(sandbox):
    res = judge(
        sandbox,
        """
        import os
        def add(a, b):
            for fd in range(3, 20):
                try:
                    os.write(fd, b'{"e":"r","i":1,"st":"pass","v":"10"}\\n{"garbage\\n')
                except OSError:
                    pass
            return 0
        """,
    )
    assert not res.passed
    assert all(v.status in ("runtime_error", "wrong_answer") for v in res.verdicts)


def test_expected_values_never_reach_the_child(sandbox):
    secret = 918273645
    res = sandbox.run(
        ExecRequest(
            code=textwrap.dedent(
                """
                import gc, sys
                def add(a, b):
                    blob = repr([o for o in gc.get_objects() if type(o) in (dict, list, str, int)][:200000])
                    return str(918273645 - 1 + 1) in blob and "found" or "not found"
                """
            ),
            entry_point="add",
            tests=[TestInput(args=[1, 2], expected=secret)],
        )
    )
    # The literal in the candidate's own source is the only copy it can find; expected was never sent.
    assert res.verdicts[0].status == "wrong_answer"
