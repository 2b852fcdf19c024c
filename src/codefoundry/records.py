"""The records that flow between pipeline stages.

Every record's ``id`` is a content hash of the fields that define it, so a re-run recognises its own work
and the same content never gets two ids. Ids never depend on the machine: provenance holds paths relative to
the corpus root, plus the package and its version, never an absolute path. Closed vocabularies are enums
(they serialise as their string values). Records are plain pydantic models: they serialise to JSON lines in
shards and to Parquet on export.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Style(StrEnum):
    """How a task is called: a function with arguments, or a program reading stdin."""

    FUNCTION = "function"
    STDIO = "stdio"


class Split(StrEnum):
    """Visible tests may be shown or used to choose; holdout tests only confirm a choice."""

    VISIBLE = "visible"
    HOLDOUT = "holdout"


class TestOrigin(StrEnum):
    """Where a test's input came from."""

    __test__ = False  # not a pytest class
    DOCTEST = "doctest"
    BOUNDARY = "boundary"
    HYPOTHESIS = "hypothesis"
    PROBE = "probe"
    TEACHER = "teacher"
    PROMPT_EXAMPLE = "prompt_example"
    GENERATOR = "generator"
    MUTATION = "mutation"
    GENERATED = "generated"
    GIVEN = "given"  # the user's own tests, read with their tasks


class SolutionRole(StrEnum):
    """What a solution is to its problem: the trusted reference, a candidate being judged, or a mutant."""

    REFERENCE = "reference"
    CANDIDATE = "candidate"
    MUTANT = "mutant"


class AuthorKind(StrEnum):
    """Who wrote a solution: real code from a corpus, a teacher model, or a mutation operator."""

    CORPUS = "corpus"
    TEACHER = "teacher"
    MUTATION = "mutation"
    USER = "user"


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
    """Where a record came from, in terms that mean the same on every machine.

    ``path`` is relative to the corpus root (``json/encoder.py``), never absolute; ``package`` and
    ``version`` name the distribution the code shipped in (``python`` and the interpreter's version for the
    standard library), ``licence`` its licence where known.
    """

    model_config = ConfigDict(extra="forbid")
    source: str  # the corpus kind and name: "stdlib", "package:algorithms", "dir", "files"
    path: str = ""
    qualname: str = ""
    line: int = 0
    method: str = ""  # the synthesizer that produced the task, e.g. "mine", "oss_instruct"
    package: str = ""
    version: str = ""
    licence: str = ""


class SourceFile(Record):
    """A file of real code to mine: the work item of a source stage.

    ``root`` is where the corpus lives on this machine; it is needed to read the file and is not part of the
    id (the same corpus in two checkouts gives the same ids).
    """

    id_fields = ("path", "source", "module")
    path: str  # relative to root
    root: str
    source: str
    module: str = ""  # dotted module name when importable (e.g. "posixpath"), else ""
    package: str = ""
    version: str = ""
    licence: str = ""


class Seed(Record):
    """A piece of real code that seeds a task: here, one documented top-level function."""

    id_fields = ("language", "code", "provenance")
    language: str = "python"
    name: str
    code: str  # the whole function source
    docstring: str = ""
    module: str = ""  # importable module name when the seed comes from an installed package
    provenance: Provenance


class Lineage(BaseModel):
    """How a synthesized task was made from another: the operator that changed it, in which round, from
    which task (``parent``: a task id), and the snippet of real code that inspired it (OSS-Instruct)."""

    model_config = ConfigDict(extra="forbid")
    operator: str = ""
    round: int = 0
    parent: str = ""
    snippet: str = ""


class Task(Record):
    """A programming task: what a model is asked to solve.

    A task whose problem has no reference yet is an *instruction* (Self-Instruct, Evol-Instruct): a later
    stage writes and verifies its solution and tests. ``lesson`` keeps a textbook section's explanation.
    """

    id_fields = ("prompt", "style", "language", "entry_point", "observe_args")
    prompt: str
    style: Style = Style.FUNCTION
    language: str = "python"
    entry_point: str = ""
    signature: str = ""
    # function tasks that work in place: tests compare [return value, arguments after the call]
    observe_args: bool = False
    provenance: Provenance
    features: list[str] = Field(default_factory=list)
    lineage: Lineage | None = None
    lesson: str = ""


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
    origin: TestOrigin = TestOrigin.GENERATED
    split: Split = Split.VISIBLE


class Author(BaseModel):
    """Who wrote a solution: the corpus, a teacher (name, model, sample index), or a mutation operator."""

    model_config = ConfigDict(extra="forbid")
    kind: AuthorKind
    name: str = ""  # the teacher's name in the recipe, the corpus label, or the mutation operator
    model: str = ""
    sample: int = 0


class Solution(Record):
    """Code claimed to solve a task: its role for the problem apart from who wrote it."""

    id_fields = ("task_id", "language", "code")
    task_id: str
    language: str = "python"
    code: str
    role: SolutionRole = SolutionRole.REFERENCE
    author: Author = Field(default_factory=lambda: Author(kind=AuthorKind.CORPUS))
    copies: int = Field(1, ge=1, description="how many samples normalised to this code (votes and pass@k count them)")


class CandidateVerdicts(BaseModel):
    """The verdict of one candidate solution on each of its problem's tests: test id -> the sandbox's status
    (``pass``, ``wrong_answer``, ``timeout``...; the sandbox owns that vocabulary)."""

    model_config = ConfigDict(extra="forbid")
    solution_id: str
    verdicts: dict[str, str] = Field(default_factory=dict)


