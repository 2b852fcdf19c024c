"""The exported SFT and RL files load with ``datasets.load_dataset`` as they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codefoundry.export import export_run
from codefoundry.filter.dedup import OnePerTask, OnePerTaskConfig
from codefoundry.pipeline.plan import PlannedStage
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import ExportConfig
from codefoundry.records import Problem, Provenance, Solution, Task, TestCase

FINAL = PlannedStage(0, "00-x", OnePerTask, OnePerTaskConfig(kind="filter.dedup"), "f" * 16)


def _problem(name: str, tests: list[tuple[list, object]]) -> Problem:
    task = Task(
        prompt=f"Implement {name}.",
        entry_point=name,
        provenance=Provenance(
            source="package:demo",
            path="demo/m.py",
            qualname=name,
            method="mine",
            package="demo",
            version="1.2",
            licence="MIT",
        ),
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
    run_dir.commit_batch(FINAL.name, 0, "k", problems, [], 0.0, FINAL.fingerprint)
    export_run(run_dir, FINAL, ExportConfig())
    return run_dir.export_dir


def test_jsonl_and_parquet_load_with_datasets(exported: Path) -> None:
    datasets = pytest.importorskip("datasets")
    for name in ("sft", "rl"):
        from_json = datasets.load_dataset("json", data_files=str(exported / f"{name}.jsonl"), split="train")
        from_parquet = datasets.load_dataset(
            "parquet", data_files=str(exported / f"{name}.parquet"), split="train"
        )
        assert len(from_json) == len(from_parquet) == 2
    sft = datasets.load_dataset("parquet", data_files=str(exported / "sft.parquet"), split="train")
    assert sft[0]["messages"][0]["role"] == "user"
    assert sft[0]["messages"][1]["content"].startswith("```python\n")
    assert sft[0]["lesson"] == ""  # every row has the column (textbook exercises fill it)
    rl = datasets.load_dataset("json", data_files=str(exported / "rl.jsonl"), split="train")
    first = rl[0]["tests"]
    assert json.loads(first[1]["expected"]) == {"k": 1.5}
    assert json.loads(first[0]["input"]) == [1, "a"]
    assert first[0]["split"] == "holdout"
    for row in (sft[0], rl[0]):
        assert (row["package"], row["package_version"], row["licence"]) == ("demo", "1.2", "MIT")
        assert row["origin"] == "demo/m.py:f" and row["source"] == "package:demo"
