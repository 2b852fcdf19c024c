"""What runs on the cluster: one teacher service, one sandbox per node, and stage workers.

Plain classes, made Ray actors by ``executor.py`` (so importing this module does not import Ray):

- ``TeacherService``: every teacher of the run, in one process on the driver's node, so one client per
  teacher serves the whole cluster (``max_concurrency`` and ``requests_per_minute`` mean what they mean in a
  local run), one response cache and one usage file are written, and an embedded ``local:`` model is started
  once.
- ``SandboxService``: the sandbox of one node (fork-servers sized to the node's CPUs), shared by every stage
  worker on that node; its result cache is a file of its own (SQLite is never shared between machines).
- ``StageWorker``: the run's stages, each built from (kind, config) exactly as a local run builds it; batches
  in, results out (every call names its stage, so a restarted worker rebuilds it). The driver alone commits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from codefoundry.pipeline.stage import StageResult
    from codefoundry.sandbox import ExecRequest, ExecResult, SandboxConfig
    from codefoundry.teacher.client import TeacherRequest, TeacherResponse
    from codefoundry.teacher.config import TeacherConfig


class TeacherService:
    """The run's teacher clients, for every worker of the cluster."""

    def __init__(self, run_dir: str, teachers: dict[str, TeacherConfig]) -> None:
        from codefoundry.pipeline.services import Services

        self.services = Services(Path(run_dir), teachers=teachers)

    async def run_many(self, name: str, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        await self.services.start_teacher(name)
        return await self.services.teacher(name).run_many(requests)

    async def close(self) -> None:
        """Flush usage, close the HTTP sessions and the cache, stop embedded models."""
        await self.services.aclose()


class SandboxService:
    """One node's sandbox, started on first use."""

    def __init__(self, cache_path: str, config: SandboxConfig | None) -> None:
        from codefoundry.sandbox import Sandbox, SandboxConfig

        self.sandbox = Sandbox(config or SandboxConfig(), cache_path=Path(cache_path))

    def run_many(self, requests: list[ExecRequest]) -> list[ExecResult]:
        return self.sandbox.run_many(requests)

    def warm(self) -> None:
        """Start the fork-servers now (the first request would otherwise wait for them)."""
        self.sandbox.layers()

    def close(self) -> None:
        self.sandbox.close()


class StageWorker:
    """The run's stages on one cluster worker, each built from (kind, config) as a local run builds it."""

    def __init__(
        self, run_dir: str, teachers: dict[str, TeacherConfig], teacher_service: Any, sandbox_service: Any
    ) -> None:
        from codefoundry.pipeline.ray.remote import RemoteServices

        self.services = RemoteServices(Path(run_dir), teachers, teacher_service, sandbox_service)
        self.stages: dict[str, Any] = {}
        self._ready: set[str] = set()
        self._known: dict[str, tuple[str, dict[str, Any]]] = {}

    def _stage(self, name: str) -> Any:
        if name not in self.stages:  # after Ray restarted this worker, stages are built again on demand
            from codefoundry.pipeline.registry import stage_classes
            from codefoundry.pipeline.stage import StageContext

            kind, config = self._known[name]
            cls = stage_classes()[kind]
            self.stages[name] = cls(cls.Config.model_validate(config), StageContext(self.services, name))
        return self.stages[name]

    async def setup(self, name: str, kind: str, config: dict[str, Any]) -> None:
        """Build stage ``name`` and run its ``setup()`` (once, and again after a restart)."""
        self._known[name] = (kind, config)
        if name not in self._ready:
            await self._stage(name).setup()
            self._ready.add(name)

    async def process(
        self, name: str, kind: str, config: dict[str, Any], batch: list[BaseModel]
    ) -> StageResult[Any]:
        await self.setup(name, kind, config)
        return await self._stage(name).process(batch)

    async def process_all(
        self, name: str, kind: str, config: dict[str, Any], records: list[BaseModel]
    ) -> StageResult[Any]:
        await self.setup(name, kind, config)
        return await self._stage(name).process_all(records)
