"""A driver of a Ray run killed with SIGKILL mid-run resumes, on the cluster, to the exports of an
uninterrupted local run, without asking the teacher again for what it had already answered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from codefoundry.pipeline.runner import RunnerOptions
from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute

CORPUS = Path(__file__).parent.parent.parent / "fixtures" / "corpus"


def _recipe(base_url: str) -> dict[str, Any]:
    return {
        "name": "ray-resume",
        "teachers": {
            "default": {
                "base_url": base_url,
                "model": "scripted",
                "max_retries": 0,
                "max_concurrency": 2,
            }
        },
        "stages": [
            {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(CORPUS)}},
            {"kind": "synth.oss_instruct", "min_tests": 3, "batch_size": 1},
            {"kind": "verify.reference", "batch_size": 1},
            {"kind": "verify.mutation", "batch_size": 1},
            {"kind": "filter.dedup"},
        ],
    }


def _committed(run_dir: Path, stage: str) -> int:
    manifest = run_dir / "manifest.jsonl"
    if not manifest.exists():
        return 0
    return sum(f'"stage":"{stage}"' in line.replace(" ", "") for line in manifest.read_text().splitlines())


def _driver(recipe: Path, run_dir: Path, address: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "codefoundry", "run", str(recipe), "--run-dir", str(run_dir)]
    command += ["--runner", "ray", "--address", address]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


@pytest.mark.slow
def test_a_sigkilled_driver_resumes_to_the_exports_of_an_uninterrupted_run(
    tmp_path: Path, ray_cluster: str, teacher_server: Any
) -> None:
    teacher_server.state.latency_s = 0.5  # slow enough to kill the driver with teacher calls in flight
    recipe = _recipe(teacher_server.base_url)
    execute(recipe_from_dict(recipe), tmp_path / "local", runner=RunnerOptions())
    expected = {p.name: p.read_bytes() for p in sorted((tmp_path / "local" / "export").iterdir())}
    calls = len(teacher_server.generations())

    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    run_dir = tmp_path / "ray"
    driver = _driver(path, run_dir, ray_cluster)
    deadline = time.monotonic() + 120
    while _committed(run_dir, "01-synth.oss_instruct") < 1 and time.monotonic() < deadline:
        assert driver.poll() is None, driver.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
        time.sleep(0.05)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait()
    killed_at = len(teacher_server.generations()) - calls
    assert 0 < killed_at < calls, "the driver was not killed mid-run"

    resumed = _driver(path, run_dir, ray_cluster)
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr.decode()[-3000:]
    assert {p.name: p.read_bytes() for p in sorted((run_dir / "export").iterdir())} == expected
    # answers that arrived before the kill were cached: at most the calls in flight are asked again
    in_flight = 2
    assert calls <= len(teacher_server.generations()) - calls <= calls + in_flight
