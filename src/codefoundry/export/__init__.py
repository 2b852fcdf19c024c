"""Exporters: turn a run's verified problems into files trainers read. They only write: what is kept was
decided by the stages (``filter.dedup`` keeps one example per task)."""

from __future__ import annotations

from pathlib import Path

from codefoundry.export.preference import preference_rows
from codefoundry.export.rl import rl_row
from codefoundry.export.sft import sft_row
from codefoundry.export.writer import write_rows
from codefoundry.pipeline.plan import PlannedStage
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import ExportConfig
from codefoundry.records import Problem


def export_run(run_dir: RunDir, final: PlannedStage, config: ExportConfig) -> list[Path]:
    """Write the SFT, RL and preference datasets from the final stage's committed records; returns the files
    (no preference file when no task has both a passing and a failing solution)."""
    raw = run_dir.iter_records(final.name, final.fingerprint)
    problems = [p for p in (Problem.model_validate(r) for r in raw) if p.reference is not None]
    written: list[Path] = []
    if config.sft:
        written += write_rows(run_dir.export_dir, "sft", [sft_row(p) for p in problems], config.formats)
    if config.rl:
        written += write_rows(run_dir.export_dir, "rl", [rl_row(p) for p in problems], config.formats)
    if config.preference:
        pairs = [row for p in problems for row in preference_rows(p)]
        if pairs:
            written += write_rows(run_dir.export_dir, "preference", pairs, config.formats)
    return written
