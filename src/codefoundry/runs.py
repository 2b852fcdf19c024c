"""A whole run, as the ``run`` and ``preview`` commands do it: the pipeline's stages (resuming), the export,
and ``summary.json``. It sits above the pipeline and the exporters, which do not know each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codefoundry.durable import write_json
from codefoundry.export import export_run
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.runner import ProgressSink, RunnerOptions, run_recipe
from codefoundry.pipeline.summary import summarize
from codefoundry.recipe import Recipe


def execute(
    recipe: Recipe,
    run_path: Path,
    *,
    progress: ProgressSink | None = None,
    preview_limit: int | None = None,
    runner: RunnerOptions | None = None,
) -> dict[str, Any]:
    """A whole run: the stages (resuming), the export, and the summary written to ``summary.json``."""
    report = run_recipe(recipe, run_path, progress=progress, preview_limit=preview_limit, runner=runner)
    run_dir = RunDir(run_path)
    planned = plan(recipe)
    written = export_run(run_dir, planned[-1], recipe.export)
    summary = summarize(run_dir, planned)
    summary["seconds"] = round(report.seconds, 2)
    summary["exported"] = [str(p.relative_to(run_dir.path)) for p in written]
    write_json(run_dir.summary_path, summary)
    return summary
