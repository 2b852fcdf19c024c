"""``filter.dedup``: one example per task; every later problem of a task is dropped with the one kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

from codefoundry.filter.dedup import OnePerTask, OnePerTaskConfig
from codefoundry.pipeline.services import Services
from codefoundry.pipeline.stage import StageContext
from codefoundry.records import Problem, Provenance, Solution, Task, TestCase


def _problem(path: str, code: str, args: list) -> Problem:
    task = Task(
        prompt="Implement isabs.",
        entry_point="isabs",
        provenance=Provenance(source="stdlib", path=path, qualname="isabs", method="mine"),
    )
    return Problem(
        task=task,
        reference=Solution(task_id=task.id, code=code),
        tests=[TestCase(task_id=task.id, args=args, expected=True)],
    )


def test_a_task_met_twice_is_kept_once_and_the_duplicate_dropped_with_the_one_kept(tmp_path: Path) -> None:
    first = _problem("posixpath.py", "def isabs(p):\n    return p[:1] == '/'\n", ["/a"])
    second = _problem("ntpath.py", "def isabs(p):\n    return p[:1] in '/\\\\'\n", ["\\a"])
    other = Problem(task=Task(prompt="Implement g.", entry_point="g", provenance=Provenance(source="t")))
    assert second.id != first.id and second.task.id == first.task.id
    stage = OnePerTask(OnePerTaskConfig(), StageContext(Services(tmp_path), "05-filter.dedup"))
    result = asyncio.run(stage.process_all([first, second, other]))
    assert [p.id for p in result.records] == [first.id, other.id]
    (drop,) = result.drops
    assert (drop.stage, drop.reason, drop.record_id) == ("05-filter.dedup", "duplicate_task", second.id)
    assert first.id in drop.detail and "posixpath.py" in drop.detail and "ntpath.py" in drop.detail
