"""Memory forgeries: candidates that read secrets or expected outputs from processes instead of computing them.

A candidate that can read another process's ``/proc`` entries, or the expected outputs in its own memory,
can pass without solving anything. Each forgery here must fail in the sandbox and find nothing. Each is also
run as a plain process of the test (or, for memory, against the protocol's own objects), where it must
succeed: so a pass here means the sandbox stopped it, not that the forgery was broken. The candidates are in
``forgeries/``; files on disk are in ``test_file_forgeries.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codefoundry.sandbox import Limits, Sandbox, SandboxConfig
from codefoundry.sandbox.plaindata import dumps_plain
from codefoundry.sandbox.protocol import EarlyStop, RunLimits, RunRequest

from .forgeries_support import MEMORY, PROC, ROOT_ONLY, Native, Plant, new_expected, new_marker, plain

# ---------------------------------------------------------------------------------------------------------
# 1. /proc: the supervisor's and other host processes' environment, arguments, open files and memory.
# ---------------------------------------------------------------------------------------------------------


@ROOT_ONLY
def test_proc_of_the_supervisor_and_host_processes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, plant: Plant, native: Native
) -> None:
    """The secret is in the supervisor's environment and memory, in a file it holds open, and in the
    environment and arguments of another host process; the candidate knows all their pids and paths."""
    marker = new_marker()
    monkeypatch.setenv("CF_SECRET_TOKEN", marker)  # before the fork-servers start
    held_path = tmp_path / "held-task.json"
    held_path.write_text(json.dumps({"marker": marker, "tests": [{"args": [1], "expected": 2}]}))
    world_path = plant("task.json", json.dumps({"marker": marker}), where=("tmp",))[0]
    helper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)", marker],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CF_SECRET_TOKEN": marker},
    )
    try:
        with open(held_path, "rb") as held:
            pids = [os.getpid(), helper.pid]
            paths = [str(held_path), str(world_path)]

            # control: a plain process (no pid list beyond these two, so it reads nothing else of the host)
            hits = plain(native, PROC, [pids, paths, False])["hits"]
            me, other = pids
            for label in (
                f"/proc/{other}/environ",
                f"/proc/{other}/cmdline",
                f"/proc/{me}/fd/{held.fileno()}",
            ):
                assert marker in json.dumps(hits.get(label)), (label, sorted(hits))
            assert marker in json.dumps(hits.get(f"/proc/{me}/root{held_path}")), sorted(hits)

            with Sandbox(SandboxConfig(workers=1)) as sb:
                res = sb.run(PROC.request([[pids, paths, True]]))
    finally:
        helper.kill()
        helper.wait()
    verdict = res.verdicts[0]
    assert verdict.status == "ok", verdict
    out = verdict.output
    leaked = sorted(label for label, found in out["hits"].items() if marker in json.dumps(found))
    assert marker not in json.dumps(out), (
        f"the candidate read the secret from {leaked}; readable: {out['readable']}"
    )


# ---------------------------------------------------------------------------------------------------------
# 2. Memory: with stop_on_first_failure, expected outputs that reach the fork-server reach the child.
# ---------------------------------------------------------------------------------------------------------


def test_memory_forgery_works_against_the_protocol_objects() -> None:
    """Control: given a fork-server-like stack holding a real RunRequest, the memory candidate finds the answer."""
    if "early_stop" not in {f.name for f in dataclasses.fields(RunRequest)}:
        pytest.skip("the fork-server no longer receives expected outputs")
    variant = MEMORY["function"]
    xs = random.sample(range(1000), 2)
    expected = [new_expected() for _ in xs]
    req = RunRequest(
        language={},
        style="function",
        code=variant.code,
        program="",
        entry_point="f",
        tests=[dumps_plain([x]) for x in xs],
        limits=RunLimits.from_dict(Limits().model_dump()),
        stop_on_first_failure=True,
        early_stop=EarlyStop(
            expected=[dumps_plain(e) for e in expected], mode="exact", rel_tol=1e-6, abs_tol=1e-9
        ),
        build_cache="",
    )
    namespace: dict[str, Any] = {}
    exec(compile(variant.code, "solution", "exec"), namespace)

    def serve(req: RunRequest, x: int) -> Any:
        return namespace["f"](x)

    assert [serve(req, x) for x in xs] == expected


@pytest.mark.parametrize("style", list(MEMORY))
def test_expected_outputs_are_not_in_the_childs_memory_when_stopping_early(
    sandbox: Sandbox, style: str
) -> None:
    """The child is forked from a fork-server that holds the early-stop data; it must not find it."""
    variant = MEMORY[style]
    xs = random.sample(range(1000), 2)
    expected = [new_expected() for _ in xs]
    plans = [variant.plan(x) for x in xs]
    res = sandbox.run(
        variant.request(plans, [variant.expect(e) for e in expected], stop_on_first_failure=True)
    )
    outputs = json.dumps([v.output for v in res.verdicts])
    leaked = [e for e in expected if str(e) in outputs]
    assert leaked == [], f"the candidate found expected outputs {leaked} in its memory: {res.verdicts}"
    assert not res.passed, res.verdicts
    assert res.verdicts[0].status == "wrong_answer", res.verdicts
