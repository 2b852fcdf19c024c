"""The local runner: every stage of a recipe at once on one event loop, streaming, resuming what is done.

Each stage is one asyncio task. A batch stage cuts its input into batches of ``batch_size`` as the stage
before it commits shards (in that stage's batch order, so the cuts do not depend on timing), keeps several
batches in flight (how many: from its declared resources), and commits each batch as it finishes; the stage
after it starts on the first committed shards. So teacher calls, sandbox runs and commits overlap, while the
records stay those of a one-batch-at-a-time run: a batch's output depends only on its input and config.
A dataset stage waits for the stage before it to finish and sees all of its records at once. A source after
the first stage processes its own work items, then passes on the records of the stage before it unchanged.

Resume: a batch whose (stage, fingerprint, batch number, input key) is in the manifest is not run again; a
stage whose fingerprint changed since the last run is re-run with everything after it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from codefoundry.errors import UserError
from codefoundry.pipeline.executors import Executor, LocalExecutor
from codefoundry.pipeline.feed import Feed, first_cause, spread
from codefoundry.pipeline.machine import check_machine
from codefoundry.pipeline.plan import PlannedStage, plan
from codefoundry.pipeline.rundir import Manifest, RunDir
from codefoundry.pipeline.services import Services
from codefoundry.pipeline.stage import Scope, Stage, StageContext, StageResult
from codefoundry.records import content_hash

if TYPE_CHECKING:
    from codefoundry.recipe import Recipe

# Requests a teacher stage keeps queued, as a multiple of the teacher's max_concurrency.
TEACHER_QUEUE = 8


class RunnerKind(StrEnum):
    """Which executor runs the stages' batches."""

    LOCAL = "local"
    RAY = "ray"


@dataclass(frozen=True)
class RunnerOptions:
    """How to run: here, or on a Ray cluster (``address`` None: a local one, started for the run)."""

    kind: RunnerKind = RunnerKind.LOCAL
    address: str | None = None
    workers: int | None = None  # Ray stage workers, each hosting every stage (default: one per node)


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

    def stage_started(self, name: str, total: int | None) -> None: ...

    def set_total(self, name: str, total: int) -> None: ...

    def advance(self, name: str, n: int) -> None: ...

    def stage_finished(self, report: StageReport) -> None: ...


def stage_names(recipe: Recipe) -> list[str]:
    """Directory names of the recipe's stages: position + kind, so a kind may appear twice."""
    return [f"{index:02d}-{stage.kind}" for index, stage in enumerate(recipe.stages)]


def prepare_run_dir(recipe: Recipe, path: Path) -> RunDir:
    """Create a run directory, or reuse one: the snapshot becomes this recipe; fingerprints decide what is
    still valid."""
    run_dir = RunDir(path)
    run_dir.create()
    run_dir.write_recipe(recipe.to_yaml())
    return run_dir


