"""The driver side of the Ray runner: a cluster (an existing one by address, or a local one started for the
run), the actors of ``actors.py`` placed on it, and batches sent to them.

The driver keeps the run directory: it reads inputs, cuts batches, commits every result and the manifest,
so a driver killed at any moment resumes like a local run (a batch is re-run only if its commit was not
made; the teacher service caches every answer as it arrives, so no paid call is repeated beyond those in
flight). A stage worker that dies mid-batch is restarted by Ray and the batch is run again.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codefoundry.errors import UserError
from codefoundry.pipeline.executors import Executor
from codefoundry.pipeline.ray.actors import SandboxService, StageWorker, TeacherService

if TYPE_CHECKING:
    from pydantic import BaseModel

    from codefoundry.pipeline.plan import PlannedStage
    from codefoundry.pipeline.runner import RunnerOptions
    from codefoundry.pipeline.stage import Stage, StageResult
    from codefoundry.recipe import Recipe

# Settings for a cluster this run starts itself: nothing leaves the machine (no usage reports, no
# dashboard), and the cluster needs no token when only this machine can reach it.
_LOCAL_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
_RETRIES = 3  # a stage worker lost mid-batch is restarted and the batch re-run, this many times


def _check_reachable(address: str | None) -> None:
    """Fail in a second, with one line, on an address nothing listens at (Ray itself retries for minutes)."""
    if address is None or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--address: expected HOST:PORT (or ray://HOST:PORT, or auto), got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        raise UserError(f"--address: no Ray cluster reachable at {address} ({exc.strerror or exc})") from None


class RayExecutor(Executor):
    """Batches run by stage-worker actors; one teacher service per run, one sandbox service per node."""

    def __init__(self, options: RunnerOptions, recipe: Recipe, run_path: Path, sandbox_needed: bool) -> None:
        self.options = options
        self.recipe = recipe
        self.run_path = run_path.resolve()
        self.sandbox_needed = sandbox_needed
        self._started_cluster = False
        self._token = uuid.uuid4().hex[:8]
        self._nodes: list[str] = []
        self._driver_node = ""
        self._teacher: Any = None
        self._sandboxes: dict[str, Any] = {}
        self._workers: list[Any] = []
        self._turn: itertools.cycle[Any] = itertools.cycle([])
        self._identities: dict[str, tuple[str, str, dict[str, Any]]] = {}  # per stage: what each call names
        self._connect()  # before the run's tasks start: Ray wants the main thread, and takes a few seconds

    # ---- the cluster ----------------------------------------------------------------------------------
    def _connect(self) -> None:
        try:
            import ray
        except ImportError:
            raise UserError("--runner ray needs Ray: pip install 'codefoundry[ray]'") from None
        if not ray.is_initialized():
            _check_reachable(self.options.address)
            if self.options.address is None:
                for key, value in _LOCAL_ENV.items():
                    os.environ.setdefault(key, value)
            try:
                ray.init(
                    address=self.options.address,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                    namespace="codefoundry",
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.options.address or "a local cluster"
                raise UserError(f"--runner ray: could not connect to {where}: {exc}") from None
            self._started_cluster = True
        self._driver_node = ray.get_runtime_context().get_node_id()
        self._nodes = sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))

    def _on_node(self, node: str, *, soft: bool = False) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return NodeAffinitySchedulingStrategy(node_id=node, soft=soft)

    def _teacher_service(self) -> Any:
        import ray

        if self._teacher is None:
            actor = ray.remote(TeacherService).options(
                name=f"cf-teachers-{self._token}",
                num_cpus=0,
                max_concurrency=10_000,
                scheduling_strategy=self._on_node(self._driver_node),  # the run's cache is a local file
            )
            self._teacher = actor.remote(str(self.run_path), self.recipe.teachers)
        return self._teacher

    def _sandbox_service(self, node: str) -> Any:
        import ray

        if node not in self._sandboxes:
            cache = "executions.sqlite" if node == self._driver_node else f"executions-{node[:12]}.sqlite"
            actor = ray.remote(SandboxService).options(
                name=f"cf-sandbox-{self._token}-{node[:12]}",
                num_cpus=0,
                max_concurrency=64,  # threads: several stage workers' batches wait on it at once
                scheduling_strategy=self._on_node(node),
            )
            self._sandboxes[node] = actor.remote(str(self.run_path / "cache" / cache), self.recipe.sandbox)
        return self._sandboxes[node]

    # ---- the executor ----------------------------------------------------------------------------------
    async def warm(self) -> None:
        if self.sandbox_needed:
            await asyncio.gather(*(self._sandbox_service(node).warm.remote() for node in self._nodes))

    def _stage_workers(self) -> list[Any]:
        """The cluster's stage workers (``workers``, default one per node), each hosting every stage."""
        import ray

        if not self._workers:
            count = self.options.workers or len(self._nodes)
            for index in range(count):
                node = self._nodes[index % len(self._nodes)]
                sandbox = self._sandbox_service(node) if self.sandbox_needed else None
                teacher = self._teacher_service() if self.recipe.teachers else None
                actor = ray.remote(StageWorker).options(
                    name=f"cf-worker-{self._token}-{index}",
                    num_cpus=0,
                    max_concurrency=1000,
                    max_restarts=_RETRIES,
                    max_task_retries=_RETRIES,
                    scheduling_strategy=self._on_node(node, soft=True),
                )
                self._workers.append(actor.remote(str(self.run_path), self.recipe.teachers, teacher, sandbox))
            self._turn = itertools.cycle(self._workers)
        return self._workers

    def _identity(self, planned: PlannedStage) -> tuple[str, str, dict[str, Any]]:
        """(name, kind, config) of a stage, dumped once: every call to a worker names its stage with it."""
        if planned.name not in self._identities:
            dumped = planned.config.model_dump(mode="json")
            self._identities[planned.name] = (planned.name, planned.config.kind, dumped)
        return self._identities[planned.name]

    async def prepare(self, planned: PlannedStage, stage: Stage[Any, Any]) -> None:
        workers = self._stage_workers()
        await asyncio.gather(*(worker.setup.remote(*self._identity(planned)) for worker in workers))

    async def process(
        self, planned: PlannedStage, stage: Stage[Any, Any], batch: list[BaseModel]
    ) -> StageResult[Any]:
        return await next(self._turn).process.remote(*self._identity(planned), batch)

    async def process_all(
        self, planned: PlannedStage, stage: Stage[Any, Any], records: list[BaseModel]
    ) -> StageResult[Any]:
        return await self._stage_workers()[0].process_all.remote(*self._identity(planned), records)

    async def aclose(self) -> None:
        import ray

        closing = [self._teacher.close.remote()] if self._teacher is not None else []
        closing += [service.close.remote() for service in self._sandboxes.values()]
        try:
            await asyncio.gather(*closing)
        finally:
            for actor in [*self._sandboxes.values(), *self._workers]:
                ray.kill(actor)
            if self._teacher is not None:
                ray.kill(self._teacher)
            if self._started_cluster:
                ray.shutdown()  # the cluster this run started; a few hundred ms
