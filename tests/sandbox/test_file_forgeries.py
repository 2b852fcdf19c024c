"""File-reading forgeries: candidates that look up expected outputs or secrets on disk instead of computing them.

A candidate that can read a task file, a run directory or a world-readable secret can pass without solving
anything. Each forgery here must fail in the sandbox and find nothing. Each is also run as a plain process
of the test, where it must succeed: so a pass here means the sandbox stopped it, not that the forgery was
broken. The candidates are in ``forgeries/``; /proc and memory are in ``test_memory_forgeries.py``.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from codefoundry.pipeline.rundir import RunDir
from codefoundry.sandbox import Sandbox
from codefoundry.sandbox.api import ExecResult, TestVerdict
from codefoundry.sandbox.cache import ResultCache, request_key

from .forgeries_support import (
    HUNTERS,
    PEEKERS,
    ROOT_ONLY,
    WALK_ROOTS,
    Native,
    Plant,
    Variant,
    assert_forgery_failed,
    judge_and_report,
    need,
    new_expected,
    new_marker,
    plain,
)

# ---------------------------------------------------------------------------------------------------------
# 1. A task file (as `codefoundry sandbox judge` reads it) left where a candidate can walk to it.
# ---------------------------------------------------------------------------------------------------------


@ROOT_ONLY
@pytest.mark.parametrize("variant", HUNTERS, ids=lambda v: v.name)
def test_task_file_on_disk_is_out_of_reach(
    sandbox: Sandbox, plant: Plant, native: Native, variant: Variant
) -> None:
    """A walk of the usual roots (and the test's working directory) must not reach any copy of the task."""
    need(variant.language)
    marker = new_marker()
    # plus the test's working and temporary directories, wherever they are
    places = list(dict.fromkeys([*WALK_ROOTS, os.getcwd(), tempfile.gettempdir()]))
    xs = random.sample(range(1000), 2)
    expected = [new_expected() for _ in xs]
    answers = [variant.plan(marker, "answer", x, places) for x in xs]
    task = {
        "marker": marker,
        "tests": [variant.task_test(p, e) for p, e in zip(answers, expected, strict=True)],
    }
    planted = plant("task.json", json.dumps(task))
    report = variant.plan(marker, "report", -1, places)

    # control: as a plain process it finds every copy and the right answers
    found = {os.path.realpath(p) for p in variant.reported(plain(native, variant, report))}
    assert {str(p) for p in planted} <= found, found
    for plan, exp in zip(answers, expected, strict=True):
        assert variant.answered(plain(native, variant, plan), exp)

    judged, read = judge_and_report(sandbox, variant, answers, expected, report)
    assert_forgery_failed(judged, read)


# ---------------------------------------------------------------------------------------------------------
# 2. A run directory: shards and the execution cache hold every task's expected outputs.
# ---------------------------------------------------------------------------------------------------------


class _TaskRecord(BaseModel):
    marker: str
    tests: list[dict[str, Any]]


@ROOT_ONLY
@pytest.mark.parametrize("variant", HUNTERS[:3], ids=lambda v: v.name)
def test_run_directory_is_out_of_reach(
    sandbox: Sandbox, scratch_world_dir: Path, native: Native, variant: Variant
) -> None:
    """Even given the exact paths of a shard and of the cache, under a parent anyone may enter."""
    need(variant.language)
    marker = new_marker()
    run = RunDir(scratch_world_dir / "run")
    run.create()
    shard = run.shard_path("04-label", "fp0123456789", 0)
    db = run.cache_dir / "executions.sqlite"
    places = [
        str(p) for p in (run.manifest_path, shard, db, Path(f"{db}-wal"), run.path / "stages", run.path)
    ]
    x, exp = random.randrange(1000), new_expected()
    answer = variant.plan(marker, "answer", x, places)
    run.commit_batch(
        "04-label",
        0,
        "batch-key",
        [_TaskRecord(marker=marker, tests=[variant.task_test(answer, exp)])],
        [],
        0.0,
        fingerprint="fp0123456789",
    )
    cache = ResultCache(db)
    honest = variant.request([answer], [variant.expect(exp)])
    cache.put(
        request_key(honest),
        ExecResult(
            status="pass", passed=True, verdicts=[TestVerdict(status="pass", output=exp)], stderr=marker
        ),
    )
    cache.close()
    report = variant.plan(marker, "report", -1, places)

    found = variant.reported(plain(native, variant, report))
    assert str(shard) in found and any(p.startswith(str(db)) for p in found), found
    assert variant.answered(plain(native, variant, answer), exp)

    judged, read = judge_and_report(sandbox, variant, [answer], [exp], report)
    assert_forgery_failed(judged, read)


# ---------------------------------------------------------------------------------------------------------
# 3. A world-readable secret in someone's directory under /tmp or /home.
# ---------------------------------------------------------------------------------------------------------


@ROOT_ONLY
@pytest.mark.parametrize("variant", PEEKERS, ids=lambda v: v.name)
def test_world_readable_secret_is_out_of_reach(
    sandbox: Sandbox, plant: Plant, native: Native, variant: Variant
) -> None:
    """Files 0644 in 0755 directories: readable by every uid on the host, and still not by a candidate."""
    need(variant.language)
    marker = new_marker()
    planted = plant("secret.txt", f"{marker}\n", where=("tmp", "home"))
    plan = variant.plan(["/tmp", "/home"])

    control = json.dumps(plain(native, variant, plan))
    assert all(str(p) in control for p in planted) and marker in control

    res = sandbox.run(variant.request([plan]))
    verdict = res.verdicts[0]
    assert verdict.status == "ok", (res.compile_output[-2000:], verdict)
    out = json.dumps(verdict.output)
    leaked = [str(p) for p in planted if str(p) in out]
    assert marker not in out, f"the candidate read the secret (listed: {leaked})"