class _StageRun:
    """One stage of one run: reads its input stream, runs batches, commits, publishes to the next stage."""

    def __init__(
        self,
        planned: PlannedStage,
        stage: Stage[Any, Any],
        upstream: _StageRun | None,
        run_dir: RunDir,
        services: Services,
        manifest: Manifest,
        progress: ProgressSink,
        preview_limit: int | None,
        executor: Executor,
    ) -> None:
        self.planned = planned
        self.executor = executor
        self.stage = stage
        self.upstream = upstream
        self.run_dir = run_dir
        self.services = services
        self.manifest = manifest
        self.progress = progress
        self.preview_limit = preview_limit
        self.feed = Feed()
        self.report = StageReport(name=planned.name)
        self.first_work: float | None = None  # when the stage started its first batch in this run

    @property
    def name(self) -> str:
        return self.planned.name

    def window(self) -> int:
        """Batches in flight: enough to keep the stage's teachers and its share of the sandbox busy."""
        config = self.planned.config
        if config.max_batches_in_flight is not None:
            return config.max_batches_in_flight
        resources = self.planned.cls.resources(config)
        window = 2
        for name in resources.teachers:
            # a batch holds its place while its answers are verified in the sandbox, which can take several
            # teacher round trips: room for eight times the teacher's slots keeps its queue full meanwhile
            concurrency = self.services.teacher_config(name).max_concurrency
            window = max(window, math.ceil(TEACHER_QUEUE * concurrency / config.batch_size) + 1)
        if resources.sandbox_share > 0:
            workers = self.services.sandbox_workers()
            window = max(window, math.ceil(resources.sandbox_share * workers) + 1)
        return window

    async def run(self) -> StageReport:
        fingerprint = self.planned.fingerprint
        done = self.manifest.finished(self.name, fingerprint)
        if done is not None:
            self.report.records, self.report.drops = done.records, done.drops
            self.report.batches_skipped = done.batches
            await self.feed.finish(done.batches)
            self.progress.stage_finished(self.report)
            return self.report
        started = time.monotonic()
        await self.executor.prepare(self.planned, self.stage)
        if self.planned.cls.scope is Scope.DATASET:
            count = await self._run_dataset()
        else:
            count = await self._run_batches()
        # from its first batch on: a streaming stage starts with the run but waits for its first input
        self.report.seconds = time.monotonic() - (self.first_work or started)
        await self.services.in_thread(
            self.run_dir.mark_done,
            self.name,
            fingerprint,
            count,
            self.report.records,
            self.report.drops,
            self.report.seconds,
        )
        await self.feed.finish(count)
        self.progress.stage_finished(self.report)
        return self.report

    # ---- input --------------------------------------------------------------------------------------
    def _limits(self) -> list[int]:
        return [n for n in (self.planned.config.limit, self.preview_limit) if n is not None]

    def _source_inputs(self) -> list[BaseModel]:
        try:
            return list(self.stage.inputs())
        except (ValueError, FileNotFoundError) as exc:  # a source's config names something unusable
            raise UserError(f"stage {self.stage.kind}: {exc}") from None

    async def _all_upstream(self) -> list[BaseModel]:
        up = self.upstream
        assert up is not None and self.planned.cls.input_type is not None
        await up.feed.wait_finished()
        raw = await self.services.in_thread(
            lambda: list(self.run_dir.iter_records(up.name, up.planned.fingerprint))
        )
        return [self.planned.cls.input_type.model_validate(r) for r in raw]

    async def _inputs(self) -> AsyncIterator[list[BaseModel]]:
        """The stage's input records in order, as they become available (a list at a time)."""
        take: Callable[[list[BaseModel], int], list[BaseModel]] = spread
        if self.planned.cls.input_type is None:  # a source: the first stage, or one adding to those before it
            records = await self.services.in_thread(self._source_inputs)
            take = self.stage.take_inputs
        elif self._limits():
            records = await self._all_upstream()
        else:
            up, input_type, number, total_known = self.upstream, self.planned.cls.input_type, 0, False
            assert input_type is not None
            while await up.feed.wait_for(number):
                raw = await self.services.in_thread(
                    self.run_dir.read_shard, up.name, up.planned.fingerprint, number
                )
                if up.feed.total is not None and not total_known:
                    self.progress.set_total(self.name, up.report.records)
                    total_known = True
                yield [input_type.model_validate(r) for r in raw]
                number += 1
            if not total_known:
                self.progress.set_total(self.name, self.report.inputs)
            return
        for limit in self._limits():
            records = take(records, limit)
        self.progress.set_total(self.name, len(records))
        yield records

    async def _batches(self) -> AsyncIterator[tuple[list[BaseModel], bool]]:
        """Batches of input records, and whether the stage processes them (False: passed on unchanged)."""
        size = self.planned.config.batch_size
        buffer: list[BaseModel] = []
        async for records in self._inputs():
            buffer.extend(records)
            self.report.inputs += len(records)
            while len(buffer) >= size:
                yield buffer[:size], True
                buffer = buffer[size:]
        if buffer:
            yield buffer, True
        up = self.upstream
        if up is not None and self.planned.cls.input_type is None:
            # a source after the first adds its records to those of the stage before it, which pass on
            await up.feed.wait_finished()
            raw = await self.services.in_thread(lambda: list(self.run_dir.iter_records(up.name, up.planned.fingerprint)))
            passed = [self.planned.cls.output_type.model_validate(r) for r in raw]
            for start in range(0, len(passed), size):
                yield passed[start : start + size], False

    # ---- work ---------------------------------------------------------------------------------------
    async def _run_batches(self) -> int:
        self.progress.stage_started(self.name, None)
        window = asyncio.Semaphore(self.window())
        number = 0
        async with asyncio.TaskGroup() as group:
            async for batch, own in self._batches():
                key = content_hash([getattr(r, "id", "") for r in batch])
                entry = self.manifest.shard(self.name, self.planned.fingerprint, number)
                if not own and (entry is None or entry.key != key):
                    await self._commit(number, key, StageResult(records=batch), 0.0)
                elif entry is not None and entry.key == key:
                    self.report.batches_skipped += 1
                    self.report.records += entry.records
                    self.report.drops += entry.drops
                    self.progress.advance(self.name, len(batch))
                    await self.feed.publish(number)
                else:
                    await window.acquire()
                    group.create_task(self._process(number, key, batch, window))
                    # let the loop poll its sockets between launches: a burst of batches would otherwise run
                    # every batch's set-up (cache lookups, request bodies) before the first request is sent
                    await asyncio.sleep(0)
                number += 1
        return number

    async def _process(
        self, number: int, key: str, batch: list[BaseModel], window: asyncio.Semaphore
    ) -> None:
        try:
            started = time.monotonic()
            self.first_work = self.first_work or started
            result = await self.executor.process(self.planned, self.stage, batch)
            await self._commit(number, key, result, time.monotonic() - started)
            self.progress.advance(self.name, len(batch))
        finally:
            window.release()

    async def _commit(self, number: int, key: str, result: StageResult[Any], seconds: float) -> None:
        entry = await self.services.in_thread(
            self.run_dir.commit_batch,
            self.name,
            number,
            key,
            result.records,
            result.drops,
            seconds,
            self.planned.fingerprint,
        )
        self.report.batches_run += 1
        self.report.records += entry.records
        self.report.drops += entry.drops
        await self.feed.publish(number)

    async def _run_dataset(self) -> int:
        records = await self._all_upstream()
        for limit in self._limits():
            records = spread(records, limit)
        self.report.inputs = len(records)
        self.progress.stage_started(self.name, len(records))
        key = content_hash([getattr(r, "id", "") for r in records])
        entry = self.manifest.shard(self.name, self.planned.fingerprint, 0)
        if entry is not None and entry.key == key:
            self.report.batches_skipped, self.report.records, self.report.drops = (
                1,
                entry.records,
                entry.drops,
            )
        else:
            started = time.monotonic()
            self.first_work = self.first_work or started
            result = await self.executor.process_all(self.planned, self.stage, records)
            await self._commit(0, key, result, time.monotonic() - started)
        self.progress.advance(self.name, len(records))
        return 1


