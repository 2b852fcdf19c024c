"""The records that flow between pipeline stages.

Every record's ``id`` is a content hash of the fields that define it, so a re-run recognises its own work
and the same content never gets two ids. Records are plain pydantic models: they serialise to JSON lines in
shards and to Parquet on export.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Style = Literal["function", "stdio"]
Split = Literal["visible", "holdout"]


def content_hash(payload: Any, length: int = 16) -> str:
    """Stable hash of JSON-able data (sorted keys, no whitespace)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


class Record(BaseModel):
    """Base class: subclasses list the fields that make up their identity in ``id_fields``."""

    model_config = ConfigDict(extra="forbid")
    id_fields: ClassVar[tuple[str, ...]] = ()
    id: str = ""

    @model_validator(mode="after")
    def _fill_id(self) -> Record:
        if not self.id:
            payload = {name: _plain(getattr(self, name)) for name in self.id_fields}
            payload["__kind__"] = type(self).__name__
            object.__setattr__(self, "id", content_hash(payload))
        return self


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Provenance(BaseModel):
    """Where a record came from: enough to find the original code again."""

    model_config = ConfigDict(extra="forbid")
    source: str  # e.g. "stdlib", "package:algorithms", "dir:/path"
    path: str = ""
    qualname: str = ""
    line: int = 0
    method: str = ""  # synthesizer that produced the task, e.g. "mine"


class SourceFile(Record):
    """A file of real code to mine: the work item of a source stage."""

    id_fields = ("path", "source", "module")
    path: str
    source: str  # "stdlib", "package:NAME", "dir:PATH", "files"
    module: str = ""  # dotted module name when importable (e.g. "posixpath"), else ""


class Seed(Record):
    """A piece of real code that seeds a task: here, one documented top-level function."""

    id_fields = ("language", "code", "provenance")
    language: str = "python"
    name: str
    code: str  # the whole function source
    docstring: str = ""
    module: str = ""  # importable module name when the seed comes from an installed package
    provenance: Provenance


class Task(Record):
    """A programming task: what a model is asked to solve."""

    id_fields = ("prompt", "style", "language", "entry_point", "observe_args")
    prompt: str
    style: Style = "function"
    language: str = "python"
    entry_point: str = ""
    signature: str = ""
    # function tasks that work in place: tests compare [return value, arguments after the call]
    observe_args: bool = False
    provenance: Provenance
    features: list[str] = Field(default_factory=list)


class TestCase(Record):
    """One test: an input and, once labelled, its expected output.

    For ``function`` tasks ``args`` holds the positional arguments (plain JSON data); for ``stdio`` tasks
    ``stdin`` holds the input text. ``expected`` is what the supervisor compares against.
    """

    __test__ = False  # not a pytest class
    id_fields = ("task_id", "args", "stdin")
    task_id: str
    args: list[Any] | None = None
    stdin: str | None = None
    expected: Any = None
    origin: str = "generated"  # doctest | hypothesis | boundary | teacher | ...
    split: Split = "visible"


class Solution(Record):
    """Code claimed to solve a task."""

    id_fields = ("task_id", "language", "code")
    task_id: str
    language: str = "python"
    code: str
    origin: str = "reference"  # reference | teacher | mutant | ...


class Problem(Record):
    """A task travelling through test building and verification with everything known about it so far."""

    id_fields = ("task",)
    task: Task
    reference: Solution | None = None
    tests: list[TestCase] = Field(default_factory=list)
    mutation_score: float | None = None
    mutants_total: int = 0
    mutants_killed: int = 0
    notes: dict[str, Any] = Field(default_factory=dict)


class Drop(BaseModel):
    """A record that a stage did not pass on, and why. Nothing is dropped without one."""

    model_config = ConfigDict(extra="forbid")
    stage: str
    record_id: str
    reason: str  # a short machine-readable code, e.g. "syntax_error", "nondeterministic"
    detail: str = ""
    record: dict[str, Any] | None = None  # enough of the record to look at it again
