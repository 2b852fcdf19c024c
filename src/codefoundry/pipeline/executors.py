"""Where a stage's batches run: in the runner's own process, or elsewhere (a Ray cluster: ``pipeline/ray``).

The runner keeps everything that makes a run a run (reading inputs in order, batching, the window of
batches in flight, commits to the run directory, the manifest, progress); an executor only turns one batch
into its ``StageResult``. A batch's output depends only on its input and the stage's config, so which
executor ran it never shows in the records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from codefoundry.pipeline.plan import PlannedStage
    from codefoundry.pipeline.services import Services
    from codefoundry.pipeline.stage import Stage, StageResult


class Executor(ABC):
    """Runs the stages' work; one per run, used from the runner's event loop."""

    @abstractmethod
    async def warm(self) -> None:
        """Start what the sandbox stages will need, while the first stages read their sources."""

    @abstractmethod
    async def prepare(self, planned: PlannedStage, stage: Stage[Any, Any]) -> None:
        """Before a stage's first batch: its sandbox and teachers started, its ``setup()`` done."""

    @abstractmethod
    async def process(
        self, planned: PlannedStage, stage: Stage[Any, Any], batch: list[BaseModel]
    ) -> StageResult[Any]:
        """One batch of a batch stage."""

    @abstractmethod
    async def process_all(
        self, planned: PlannedStage, stage: Stage[Any, Any], records: list[BaseModel]
    ) -> StageResult[Any]:
        """All records of a dataset stage."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release what the executor started (the runner's services are closed by the runner)."""


class LocalExecutor(Executor):
    """Every stage in this process, on the run's services (the default runner)."""

    def __init__(self, services: Services, sandbox_needed: bool) -> None:
        self.services = services
        self.sandbox_needed = sandbox_needed

    async def warm(self) -> None:
        if self.sandbox_needed:
            await self.services.warm_sandbox()

    async def prepare(self, planned: PlannedStage, stage: Stage[Any, Any]) -> None:
        resources = planned.cls.resources(planned.config)
        if resources.sandbox_share > 0:
            await self.services.warm_sandbox()  # started with the run; ready before the first batch needs it
        for teacher in resources.teachers:
            await self.services.start_teacher(teacher)
        await stage.setup()

    async def process(
        self, planned: PlannedStage, stage: Stage[Any, Any], batch: list[BaseModel]
    ) -> StageResult[Any]:
        return await stage.process(batch)

    async def process_all(
        self, planned: PlannedStage, stage: Stage[Any, Any], records: list[BaseModel]
    ) -> StageResult[Any]:
        return await stage.process_all(records)

    async def aclose(self) -> None:
        """Nothing of its own: the sandbox and teachers belong to the run's services."""
