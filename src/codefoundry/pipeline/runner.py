"""The local runner: runs a recipe's stages in order over a run directory, resuming what is done.

Each stage reads the previous stage's committed records, cuts them into batches of ``batch_size`` in a
fixed order, and skips the batches the manifest already lists. Batch boundaries depend only on the input
records, so a resumed run cuts the same batches and gets the same shards. Parallelism lives inside the
stages' services (the sandbox's worker pool, the teacher client's concurrency), not in the runner.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from codefoundry.errors import UserError
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.services import Teachers
from codefoundry.pipeline.stage import Stage, StageContext
from codefoundry.recipe import Recipe, RecipeError, recipe_from_dict, stage_class
from codefoundry.records import content_hash


@dataclass
class StageReport:
    """What one stage did in this run (including work done before a resume)."""

    name: str
    inputs: int = 0
    records: int = 0
    drops: int = 0
    batches_run: int = 0
    batches_skipped: int = 0
    seconds: float = 0.0


@dataclass
class RunReport:
    run_dir: Path
    stages: list[StageReport] = field(default_factory=list)
    seconds: float = 0.0
    preview: bool = False


class ProgressSink:
    """How the runner reports progress; the CLI passes a rich-backed one, tests the silent default."""

    def stage_started(self, name: str, total: int) -> None: ...

    def advance(self, name: str, n: int) -> None: ...

    def stage_finished(self, report: StageReport) -> None: ...


def stage_names(recipe: Recipe) -> list[str]:
    """Directory names of the recipe's stages: position + kind, so a kind may appear twice."""
    return [f"{index:02d}-{stage.kind}" for index, stage in enumerate(recipe.stages)]


def prepare_run_dir(recipe: Recipe, path: Path, *, resume_only: bool = False) -> RunDir:
    """Create a run directory, or check that an existing one was started with the same recipe."""
    run_dir = RunDir(path)
    snapshot = recipe.to_yaml()
    if run_dir.exists():
        previous = recipe_from_dict(yaml.safe_load(run_dir.recipe_path.read_text()), str(run_dir.recipe_path))
        if previous.to_yaml() != snapshot:
            raise RecipeError(
                f"{run_dir.recipe_path}: this run directory was started with a different recipe; "
                "use a new --run-dir (or delete this one) to run a changed recipe"
            )
    elif resume_only:
        raise RecipeError(f"{path}: not a codefoundry run directory (no recipe.yaml)")
    else:
        run_dir.create()
        tmp = run_dir.recipe_path.with_suffix(".tmp")
        tmp.write_text(snapshot, encoding="utf-8")
        tmp.replace(run_dir.recipe_path)
    return run_dir


def _sandbox_factory(recipe: Recipe, run_dir: RunDir) -> Callable[[], Any]:
    def build() -> Any:
        from codefoundry.sandbox import Sandbox
        from codefoundry.sandbox.config import SandboxConfig

        return Sandbox(SandboxConfig.model_validate(recipe.sandbox), cache_path=run_dir.cache_dir / "executions.sqlite")

    return build


def run_recipe(
    recipe: Recipe,
    run_path: Path,
    *,
    progress: ProgressSink | None = None,
    preview_limit: int | None = None,
) -> RunReport:
    """Run (or resume) every stage of ``recipe`` in ``run_path``.

    ``preview_limit`` keeps only that many records entering each stage: a fast look at what a recipe
    makes. Preview runs use their own directory so they never mix with a full run.
    """
    progress = progress or ProgressSink()
    started = time.monotonic()
    run_dir = prepare_run_dir(recipe, run_path)
    context = StageContext(
        run_dir.path,
        sandbox_factory=_sandbox_factory(recipe, run_dir),
        teachers=Teachers(recipe.teachers, run_dir.path),
    )
    report = RunReport(run_dir=run_dir.path, preview=preview_limit is not None)
    names = stage_names(recipe)
    try:
        for index, config in enumerate(recipe.stages):
            stage = stage_class(config.kind)(config, context)
            previous = names[index - 1] if index else None
            report.stages.append(_run_stage(stage, names[index], previous, run_dir, progress, preview_limit))
    finally:
        context.close()
    report.seconds = time.monotonic() - started
    return report


def spread(records: list[BaseModel], limit: int | None) -> list[BaseModel]:
    """At most ``limit`` records, taken evenly across the list (not just its head), in order."""
    if limit is None or len(records) <= limit:
        return records
    step = len(records) / limit
    return [records[int(i * step)] for i in range(limit)]


def _load_inputs(stage: Stage, previous: str | None, run_dir: RunDir) -> list[BaseModel]:
    if previous is None:
        try:
            return list(stage.inputs())
        except (ValueError, FileNotFoundError) as exc:  # a source's config names something unusable
            raise UserError(f"stage {stage.kind}: {exc}") from None
    assert stage.input_type is not None, f"{stage.kind} must declare input_type"
    return [stage.input_type.model_validate(raw) for raw in run_dir.iter_records(previous)]


def _run_stage(
    stage: Stage,
    name: str,
    previous: str | None,
    run_dir: RunDir,
    progress: ProgressSink,
    preview_limit: int | None,
) -> StageReport:
    report = StageReport(name=name)
    shards, done = run_dir.manifest()
    if name in done:
        report.records, report.drops = done[name].records, done[name].drops
        report.batches_skipped = sum(1 for (stage_name, _b) in shards if stage_name == name)
        progress.stage_finished(report)
        return report
    started = time.monotonic()
    stage.setup()
    inputs = _load_inputs(stage, previous, run_dir)
    for limit in (stage.config.limit, preview_limit):
        inputs = spread(inputs, limit)
    report.inputs = len(inputs)
    size = stage.config.batch_size
    batches = [inputs[i : i + size] for i in range(0, len(inputs), size)]
    progress.stage_started(name, len(inputs))
    for number, batch in enumerate(batches):
        key = content_hash([getattr(r, "id", "") for r in batch])
        committed = shards.get((name, number))
        if committed is not None and committed.key == key:
            report.batches_skipped += 1
            report.records += committed.records
            report.drops += committed.drops
            progress.advance(name, len(batch))
            continue
        batch_started = time.monotonic()
        result = stage.process(batch)
        entry = run_dir.commit_batch(
            name, number, key, result.records, result.drops, time.monotonic() - batch_started
        )
        report.batches_run += 1
        report.records += entry.records
        report.drops += entry.drops
        progress.advance(name, len(batch))
    run_dir.mark_done(name, report.records, report.drops)
    report.seconds = time.monotonic() - started
    progress.stage_finished(report)
    return report


def execute(
    recipe: Recipe,
    run_path: Path,
    *,
    progress: ProgressSink | None = None,
    preview_limit: int | None = None,
) -> dict[str, Any]:
    """A whole run: the stages (resuming), the export, and the summary written to ``summary.json``."""
    from codefoundry.export import export_run
    from codefoundry.pipeline.rundir import write_json_atomic
    from codefoundry.pipeline.summary import summarize

    report = run_recipe(recipe, run_path, progress=progress, preview_limit=preview_limit)
    run_dir = RunDir(run_path)
    names = stage_names(recipe)
    written = export_run(run_dir, names[-1], recipe.export)
    summary = summarize(run_dir, names)
    summary["seconds"] = round(report.seconds, 2)
    summary["exported"] = [str(p) for p in written]
    write_json_atomic(run_dir.summary_path, summary)
    return summary
