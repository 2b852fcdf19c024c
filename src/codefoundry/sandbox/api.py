"""The sandbox's public data types: what callers ask for and what they get back.

Everything that crosses into or out of the sandbox is one of these plain pydantic models, so the rest of
codefoundry never depends on how isolation is done. Expected outputs stay in the supervisor: the child only
ever receives ``TestInput`` values, never ``expected``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.sandbox.status import Status


class SandboxError(RuntimeError):
    """The sandbox could not start or lost a worker (never the candidate's fault)."""


class Limits(BaseModel):
    """Resource limits for one candidate (all of its tests run in one child)."""

    model_config = ConfigDict(extra="forbid")
    time_s: float = Field(5.0, gt=0, description="wall-clock limit for the whole candidate")
    per_test_time_s: float = Field(2.0, gt=0, description="wall-clock limit for each test")
    cpu_s: float = Field(5.0, gt=0, description="CPU-time limit for the whole candidate")
    memory_mb: int = Field(512, gt=0, description="address-space limit")
    output_kb: int = Field(1024, gt=0, description="cap on captured stdout/stderr and returned data")
    file_size_mb: int = Field(16, gt=0, description="largest file the candidate may write")
    open_files: int = Field(64, gt=0)
    processes: int = Field(32, gt=0, description="process/thread cap (pids cgroup or RLIMIT_NPROC)")


class Compare(BaseModel):
    """How the supervisor compares an output with the expected one."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["exact", "whitespace", "float", "checker"] = "exact"
    float_rel_tol: float = 1e-6
    float_abs_tol: float = 1e-9
    checker: str | None = None  # checker program source (python) for mode == "checker"


class TestInput(BaseModel):
    """One test's input and (supervisor-side only) its expected output."""

    __test__ = False
    model_config = ConfigDict(extra="forbid")
    args: list[Any] | None = None  # function style: positional arguments (plain JSON data)
    stdin: str | None = None  # stdio style
    expected: Any = None  # judge mode only; never sent to the child
    has_expected: bool = False


class ExecRequest(BaseModel):
    """Run one candidate program against a list of test inputs."""

    model_config = ConfigDict(extra="forbid")
    language: str = "python"
    style: Literal["function", "stdio"] = "function"
    code: str
    entry_point: str = ""
    tests: list[TestInput] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    mode: Literal["collect", "judge"] = "judge"
    stop_on_first_failure: bool = False
    compare: Compare = Field(default_factory=Compare)
    # pin the request to one fork-server (modulo the worker count): each has its own fixed string-hash seed,
    # so two runs pinned to different workers see different set iteration orders; None = any free worker
    worker: int | None = Field(None, ge=0)


class TestVerdict(BaseModel):
    """The outcome of one test, decided by the supervisor.

    ``status`` is validated against ``Status`` and stored as its plain string (``use_enum_values``), so a
    verdict reads, compares, prints and serializes exactly as the string it is.
    """

    __test__ = False
    model_config = ConfigDict(extra="forbid", use_enum_values=True)
    status: Status
    output: Any = None  # plain data returned (function) or captured stdout (stdio); capped
    error: str = ""  # exception type and message, or why the verdict was reached
    time_s: float = 0.0
    peak_memory_mb: float = 0.0


class ExecResult(BaseModel):
    """The outcome of one candidate: a verdict per test plus an overall status (a plain string too)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)
    status: Status  # the first non-pass/ok verdict, or "pass" / "ok"
    passed: bool
    verdicts: list[TestVerdict] = Field(default_factory=list)
    compile_output: str = ""
    stderr: str = ""
    time_s: float = 0.0
    peak_memory_mb: float = 0.0
    cached: bool = False


class ProgramRun(BaseModel):
    """One plain program run (no expected output): what ``codefoundry sandbox run`` prints."""

    model_config = ConfigDict(extra="forbid")
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    time_s: float
    peak_memory_mb: float
    error: str = ""
