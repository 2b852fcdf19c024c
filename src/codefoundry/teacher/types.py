"""The values that cross the teacher client's boundary: requests, samples, responses and failures.

In a module of their own so that parsers, stages and tests can use them without importing the HTTP stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from codefoundry.teacher.config import Sampling
from codefoundry.teacher.formats import Message, json_schema_format

ResponseFormat = dict[str, Any] | type[BaseModel] | None


class Completion(BaseModel):
    """One sample of a teacher's answer."""

    model_config = ConfigDict(frozen=True)
    text: str
    index: int = Field(description="sample index within its request (part of the cache key)")
    finish_reason: str | None = None
    refusal: str | None = None
    cached: bool = False
    model: str = ""

    @classmethod
    def from_payload(cls, payload: dict[str, Any], index: int, *, cached: bool) -> Completion:
        """A sample from its cache payload (what ``formats.read_choices`` returns and the cache stores)."""
        return cls(
            text=payload["text"],
            index=index,
            finish_reason=payload.get("finish_reason"),
            refusal=payload.get("refusal"),
            cached=cached,
            model=payload.get("model", ""),
        )


class TeacherRequest(BaseModel):
    """One logical request: messages (chat) or a prompt (completion), ``n`` samples, a stage for accounting.

    ``response_format`` also takes a pydantic model class, which stands for its JSON schema.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    messages: list[Message] | None = None
    prompt: str | None = None
    n: int = Field(1, gt=0)
    sampling: Sampling | None = None
    response_format: dict[str, Any] | None = None
    stage: str = ""
    tag: Any = Field(None, description="the caller's id for this request (e.g. a task id); not sent")

    @field_validator("response_format", mode="before")
    @classmethod
    def _schema_of_model(cls, value: Any) -> Any:
        if isinstance(value, type) and issubclass(value, BaseModel):
            return json_schema_format(value)
        return value

    @model_validator(mode="after")
    def _one_input(self) -> TeacherRequest:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a TeacherRequest needs exactly one of messages or prompt")
        return self


class RequestOptions(TypedDict, total=False):
    """The fields of a TeacherRequest besides its input, as keyword arguments of ``chat`` / ``complete``."""

    n: int
    sampling: Sampling | None
    response_format: ResponseFormat
    stage: str


class TeacherResponse(BaseModel):
    """What became of a request: its samples, or the reason it failed (with whatever samples did arrive)."""

    request: TeacherRequest
    completions: list[Completion] = Field(default_factory=list)
    failure: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None


class TeacherFailure(Exception):
    """A call given up on; ``reason`` is a short stable label (``timeout``, ``http_400``, ...)."""

    def __init__(self, reason: str, detail: str = "", completions: Sequence[Completion] = ()) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.completions = list(completions)
