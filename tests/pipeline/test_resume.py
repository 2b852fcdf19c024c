"""A run killed with SIGKILL at any moment finishes, on restart, with exactly an uninterrupted run's records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"


def _write_recipe(path: Path) -> Path:
    recipe = {
        "name": "resume-test",
        "stages": [
            {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(CORPUS)}, "batch_size": 1},
            {"kind": "mine.tasks", "batch_size": 2},
            {"kind": "testgen.mined", "batch_size": 2},
            {"kind": "verify.reference", "batch_size": 2},
            {"kind": "verify.mutation", "batch_size": 2},
        ],
    }
    path.write_text(yaml.safe_dump(recipe))
    return path


def _start(recipe: Path, run_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "codefoundry", "run", str(recipe), "--run-dir", str(run_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _manifest_lines(run_dir: Path) -> int:
    path = run_dir / "manifest.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def _stage_contents(run_dir: Path) -> dict[str, list[str]]:
    """Every stage's committed record ids and drop (id, reason) pairs, as the manifest lists them."""
    out: dict[str, list[str]] = {}
    for line in (run_dir / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("done"):
            continue
        stage_dir = run_dir / "stages" / entry["stage"]
        records = (stage_dir / f"shard-{entry['batch']:05d}.jsonl").read_text().splitlines()
        drops = (stage_dir / f"drops-{entry['batch']:05d}.jsonl").read_text().splitlines()
        out.setdefault(entry["stage"], [])
        out[entry["stage"]] += [json.loads(r)["id"] for r in records]
        out[entry["stage"]] += [f"drop:{json.loads(d)['record_id']}:{json.loads(d)['reason']}" for d in drops]
    return {stage: sorted(items) for stage, items in out.items()}


@pytest.mark.slow
def test_sigkill_at_several_points_then_resume_gives_the_same_records(tmp_path: Path) -> None:
    recipe = _write_recipe(tmp_path / "recipe.yaml")
    reference_dir = tmp_path / "uninterrupted"
    done = _start(recipe, reference_dir)
    assert done.wait(timeout=600) == 0, done.stderr.read().decode()
    expected = _stage_contents(reference_dir)
    total_lines = _manifest_lines(reference_dir)
    assert total_lines > 10, "the corpus should give enough batches to kill a run mid-way"

    run_dir = tmp_path / "killed"
    kill_points = sorted({max(1, total_lines * k // 5) for k in (1, 2, 3, 4)})
    for point in kill_points:
        process = _start(recipe, run_dir)
        deadline = time.monotonic() + 300
        while _manifest_lines(run_dir) < point and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    final = _start(recipe, run_dir)
    assert final.wait(timeout=600) == 0, final.stderr.read().decode()

    got = _stage_contents(run_dir)
    assert got == expected
    for stage, items in got.items():
        assert len(items) == len(set(items)), f"duplicates in {stage}"
    exported = (run_dir / "export" / "sft.jsonl").read_text().splitlines()
    reference_export = (reference_dir / "export" / "sft.jsonl").read_text().splitlines()
    assert sorted(exported) == sorted(reference_export)
    assert len(reference_export) > 0
