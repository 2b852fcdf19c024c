"""Exporters: turn a run's verified problems into files trainers read."""

from __future__ import annotations

from pathlib import Path

from codefoundry.export.rl import rl_row
from codefoundry.export.sft import sft_row
from codefoundry.export.writer import write_jsonl, write_rows
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import ExportConfig
from codefoundry.records import Problem

DUPLICATES = "duplicates.jsonl"


def unique_tasks(problems: list[Problem]) -> tuple[list[Problem], list[dict[str, str]]]:
    """The first problem of each task (by task id, in record order) and a row for every later one.

    The same prompt can come from two places (a function copied between modules, or ``ntpath.isabs`` and
    ``posixpath.isabs``, whose docstrings are the same while their tests are not): one task, one example.
    """
    kept: dict[str, Problem] = {}
    duplicates: list[dict[str, str]] = []
    for problem in problems:
        first = kept.setdefault(problem.task.id, problem)
        if first is not problem:
            duplicates.append(
                {
                    "reason": "duplicate_task",
                    "task_id": problem.task.id,
                    "problem_id": problem.id,
                    "kept_problem_id": first.id,
                    "source": f"{problem.task.provenance.path}:{problem.task.provenance.qualname}",
                    "kept_source": f"{first.task.provenance.path}:{first.task.provenance.qualname}",
                }
            )
    return list(kept.values()), duplicates


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
