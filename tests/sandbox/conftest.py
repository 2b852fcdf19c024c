"""Fixtures: a shared sandbox for well-behaved programs, and a confined runner for hostile ones."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import pytest

from codefoundry.sandbox import ExecRequest

RUNNER = pathlib.Path(__file__).with_name("hostile_runner.py")


def _can_confine() -> str:
    if os.geteuid() != 0:
        return "hostile tests need root (PID namespace + cgroup confinement of the test runner)"
    if shutil.which("unshare") is None:
        return "util-linux unshare not found"
    return ""


@pytest.fixture()
def run_hostile():
    """Run one request in a fresh sandbox inside its own PID namespace and cgroups; return the report."""
    why = _can_confine()
    if why:
        pytest.skip(why)

    def _run(
        request: ExecRequest, follow: ExecRequest | None = None, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        payload = {
            "request": request.model_dump(mode="json"),
            "follow": follow.model_dump(mode="json") if follow else None,
        }
        cmd = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", sys.executable, str(RUNNER)]
        proc = subprocess.run(
            cmd,
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, **(env or {})},
        )
        assert proc.returncode == 0, f"runner failed ({proc.returncode}): {proc.stderr[-3000:]}"
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        report["runner_stderr"] = proc.stderr
        # Nothing but the runner (PID 1) and the fork-server pair may exist during the run,
        # and nothing but the runner once the sandbox is closed.
        assert len(report["procs_during"]) <= 3, report["procs_during"]
        assert len(report["procs_after"]) == 1, report["procs_after"]
        return report

    return _run
