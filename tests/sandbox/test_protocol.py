"""The supervisor/fork-server wire protocol, the status vocabulary, and the fork-server's stdlib-only imports."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from codefoundry.sandbox import ExecResult, TestVerdict, status
from codefoundry.sandbox.protocol import (
    EarlyStop,
    Hello,
    MeasureReply,
    MeasureRequest,
    ProbeReport,
    RunLimits,
    RunRequest,
    RunResponse,
    ServerConfig,
    TestResult,
)
from codefoundry.sandbox.status import Status

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"


def _wire(d: dict) -> dict:
    """What the other side reads: the message through JSON and back."""
    return json.loads(json.dumps(d, separators=(",", ":")))


def test_status_strings_never_change():
    # stored in result caches and records: renaming one would silently break them
    assert [s.value for s in Status] == [
        "ok",
        "pass",
        "wrong_answer",
        "runtime_error",
        "timeout",
        "memory_limit",
        "output_limit",
        "compile_error",
        "skipped",
        "sandbox_error",
    ]
    assert {"pass", "ok"} == status.SUCCESSES
    assert {
        "wrong_answer",
        "runtime_error",
        "timeout",
        "memory_limit",
        "output_limit",
        "compile_error",
        "sandbox_error",
    } == status.FAILURES
    assert set(Status) - {"compile_error", "sandbox_error"} == status.PER_TEST


def test_verdicts_hold_plain_strings():
    v = TestVerdict(status=Status.PASS)
    r = ExecResult(status="wrong_answer", passed=False, verdicts=[v])
    assert type(v.status) is str and type(r.status) is str
    assert repr(v.status) == "'pass'" and r.model_dump()["status"] == "wrong_answer"


def test_messages_round_trip():
    limits = RunLimits(
        time_s=5.0,
        per_test_time_s=2.0,
        cpu_s=5.0,
        memory_mb=512,
        output_kb=1024,
        file_size_mb=16,
        open_files=64,
        processes=32,
    )
    run = RunRequest(
        language={"name": "python", "mode": "python"},
        style="function",
        code="def f(x):\n    return x\n",
        program="",
        entry_point="f",
        tests=["[1]", "[2]"],
        limits=limits,
        stop_on_first_failure=True,
        early_stop=EarlyStop(expected=["1", None], mode="exact", rel_tol=1e-6, abs_tol=1e-9),
        build_cache="/tmp/b",
    )
    wire = _wire(run.to_dict())
    assert wire["op"] == "run"
    assert RunRequest.from_dict(wire) == run
    assert MeasureRequest.from_dict(_wire(MeasureRequest(n=7).to_dict())) == MeasureRequest(n=7)
    assert MeasureReply.from_dict(_wire(MeasureReply({"fork only": 1.5}).to_dict())).median_ms == {
        "fork only": 1.5
    }
    cfg = ServerConfig(
        scratch_root="/s", layers=["uid"], uid=5, tmpfs_mb=64, cgroup_name="c", preimport=["re"]
    )
    assert ServerConfig.from_dict(_wire(cfg.to_dict())) == cfg
    report = ProbeReport(
        notes={"uid": (True, "children run as uid 5")},
        checks={"uid": 5},
        iso_error="",
        pidns=True,
        server_pid=1,
        cgroup_dir=None,
        base_vsz_mb=40.0,
    )
    assert Hello.from_dict(_wire(Hello(report=report).to_dict())) == Hello(report=report)
    assert Hello.from_dict(_wire(Hello(report=None, fatal="OSError: x").to_dict())).fatal == "OSError: x"
    resp = RunResponse(
        tests=[
            TestResult(Status.OK, output="1", time_s=0.25, peak_kb=9000),
            TestResult(Status.RUNTIME_ERROR, error="killed by SIGSEGV", exit_code=-11),
            None,
        ],
        log="hello",
        wall_s=1.5,
        peak_kb=9000,
    )
    assert RunResponse.from_dict(_wire(resp.to_dict())) == resp


def test_test_results_keep_only_plain_fields():
    # the fork-server is trusted, but what it relays came from a child: odd types are dropped, not passed on
    r = TestResult.from_dict(
        {"status": 3, "output": {"x": 1}, "exit_code": "0", "error": "e", "time_s": None}
    )
    assert r == TestResult(status="", output=None, error="e", time_s=0.0, peak_kb=0, exit_code=None)
    assert RunResponse.from_dict({"sandbox_error": "fork-server hung"}).sandbox_error == "fork-server hung"
    assert RunResponse.from_dict({"tests": ["x", {}]}).tests[0] is None


def test_fork_server_imports_only_the_standard_library():
    """The fork-server's own modules pull in nothing but the stdlib and the stdlib-only sandbox modules."""
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(SRC)!r})\n"
        "before = set(sys.modules)\n"
        "import codefoundry.sandbox.server.boot\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    out = subprocess.run(
        [sys.executable, "-s", "-P", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        timeout=60,
    )
    loaded = json.loads(out.stdout.replace("'", '"'))
    stdlib_only = {
        "cgroups",
        "compare",
        "fsview",
        "harness",
        "isolation",
        "plaindata",
        "protocol",
        "status",
        "server",
    }
    ours = {m for m in loaded if m.startswith("codefoundry.")}
    unexpected = {m for m in ours if m.count(".") >= 2 and m.split(".")[2] not in stdlib_only}
    assert not unexpected, unexpected
    foreign = {m for m in loaded if m.split(".")[0] not in {*sys.stdlib_module_names, "codefoundry"}}
    assert not foreign, foreign


def test_children_inherit_a_lean_heap(sandbox):
    """What a child inherits is what the fork-server imported: no pydantic (it would slow every fork)."""
    from codefoundry.sandbox import ExecRequest, TestInput

    code = "import sys\ndef f():\n    return sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core'))\n"
    result = sandbox.run(ExecRequest(code=code, entry_point="f", tests=[TestInput(args=[])], mode="collect"))
    assert result.verdicts[0].status == "ok" and result.verdicts[0].output == []
