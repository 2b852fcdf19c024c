"""Exporters: turn a run's verified problems into files trainers read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from codefoundry.export.rl import rl_row
from codefoundry.export.sft import sft_row
from codefoundry.export.writer import write_jsonl, write_rows
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import ExportConfig
from codefoundry.records import Problem

DUPLICATES = "duplicates.jsonl"
T = TypeVar("T")


def first_per_task(items: Iterable[T], task_id: Callable[[T], str]) -> tuple[list[T], list[tuple[T, T]]]:
    """The first item of each task (by task id, in order), and (later item, the first one) for the rest.

    The same prompt can come from two places (a function copied between modules, or ``ntpath.isabs`` and
    ``posixpath.isabs``, whose docstrings are the same while their tests are not): one task, one example.
    The run summary counts tasks with the same rule.
    """
    kept: dict[str, T] = {}
    duplicates: list[tuple[T, T]] = []
    for item in items:
        first = kept.setdefault(task_id(item), item)
        if first is not item:
            duplicates.append((item, first))
    return list(kept.values()), duplicates


def unique_tasks(problems: list[Problem]) -> tuple[list[Problem], list[dict[str, str]]]:
    """The first problem of each task and a row (with the one kept) for every later one."""
    kept, duplicates = first_per_task(problems, lambda problem: problem.task.id)
    rows = [
        {
            "reason": "duplicate_task",
            "task_id": problem.task.id,
            "problem_id": problem.id,
            "kept_problem_id": first.id,
            "source": f"{problem.task.provenance.path}:{problem.task.provenance.qualname}",
            "kept_source": f"{first.task.provenance.path}:{first.task.provenance.qualname}",
        }
        for problem, first in duplicates
    ]
    return kept, rows


def export_run(run_dir: RunDir, final_stage: str, config: ExportConfig) -> list[Path]:
    """Write the SFT and RL datasets from ``final_stage``'s committed records (one example per task; the
    duplicates skipped are listed in ``export/duplicates.jsonl``); returns the files."""
    problems = [Problem.model_validate(raw) for raw in run_dir.iter_records(final_stage)]
    problems, duplicates = unique_tasks([p for p in problems if p.reference is not None])
    written: list[Path] = []
    duplicates_path = run_dir.export_dir / DUPLICATES
    if duplicates:
        write_jsonl(duplicates_path, duplicates)
        written.append(duplicates_path)
    else:
        duplicates_path.unlink(missing_ok=True)
    if config.sft:
        written += write_rows(run_dir.export_dir, "sft", [sft_row(p) for p in problems], config.formats)
    if config.rl:
        written += write_rows(run_dir.export_dir, "rl", [rl_row(p) for p in problems], config.formats)
    return written
