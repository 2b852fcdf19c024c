"""The stage contract: one class per stage, a pydantic config, ``setup()``, and one method over a batch.

Stages do not know which runner runs them. They declare what they need (CPU slots, the sandbox, a teacher)
and receive shared services through a ``StageContext``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.records import Drop

if TYPE_CHECKING:
    from codefoundry.pipeline.services import Teachers
    from codefoundry.sandbox import Sandbox

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


class StageConfig(BaseModel):
    """Base of every stage's config. ``kind`` selects the stage class in a recipe."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    batch_size: int = Field(32, gt=0, description="records per committed shard")
    limit: int | None = Field(None, gt=0, description="at most this many input records enter the stage, taken evenly across them")


@dataclass(frozen=True)
class Resources:
    """What a stage needs from the runner."""

    cpu_slots: int = 1
    sandbox: bool = False
    teacher: bool = False
    gpu: bool = False


@dataclass
class StageResult(Generic[Out]):
    """What one batch produced: the records passed on and the ones dropped, each with its reason."""

    records: list[Out] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)


class StageContext:
    """Shared services for the stages of one run; created by the runner, services started lazily."""

    def __init__(
        self,
        run_dir: Path,
        sandbox_factory: Callable[[], Sandbox] | None = None,
        teachers: Teachers | None = None,
    ) -> None:
        self.run_dir = run_dir
        self._sandbox_factory = sandbox_factory
        self._sandbox: Sandbox | None = None
        self.teachers = teachers

    @property
    def sandbox(self) -> Sandbox:
        """The run's sandbox, started on first use (warm fork-servers are not free)."""
        if self._sandbox is None:
            if self._sandbox_factory is None:
                raise RuntimeError("this run has no sandbox configured")
            self._sandbox = self._sandbox_factory()
            self._sandbox.__enter__()
        return self._sandbox

    def teacher(self, name: str) -> Any:
        """The run's client for the recipe's teacher ``name`` (a ``TeacherClient``)."""
        if self.teachers is None:
            raise RuntimeError("this run has no teachers configured")
        return self.teachers.client(name)

    def close(self) -> None:
        if self.teachers is not None:
            self.teachers.close()
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


class Stage(ABC, Generic[In, Out]):
    """One step of the pipeline.

    ``process`` must be a pure function of its batch and config (plus cached services): the runner may call
    it again for the same batch after a crash, and the result must be the same records.
    """

    kind: ClassVar[str]
    Config: ClassVar[type[StageConfig]]
    input_type: ClassVar[type[BaseModel] | None]  # None: a source stage, which lists its own inputs
    output_type: ClassVar[type[BaseModel]]
    resources: ClassVar[Resources] = Resources()

    def __init__(self, config: StageConfig, context: StageContext) -> None:
        self.config = config
        self.context = context

    def setup(self) -> None:
        """Prepare expensive state once per run (not per batch)."""

    def inputs(self) -> list[In]:
        """Source stages list their work items here, deterministically."""
        raise NotImplementedError(f"{self.kind} is not a source stage")

    @abstractmethod
    def process(self, batch: list[In]) -> StageResult[Out]:
        """Turn one batch of input records into output records and drops."""

    def drop(self, record: BaseModel, reason: str, detail: str = "") -> Drop:
        """A Drop for ``record`` from this stage (keeps the record itself for later inspection)."""
        record_id = str(getattr(record, "id", ""))
        return Drop(
            stage=self.kind,
            record_id=record_id,
            reason=reason,
            detail=detail[:2000],
            record=record.model_dump(mode="json"),
        )
