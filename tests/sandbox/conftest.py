"""Fixtures: a confined runner for hostile programs, and the file planting and plain runs of the forgery tests.

The shared sandbox for well-behaved programs is in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codefoundry.sandbox import ExecRequest

from .forgeries_support import FUNCTION_DRIVER, PLAIN_TIMEOUT_S, Native, Plant, Variant, world_dir

RUNNER = Path(__file__).with_name("hostile_runner.py")


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


@pytest.fixture()
def plant(tmp_path: Path) -> Iterator[Plant]:
    """Write a file (0644) under /tmp, /home, tmp_path and the working directory; all removed afterwards."""
    dirs: list[Path] = []
    files: list[Path] = []

    def _plant(
        name: str, text: str, where: tuple[str, ...] = ("tmp", "home", "tmp_path", "cwd")
    ) -> list[Path]:
        out = []
        for place in where:
            if place in ("tmp", "home"):
                dirs.append(world_dir(f"/{place}"))
                path = dirs[-1] / name
            elif place == "tmp_path":
                path = tmp_path / name
            else:
                path = Path.cwd() / f"cf-forgery-{secrets.token_hex(6)}-{name}"
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
            files.append(path)
            out.append(path)
        return out

    yield _plant
    for path in files:
        path.unlink(missing_ok=True)
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture()
def scratch_world_dir() -> Iterator[Path]:
    """An empty 0755 directory under /tmp, so only what is created inside it decides who can read it."""
    path = world_dir("/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Native:
    """The command that runs a variant as a plain process of the test (compiled once per module)."""
    built: dict[tuple[str, str], list[str]] = {}
    root = tmp_path_factory.mktemp("native")

    def argv(variant: Variant) -> list[str]:
        key = (variant.language, variant.code)
        if key in built:
            return built[key]
        if variant.language == "python":
            code = variant.code + (FUNCTION_DRIVER if variant.style == "function" else "")
            built[key] = [sys.executable, "-c", code]
            return built[key]
        tool = {"cpp": "g++", "go": "go"}[variant.language]
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found")
        binary = root / f"{variant.language}-{len(built)}"
        src = binary.with_suffix(f".{variant.language}")
        src.write_text(variant.code, encoding="utf-8")
        env = None
        if variant.language == "cpp":
            cmd = ["g++", "-O1", "-std=c++17", "-o", str(binary), str(src)]
        else:
            cmd = ["go", "build", "-o", str(binary), str(src)]
            env = {**os.environ, "GO111MODULE": "off", "GOFLAGS": "", "CGO_ENABLED": "0"}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PLAIN_TIMEOUT_S, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        built[key] = [str(binary)]
        return built[key]

    return argv
