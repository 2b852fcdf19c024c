"""The services a stage sees on a cluster worker: the run's teachers and its node's sandbox, reached through
their actors, behind the same methods a local run's ``Services`` has (stages cannot tell the difference)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from codefoundry.pipeline.services import Services

if TYPE_CHECKING:
    from codefoundry.sandbox import ExecRequest, ExecResult
    from codefoundry.teacher.client import TeacherRequest, TeacherResponse
    from codefoundry.teacher.config import TeacherConfig


class RemoteTeacher:
    """A teacher client whose calls go to the cluster's teacher service (what stages use of a client)."""

    def __init__(self, name: str, config: TeacherConfig, service: Any) -> None:
        self.name = name
        self.config = config
        self._service = service

    async def run_many(self, requests: list[TeacherRequest], on_done: Any = None) -> list[TeacherResponse]:
        responses = await self._service.run_many.remote(self.name, list(requests))
        if on_done is not None:
            for response in responses:
                on_done(response)
        return responses

    async def run(self, request: TeacherRequest) -> TeacherResponse:
        return (await self.run_many([request]))[0]


class RemoteSandbox:
    """The node's sandbox, called from a stage's worker thread (``ThreadedStage.run_sandbox``)."""

    def __init__(self, service: Any) -> None:
        self._service = service

    def run_many(self, requests: list[ExecRequest]) -> list[ExecResult]:
        import ray

        return ray.get(self._service.run_many.remote(list(requests)))


class RemoteServices(Services):
    """A run's services on a worker: threads and the Python lock are local, teachers and sandbox are not."""

    def __init__(
        self, run_dir: Path, teachers: dict[str, TeacherConfig], teacher_service: Any, sandbox_service: Any
    ) -> None:
        super().__init__(run_dir, teachers=teachers)
        self._teacher_service = teacher_service
        self._remote_sandbox = RemoteSandbox(sandbox_service)
        self._sandbox_service = sandbox_service

    def sandbox(self) -> Any:
        return self._remote_sandbox

    async def warm_sandbox(self) -> None:
        await self._sandbox_service.warm.remote()

    async def run_sandbox(self, requests: list[ExecRequest]) -> list[ExecResult]:
        return await self._sandbox_service.run_many.remote(list(requests))

    def teacher(self, name: str) -> Any:
        return RemoteTeacher(name, self.teacher_config(name), self._teacher_service)

    async def start_teacher(self, name: str) -> None:
        """Started by the teacher service on its first call."""

    async def aclose(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