async def arun_recipe(
    recipe: Recipe,
    run_path: Path,
    *,
    progress: ProgressSink | None = None,
    preview_limit: int | None = None,
    runner: RunnerOptions | None = None,
) -> RunReport:
    """Run (or resume) every stage of ``recipe`` in ``run_path`` on the running event loop."""
    progress = progress or ProgressSink()
    started = time.monotonic()
    planned = plan(recipe)
    check_machine(planned)  # a GPU, the targeted languages' toolchains: refused here, before any work
    run_dir = prepare_run_dir(recipe, run_path)
    manifest = run_dir.manifest()
    services = Services(run_dir.path, sandbox_config=recipe.sandbox, teachers=recipe.teachers)
    sandbox_needed = any(item.cls.resources(item.config).sandbox_share > 0 for item in planned)
    executor = _executor(runner or RunnerOptions(), services, recipe, run_dir.path, sandbox_needed)
    runs: list[_StageRun] = []
    try:
        for item in planned:
            stage = item.cls(item.config, StageContext(services, item.name))
            upstream = runs[-1] if runs else None
            runs.append(
                _StageRun(
                    item, stage, upstream, run_dir, services, manifest, progress, preview_limit, executor
                )
            )
        try:
            async with asyncio.TaskGroup() as group:
                # warm fork-servers take a second or two of CPU: start them while the first stages read
                # their sources, not when the teachers' first answers are due
                group.create_task(executor.warm())
                for stage_run in runs:
                    group.create_task(stage_run.run())
        except BaseExceptionGroup as group_error:
            raise first_cause(group_error) from None
    finally:
        try:
            await executor.aclose()
        finally:
            await services.aclose()
    return RunReport(
        run_dir=run_dir.path,
        stages=[r.report for r in runs],
        seconds=time.monotonic() - started,
        preview=preview_limit is not None,
    )


def _executor(
    options: RunnerOptions, services: Services, recipe: Recipe, run_path: Path, sandbox_needed: bool
) -> Executor:
    if options.kind is RunnerKind.RAY:
        from codefoundry.pipeline.ray.executor import RayExecutor

        return RayExecutor(options, recipe, run_path, sandbox_needed)
    return LocalExecutor(services, sandbox_needed)


def run_recipe(
    recipe: Recipe,
    run_path: Path,
    *,
    progress: ProgressSink | None = None,
    preview_limit: int | None = None,
    runner: RunnerOptions | None = None,
) -> RunReport:
    """Run (or resume) every stage of ``recipe`` in ``run_path``: one event loop for the whole run.

    ``preview_limit`` keeps only that many records entering each stage: a fast look at what a recipe
    makes. Preview runs use their own directory so they never mix with a full run.
    """
    return asyncio.run(
        arun_recipe(recipe, run_path, progress=progress, preview_limit=preview_limit, runner=runner)
    )
