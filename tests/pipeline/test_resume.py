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
            {"kind": "filter.dedup"},
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
    """Every stage's committed record ids and drop (id, reason) pairs, as the manifest lists them (the latest
    line per batch of the stage's fingerprint)."""
    latest: dict[tuple[str, int], dict] = {}
    for line in (run_dir / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if not entry.get("done"):
            latest[(entry["stage"], entry["batch"])] = entry
    out: dict[str, list[str]] = {}
    for (stage, batch), entry in sorted(latest.items()):
        stage_dir = run_dir / "stages" / stage / entry["fingerprint"]
        records = (stage_dir / f"shard-{batch:05d}.jsonl").read_text().splitlines()
        drops = (stage_dir / f"drops-{batch:05d}.jsonl").read_text().splitlines()
        out.setdefault(stage, [])
        out[stage] += [json.loads(r)["id"] for r in records]
        out[stage] += [f"drop:{json.loads(d)['record_id']}:{json.loads(d)['reason']}" for d in drops]
    return {stage: sorted(items) for stage, items in out.items()}


def _overlaps(run_dir: Path) -> tuple[bool, bool]:
    """From the manifest's order: did a stage commit a batch before the stage feeding it finished (streaming),
    and did some stage commit its batches out of order (several batches in flight)?"""
    streamed = out_of_order = False
    done: set[str] = set()
    last_batch: dict[str, int] = {}
    order: list[str] = []
    for line in (run_dir / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        stage = entry["stage"]
        if stage not in order:
            order.append(stage)
        if entry.get("done"):
            done.add(stage)
            continue
        index = order.index(stage)
        if index > 0 and order[index - 1] not in done:
            streamed = True
        if entry["batch"] < last_batch.get(stage, -1):
            out_of_order = True
        last_batch[stage] = max(entry["batch"], last_batch.get(stage, -1))
    return streamed, out_of_order


@pytest.mark.slow
def test_sigkill_at_five_points_then_resume_gives_the_same_records(tmp_path: Path) -> None:
    recipe = _write_recipe(tmp_path / "recipe.yaml")
    reference_dir = tmp_path / "uninterrupted"
    done = _start(recipe, reference_dir)
    assert done.wait(timeout=600) == 0, done.stderr.read().decode()
    expected = _stage_contents(reference_dir)
    reference_export = (reference_dir / "export" / "sft.jsonl").read_text().splitlines()
    assert len(reference_export) > 0
    total_lines = _manifest_lines(reference_dir)
    assert total_lines > 20, "the corpus should give enough batches to kill a run mid-way"
    assert _overlaps(reference_dir) == (True, True), "stages should stream and keep several batches in flight"

    for k in range(1, 6):
        point = total_lines * k // 6
        run_dir = tmp_path / f"killed-{k}"
        process = _start(recipe, run_dir)
        deadline = time.monotonic() + 300
        while _manifest_lines(run_dir) < point and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert process.poll() is None, f"kill point {k}: the run ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        lines = _manifest_lines(run_dir)
        assert point <= lines < total_lines, f"kill point {k}: not mid-run ({lines} of {total_lines} lines)"

        resumed = _start(recipe, run_dir)
        assert resumed.wait(timeout=600) == 0, resumed.stderr.read().decode()
        got = _stage_contents(run_dir)
        assert got == expected, f"kill point {k}: resumed records differ"
        for stage, items in got.items():
            assert len(items) == len(set(items)), f"kill point {k}: duplicates in {stage}"
        exported = (run_dir / "export" / "sft.jsonl").read_text().splitlines()
        assert exported == reference_export, f"kill point {k}: export differs"
