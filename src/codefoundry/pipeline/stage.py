"""The stage contract: one class per stage, a pydantic config, ``setup()``, and one async method.

A stage declares what a runner needs to know and nothing about which runner runs it:
- ``kind`` (written once, here; recipes name it, the registry derives from it), ``version`` (bumped when its
  outputs change for the same input and config: part of its fingerprint, so a run re-does its work);
- ``input_type`` / ``output_type`` (a recipe whose stages do not chain is refused at load);
- ``scope``: ``batch`` stages see one batch at a time and stream; ``dataset`` stages see every record of the
  stage before them (novelty filters, dedup, feature trees);
- ``drop_reasons``: the enum of every reason it may drop a record for (the summary lists all, zeros included);
- ``resources()``: the sandbox share, the teachers and the GPU it uses, which runners read to start services,
  size the batches in flight and fingerprint the stage.

Batch stages implement ``async process(batch)``; CPU-heavy ones subclass ``ThreadedStage`` and implement a
plain ``process_batch(batch)`` that runs in a worker thread (one batch of the stage at a time, released while
it waits for the sandbox), so the event loop keeps the teachers busy meanwhile.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.pipeline.feed import spread
from codefoundry.records import Drop

if TYPE_CHECKING:
    from codefoundry.pipeline.services import Services
    from codefoundry.sandbox import ExecRequest, ExecResult

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


class Scope(StrEnum):
    """What a stage sees at once: one batch (streams), or the whole output of the stage before it."""

    BATCH = "batch"
    DATASET = "dataset"


class NoDrops(StrEnum):
    """The drop-reason enum of a stage that never drops anything."""


class StageConfig(BaseModel):
    """Base of every stage's config. ``kind`` selects the stage class in a recipe.

    ``runtime_fields`` name the knobs that change how fast a stage runs but not what it outputs: they are
    left out of the stage's fingerprint, so changing them resumes a run instead of redoing it.
    """

    model_config = ConfigDict(extra="forbid")
    runtime_fields: ClassVar[frozenset[str]] = frozenset({"batch_size", "max_batches_in_flight"})
    kind: str = ""
    batch_size: int = Field(32, gt=0, description="records per committed shard")
    limit: int | None = Field(
        None,
        gt=0,
        description="at most this many input records enter the stage, taken evenly across them "
        "(the stage then waits for the stage before it to finish)",
    )
    max_batches_in_flight: int | None = Field(
        None, gt=0, description="batches of this stage processed at once (default: from its resources)"
    )


@dataclass(frozen=True)
class Resources:
    """What a stage uses, as the runner reads it.

    ``sandbox_share``: the share of the sandbox's workers the stage's batches may keep busy (0: no sandbox);
    ``teachers``: the recipe teachers it calls; ``gpu``: it needs an accelerator; ``cpu_bound``: its own
    Python work is heavy (run in a worker thread); ``languages``: the sandbox languages the stage's outputs
    need (a synthesizer's target languages, from its config): a run whose stages need a language whose
    toolchain is not installed here is refused before it starts (``pipeline.machine``).
    """

    sandbox_share: float = 0.0
    teachers: tuple[str, ...] = ()
    gpu: bool = False
    cpu_bound: bool = False
    languages: tuple[str, ...] = ()


@dataclass
class StageResult(Generic[Out]):
    """What one batch produced: the records passed on and the ones dropped, each with its reason."""

    records: list[Out] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)


class StageContext:
    """What a stage may use during a run: the run's services, and its own name in the run."""

    def __init__(self, services: Services, name: str = "") -> None:
        self.services = services
        self.name = name

    def teacher(self, name: str) -> Any:
        """The run's client for the recipe's teacher ``name`` (a ``TeacherClient``, one per run)."""
        return self.services.teacher(name)

    @property
    def sandbox(self) -> Any:
        """The run's sandbox (started on first use)."""
        return self.services.sandbox()

    async def run_sandbox(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
        """Run requests in the sandbox without blocking the event loop; results in request order."""
        if not requests:
            return []
        return await self.services.run_sandbox(list(requests))


class Stage(ABC, Generic[In, Out]):
    """One step of the pipeline.

    ``process`` must be a pure function of its batch and config (plus cached services): the runner may call
    it again for the same batch after a crash, and the result must be the same records.
    """

    kind: ClassVar[str]
    version: ClassVar[int] = 1
    Config: ClassVar[type[StageConfig]]
    input_type: ClassVar[type[BaseModel] | None]  # None: a source stage, which lists its own inputs
    output_type: ClassVar[type[BaseModel]]
    scope: ClassVar[Scope] = Scope.BATCH
    drop_reasons: ClassVar[type[StrEnum]] = NoDrops

    def __init__(self, config: StageConfig, context: StageContext) -> None:
        if not config.kind:
            config = config.model_copy(update={"kind": self.kind})
        if config.kind != self.kind:
            raise ValueError(f"config of kind {config.kind!r} given to stage {self.kind!r}")
        self.config = config
        self.context = context

    @property
    def name(self) -> str:
        """The stage's name in its run (``03-verify.reference``), or its kind outside a run."""
        return self.context.name or self.kind

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        """What this stage uses with ``config``; the default is nothing but the CPU."""
        return Resources()

    async def setup(self) -> None:
        """Prepare expensive state once per run (not per batch)."""

    def inputs(self) -> list[In]:
        """Source stages list their work items here, deterministically."""
        raise NotImplementedError(f"{self.kind} is not a source stage")

    def take_inputs(self, records: list[In], limit: int) -> list[In]:
        """At most ``limit`` of this source stage's inputs (its ``limit``, a preview's): by default taken
        evenly across them. A source whose order is a balanced mix at every prefix takes the head instead."""
        return spread(records, limit)

    async def process(self, batch: list[In]) -> StageResult[Out]:
        """Turn one batch of input records into output records and drops (``scope == batch``)."""
        raise NotImplementedError(f"{self.kind} is not a batch stage")

    async def process_all(self, records: list[In]) -> StageResult[Out]:
        """Turn every record of the stage before into output records and drops (``scope == dataset``)."""
        raise NotImplementedError(f"{self.kind} is not a dataset stage")

    def drop(self, record: BaseModel, reason: StrEnum, detail: str = "") -> Drop:
        """A Drop for ``record`` from this stage (keeps the record itself for later inspection)."""
        if not isinstance(reason, self.drop_reasons):
            raise TypeError(
                f"{self.kind}: {reason!r} is not one of its drop reasons ({self.drop_reasons.__name__})"
            )
        return Drop(
            stage=self.name,
            record_id=str(getattr(record, "id", "")),
            reason=reason.value,
            detail=detail[:2000],
            record=record.model_dump(mode="json"),
        )


class ThreadedStage(Stage[In, Out]):
    """A batch stage whose work is plain (CPU-bound) Python: ``process_batch`` runs in a worker thread.

    Stage code runs one thread at a time in a run (it holds the run's Python lock, so it need not be
    thread-safe); the lock is released while a batch waits for the sandbox, so another batch, of this stage
    or another, prepares its requests meanwhile and the sandbox never waits for the stages.
    """

    def process_batch(self, batch: list[In]) -> StageResult[Out]:
        raise NotImplementedError

    def run_sandbox(self, requests: Sequence[ExecRequest]) -> list[ExecResult]:
        """Run requests in the sandbox from ``process_batch`` (the stage's lock is released meanwhile)."""
        if not requests:
            return []
        sandbox = self.context.sandbox
        lock = self.context.services.python_lock
        lock.release()
        try:
            return sandbox.run_many(list(requests))
        finally:
            lock.acquire()

    async def process(self, batch: list[In]) -> StageResult[Out]:
        return await self.context.services.in_python(self.process_batch, batch)

    def process_sync(self, batch: list[In]) -> StageResult[Out]:
        """One batch from plain (non-async) code, e.g. a test or a notebook: holds the run's Python lock."""
        with self.context.services.python_lock:
            return self.process_batch(batch)

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(cpu_bound=True)