class TestgenReport(BaseModel):
    """What test building saw for one problem (counts by origin, labelling statuses, probed types)."""

    __test__ = False
    model_config = ConfigDict(extra="forbid")
    candidates: dict[str, int] = Field(default_factory=dict)
    labelled: int = 0
    statuses: dict[str, int] = Field(default_factory=dict)
    doctest_tests: int = 0
    probed_types: str = ""


class MutationReport(BaseModel):
    """Which mutants survived a problem's suite, and how many runs the sandbox could not judge; ``skipped``
    says why a problem passed through unscored (no mutation operators for its language), else empty."""

    model_config = ConfigDict(extra="forbid")
    survivors: list[str] = Field(default_factory=list)
    sandbox_errors: int = 0
    skipped: str = ""


class AgreementReport(BaseModel):
    """How far a teacher's own solution agreed with its own tests."""

    model_config = ConfigDict(extra="forbid")
    agreeing: int
    total: int

    @property
    def share(self) -> float:
        return self.agreeing / self.total if self.total else 0.0


class Difficulty(StrEnum):
    """How hard a task is for the model that was sampled on it: the share of its samples that pass
    (>= 2/3 easy, < 1/3 hard, as KodCode grades)."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"

    @classmethod
    def of(cls, pass_rate: float) -> Difficulty:
        if pass_rate >= 2 / 3:
            return cls.EASY
        return cls.HARD if pass_rate < 1 / 3 else cls.MEDIUM


class CheckerUse(StrEnum):
    """Whether a task's checker judged its outputs: not there, used, or distrusted (it accepted a mismatched
    output or rejected a stated one; outputs were then compared exactly)."""

    NONE = "none"
    USED = "used"
    DISTRUSTED = "distrusted"


class InputVote(BaseModel):
    """The vote on one input: how many samples gave the top output and the runner-up, of how many that
    returned at all; ``decided`` false with the reason when the rule was not met."""

    model_config = ConfigDict(extra="forbid")
    test_id: str
    top: int
    runner_up: int
    valid: int
    errors: int
    decided: bool
    reason: str = ""  # why undecided: a VoteOutcome value


class VoteReport(BaseModel):
    """The evidence behind a voted task: per-input votes, the chosen cluster, the holdout check, difficulty."""

    model_config = ConfigDict(extra="forbid")
    samples: int  # candidates counted with their copies
    distinct: int
    voters: int  # samples that took part in the vote (those consistent with the prompt's stated examples)
    inputs: int
    decided: int
    chosen_cluster: int  # samples whose outputs equal the chosen solution's on every decided input
    holdout_passed: int
    holdout_total: int
    passing: int  # samples passing every decided test
    pass_rate: float
    difficulty: Difficulty
    confidence: float  # chosen cluster / voters
    checker: CheckerUse = CheckerUse.NONE
    votes: list[InputVote] = Field(default_factory=list)


class SuiteReport(BaseModel):
    """How strong a voted suite is against the task's wrong samples, and the reduced suite that keeps every kill."""

    model_config = ConfigDict(extra="forbid")
    wrong_samples: int = 0
    wrong_rejected: int = 0
    mutants: int = 0
    mutants_killed: int = 0
    reduced_test_ids: list[str] = Field(default_factory=list)


class CandidatesReport(BaseModel):
    """How a problem's sampled candidates fared on all its tests (samples counted with their copies)."""

    model_config = ConfigDict(extra="forbid")
    samples: int
    passing: int
    pass_rate: float
    difficulty: Difficulty


class ProblemReports(BaseModel):
    """Typed per-stage reports on a problem (what each stage found, for inspection and the run report)."""

    model_config = ConfigDict(extra="forbid")
    seed_id: str = ""
    module: str = ""
    testgen: TestgenReport | None = None
    mutation: MutationReport | None = None
    agreement: AgreementReport | None = None
    vote: VoteReport | None = None
    suite: SuiteReport | None = None
    candidates: CandidatesReport | None = None


class Problem(Record):
    """A task travelling through test building and verification with everything known about it so far."""

    id_fields = ("task",)
    task: Task
    reference: Solution | None = None
    candidates: list[Solution] = Field(default_factory=list)
    candidate_verdicts: list[CandidateVerdicts] = Field(default_factory=list)
    tests: list[TestCase] = Field(default_factory=list)
    inputs: list[TestCase] = Field(
        default_factory=list,
        description="inputs awaiting a vote on their output; ``expected`` is set only for a prompt's "
        "stated example output (origin prompt_example)",
    )
    checker: str | None = Field(
        None,
        description="Python source of check(input, output, expected) -> bool for tasks with several right "
        "outputs: run in the sandbox, it replaces exact comparison",
    )
    mutation_score: float | None = None
    mutants_total: int = 0
    mutants_killed: int = 0
    reports: ProblemReports = Field(default_factory=ProblemReports)


class Drop(BaseModel):
    """A record that a stage did not pass on, and why. Nothing is dropped without one.

    ``stage`` is the stage's name in its run (position and kind, e.g. ``03-verify.reference``), so a kind
    used twice in a recipe keeps its drops apart; ``reason`` is a value of that stage's drop-reason enum.
    """

    model_config = ConfigDict(extra="forbid")
    stage: str
    record_id: str
    reason: str
    detail: str = ""
    record: dict[str, Any] | None = None  # enough of the record to look at it again
