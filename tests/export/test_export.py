"""The exported SFT and RL files load with ``datasets.load_dataset`` as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codefoundry.export import export_run
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import ExportConfig
from codefoundry.records import Problem, Provenance, Solution, Task, TestCase


def _problem(name: str, tests: list[tuple[list, object]]) -> Problem:
    task = Task(
        prompt=f"Implement {name}.",
        entry_point=name,
        provenance=Provenance(source="test", path="m.py", qualname=name, method="mine"),
    )
    return Problem(
        task=task,
        reference=Solution(task_id=task.id, code=f"def {name}(*a):\n    return a\n"),
        tests=[
            TestCase(task_id=task.id, args=args, expected=expected, split="holdout" if i == 0 else "visible")
            for i, (args, expected) in enumerate(tests)
        ],
        mutation_score=0.75,
    )


@pytest.fixture()
def exported(tmp_path: Path) -> Path:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    problems = [
        _problem("f", [([1, "a"], [1, "a"]), ([[1, 2], None], {"k": 1.5})]),  # mixed types in one list
        _problem("g", [([True], 3)]),
    ]
    run_dir.commit_batch("00-x", 0, "k", problems, [], 0.0)
    export_run(run_dir, "00-x", ExportConfig())
    return run_dir.export_dir


def test_jsonl_and_parquet_load_with_datasets(exported: Path) -> None:
    datasets = pytest.importorskip("datasets")
    for name in ("sft", "rl"):
        from_json = datasets.load_dataset("json", data_files=str(exported / f"{name}.jsonl"), split="train")
        from_parquet = datasets.load_dataset("parquet", data_files=str(exported / f"{name}.parquet"), split="train")
        assert len(from_json) == len(from_parquet) == 2
    sft = datasets.load_dataset("parquet", data_files=str(exported / "sft.parquet"), split="train")
    assert sft[0]["messages"][0]["role"] == "user"
    assert sft[0]["messages"][1]["content"].startswith("```python\n")
    rl = datasets.load_dataset("json", data_files=str(exported / "rl.jsonl"), split="train")
    first = rl[0]["tests"]
    assert json.loads(first[1]["expected"]) == {"k": 1.5}
    assert json.loads(first[0]["input"]) == [1, "a"]
    assert first[0]["split"] == "holdout"


def test_a_task_met_twice_is_exported_once_and_the_duplicate_listed(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    first = _problem("isabs", [(["/a"], True)])
    elsewhere = first.task.model_copy(
        update={"provenance": Provenance(source="test", path="nt.py", qualname="isabs", method="mine")}
    )
    elsewhere = Task.model_validate(elsewhere.model_dump(exclude={"id"}))  # same prompt, another module
    second = Problem(
        task=elsewhere,
        reference=Solution(task_id=elsewhere.id, code="def isabs(p):\n    return p[:1] in '/\\\\'\n"),
        tests=[TestCase(task_id=elsewhere.id, args=["\\a"], expected=True)],
    )
    assert second.id != first.id and second.task.id == first.task.id
    run_dir.commit_batch("00-x", 0, "k", [first, second, _problem("g", [([1], 1)])], [], 0.0)
    export_run(run_dir, "00-x", ExportConfig(formats=["jsonl"]))
    rows = [json.loads(line) for line in (run_dir.export_dir / "rl.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [first.id, _problem("g", [([1], 1)]).id]
    (dup,) = [json.loads(line) for line in (run_dir.export_dir / "duplicates.jsonl").read_text().splitlines()]
    assert dup["reason"] == "duplicate_task" and dup["problem_id"] == second.id
    assert dup["kept_problem_id"] == first.id

    from codefoundry.pipeline.summary import summarize

    assert summarize(run_dir, ["00-x"])["final"]["tasks"] == 2
    assert summarize(run_dir, ["00-x"])["final"]["duplicate_tasks"] == 1
