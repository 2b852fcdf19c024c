"""Teacher-driven synthesis: a synthesizer is a prompt and a parse; one generic stage does the rest.

A ``TeacherPrompt`` says what to ask for one input record (``messages``) and how to read one answer
(``parse``: a draft, or a ``ParseError`` with a reason). ``TeacherStage`` turns a batch into requests (``n``
samples per record), sends them through the run's client for the configured teacher (one HTTP session for
the whole run, cached, accounted per stage), parses every sample into a draft or a drop that keeps the raw
answer, and hands the drafts to ``finish`` (for OSS-Instruct: verification in the sandbox). The stage never
blocks the event loop, so many batches of teacher calls stay in flight while others run in the sandbox.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, Field

from codefoundry.pipeline.stage import Resources, Stage, StageConfig, StageResult
from codefoundry.teacher.parse import ParseFailure

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)
D = TypeVar("D")


# Why a teacher's answer gave no draft: the call failed, or the text could not be parsed (one vocabulary,
# defined with the parsers). A stage's own drop-reason enum repeats these values next to its own reasons.
TeacherDrop = ParseFailure


def teacher_drop_reasons(name: str, *own: str) -> Any:
    """A teacher stage's drop-reason enum: every teacher drop reason, then the stage's ``own`` values
    (members named by their values in upper case: ``teacher_drop_reasons("X", "too_short").TOO_SHORT``)."""
    from enum import StrEnum

    members = [(reason.name, reason.value) for reason in TeacherDrop] + [(value.upper(), value) for value in own]
    return StrEnum(name, members)


class ParseError(Exception):
    """An answer that gives no draft, with the reason (a ``TeacherDrop`` value) and a detail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = TeacherDrop(reason)
        self.detail = detail


@dataclass(frozen=True)
class Sample:
    """One parsed answer: the input record, the sample index, the draft, and the teacher that wrote it."""

    record: Any
    index: int
    draft: Any
    teacher: str
    model: str


class TeacherPrompt(ABC, Generic[In, D]):
    """What one synthesizer asks a teacher and how it reads the answer (nothing about calls or retries)."""

    system: ClassVar[str] = ""
    response_model: ClassVar[type[BaseModel] | None] = None  # structured output, where the server has it

    @abstractmethod
    def prompt(self, record: In) -> str:
        """The user message for ``record``."""

    @abstractmethod
    def parse(self, record: In, text: str) -> D:
        """A draft from one answer; raise ``ParseError`` when there is none."""

    def messages(self, record: In) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.system}] if self.system else []
        return [*system, {"role": "user", "content": self.prompt(record)}]


class TeacherStageConfig(StageConfig):
    """Settings every teacher-driven stage shares."""

    teacher: str = Field("default", description="name of the recipe's teacher to ask")
    samples: int = Field(1, ge=1, le=64, description="answers asked per input record")
    temperature: float | None = Field(None, ge=0, le=2, description="overrides the teacher's default")
    max_tokens: int | None = Field(None, gt=0)


class TeacherStage(Stage[In, Out]):
    """Fan-out, calls, parsing and drop accounting for any ``TeacherPrompt``; ``finish`` makes the records."""

    config: TeacherStageConfig

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = {reason.value for reason in cls.drop_reasons}
        missing = sorted({reason.value for reason in ParseFailure} - declared)
        if "kind" in cls.__dict__ and missing:
            raise TypeError(f"{cls.__name__}.drop_reasons must include the teacher drop reasons; missing {missing}")

    @abstractmethod
    def task(self) -> TeacherPrompt[In, Any]:
        """The synthesizer's prompt + parse."""

    @abstractmethod
    async def finish(self, samples: list[Sample], result: StageResult[Out]) -> None:
        """Turn parsed samples into records (and drops) in ``result``."""

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(teachers=(getattr(config, "teacher", "default"),))

    def teacher_drop(self, record: BaseModel, reason: TeacherDrop, detail: str) -> Any:
        """A drop for a teacher failure or an unparseable answer (the stage's enum has these values)."""
        return self.drop(record, self.drop_reasons(reason.value), detail)

    async def process(self, batch: list[In]) -> StageResult[Out]:
        result: StageResult[Out] = StageResult()
        samples = await self.ask(self.task(), batch, result)
        await self.finish(samples, result)
        return result

    async def ask(
        self, task: TeacherPrompt[Any, Any], records: list[Any], result: StageResult[Any], *, n: int | None = None
    ) -> list[Sample]:
        """Ask the teacher about every record (``n`` answers each, default the config's ``samples``) and parse
        the answers: the drafts come back as samples, every failure goes to ``result.drops`` with the raw
        answer."""
        from codefoundry.teacher.client import TeacherRequest, json_schema_format
        from codefoundry.teacher.config import Sampling

        cfg = self.config
        client = self.context.teacher(cfg.teacher)
        response_format = json_schema_format(task.response_model) if task.response_model is not None else None
        requests = [
            TeacherRequest(
                messages=task.messages(record),
                n=n or cfg.samples,
                sampling=Sampling(temperature=cfg.temperature, max_tokens=cfg.max_tokens),
                response_format=response_format,
                stage=self.name,
                tag=getattr(record, "id", None),
            )
            for record in records
        ]
        responses = await client.run_many(requests)
        # parsing is stage code: it runs under the run's Python lock, off the event loop
        return await self.context.services.in_python(
            self._parse_all, task, records, responses, client.config.model, result
        )

    def _parse_all(
        self,
        task: TeacherPrompt[Any, Any],
        batch: list[Any],
        responses: list[Any],
        model: str,
        result: StageResult[Any],
    ) -> list[Sample]:
        """Every sample of every response parsed into a draft, or a drop that keeps the raw answer."""
        samples: list[Sample] = []
        for record, response in zip(batch, responses, strict=True):
            if not response.ok:
                detail = f"{response.failure}: {response.detail}"[:1000]
                result.drops.append(self.teacher_drop(record, TeacherDrop.CALL_FAILED, detail))
                continue
            for index, completion in enumerate(response.completions):
                try:
                    draft = task.parse(record, _checked_text(completion))
                except ParseError as exc:
                    raw = completion.text[:1500]
                    result.drops.append(self.teacher_drop(record, exc.reason, f"{exc.detail}\n--- answer ---\n{raw}"))
                    continue
                samples.append(Sample(record, index, draft, self.config.teacher, model))
        return samples


def _checked_text(completion: Any) -> str:
    """The completion's text, unless it is empty, truncated or a refusal (then a ``ParseError``)."""
    from codefoundry.teacher.parse import check_text

    checked = check_text(completion)
    if not checked.ok:
        raise ParseError(str(checked.reason), checked.detail)
    return str(checked.value)
