"""The messages between the supervisor and a fork-server, as named types.

Both sides import this module, so it is stdlib only (the fork-server must start fast). Each message is one
length-prefixed JSON frame (``server/framing.py``): ``to_dict`` gives what is sent, ``from_dict`` reads it
back. The fork-server runs only codefoundry code and is trusted; what a child said is not: a test's
``output`` is text the child chose, which ``from_dict`` keeps only as a string and which the supervisor
re-parses itself as plain data, and only within the output cap (``verdicts.py``).

The child's own stream to the fork-server (fd 3, newline-delimited JSON with terse keys, described in
``harness.py``) is not here: every language runner speaks it, and it never leaves the fork-server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class Op(StrEnum):
    """What a request asks the fork-server to do."""

    RUN = "run"
    PROBE = "probe"
    MEASURE = "measure"
    PING = "ping"


@dataclass(frozen=True)
class ServerConfig:
    """How the supervisor sets up one fork-server: its only command-line argument, as JSON."""

    scratch_root: str
    layers: list[str]
    uid: int | None = None
    tmpfs_mb: int = 512
    cgroup_name: str = ""
    preimport: list[str] = field(default_factory=list)
    view_paths: list[str] = field(default_factory=list)  # toolchain roots the filesystem view must hold
    build_cache: str | None = None  # compiled artefacts: in the view, writable by the fork-server only
    # The seccomp program (BPF, hex) and what it holds, compiled by the supervisor: libseccomp loaded in the
    # fork-server would make every fork copy its mappings.
    seccomp_program: str | None = None
    seccomp_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "scratch_root": self.scratch_root,
            "layers": list(self.layers),
            "uid": self.uid,
            "tmpfs_mb": self.tmpfs_mb,
            "cgroup_name": self.cgroup_name,
            "preimport": list(self.preimport),
            "view_paths": list(self.view_paths),
            "build_cache": self.build_cache,
            "seccomp_program": self.seccomp_program,
            "seccomp_note": self.seccomp_note,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ServerConfig:
        return cls(
            scratch_root=d["scratch_root"],
            layers=list(d["layers"]),
            uid=d.get("uid"),
            tmpfs_mb=d.get("tmpfs_mb", 512),
            cgroup_name=d.get("cgroup_name", ""),
            preimport=list(d.get("preimport", [])),
            view_paths=list(d.get("view_paths", [])),
            build_cache=d.get("build_cache"),
            seccomp_program=d.get("seccomp_program"),
            seccomp_note=d.get("seccomp_note", ""),
        )


@dataclass(frozen=True)
class ProbeReport:
    """What the fork-server set up (``notes``: layer -> (active, detail)) and what a probe child observed."""

    notes: dict[str, tuple[bool, str]]
    checks: dict[str, Any]
    iso_error: str
    pidns: bool
    server_pid: int
    cgroup_dir: str | None
    base_vsz_mb: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "notes": {k: list(v) for k, v in self.notes.items()},
            "checks": self.checks,
            "iso_error": self.iso_error,
            "pidns": self.pidns,
            "server_pid": self.server_pid,
            "cgroup_dir": self.cgroup_dir,
            "base_vsz_mb": self.base_vsz_mb,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProbeReport:
        return cls(
            notes={k: (bool(v[0]), str(v[1])) for k, v in d.get("notes", {}).items()},
            checks=dict(d.get("checks", {})),
            iso_error=str(d.get("iso_error", "")),
            pidns=bool(d.get("pidns")),
            server_pid=int(d.get("server_pid", 0)),
            cgroup_dir=d.get("cgroup_dir"),
            base_vsz_mb=float(d.get("base_vsz_mb", 0.0)),
        )


@dataclass(frozen=True)
class Hello:
    """The fork-server's first message: its probe report, or why it could not start."""

    report: ProbeReport | None
    fatal: str = ""

    def to_dict(self) -> dict[str, Any]:
        if self.report is None:
            return {"fatal": self.fatal}
        return {"report": self.report.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Hello:
        if "fatal" in d or not isinstance(d.get("report"), dict):
            return cls(report=None, fatal=str(d.get("fatal", "")))
        return cls(report=ProbeReport.from_dict(d["report"]))


@dataclass(frozen=True)
class RunLimits:
    """``api.Limits`` as the fork-server reads it (no pydantic over there)."""

    time_s: float
    per_test_time_s: float
    cpu_s: float
    memory_mb: int
    output_kb: int
    file_size_mb: int
    open_files: int
    processes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_s": self.time_s,
            "per_test_time_s": self.per_test_time_s,
            "cpu_s": self.cpu_s,
            "memory_mb": self.memory_mb,
            "output_kb": self.output_kb,
            "file_size_mb": self.file_size_mb,
            "open_files": self.open_files,
            "processes": self.processes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunLimits:
        return cls(
            time_s=float(d["time_s"]),
            per_test_time_s=float(d["per_test_time_s"]),
            cpu_s=float(d["cpu_s"]),
            memory_mb=int(d["memory_mb"]),
            output_kb=int(d["output_kb"]),
            file_size_mb=int(d["file_size_mb"]),
            open_files=int(d["open_files"]),
            processes=int(d["processes"]),
        )


@dataclass(frozen=True)
class EarlyStop:
    """What lets the fork-server stop at the first failing test; the supervisor re-judges every test."""

    expected: list[str | None]  # per test: the expected output's text (plain JSON in function style)
    mode: str  # Compare.mode (never "checker")
    rel_tol: float
    abs_tol: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "mode": self.mode,
            "rel_tol": self.rel_tol,
            "abs_tol": self.abs_tol,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EarlyStop:
        return cls(expected=list(d["expected"]), mode=d["mode"], rel_tol=d["rel_tol"], abs_tol=d["abs_tol"])


@dataclass(frozen=True)
class RunRequest:
    """Build (if needed) and run one candidate against its test inputs; expected outputs stay behind."""

    op: ClassVar[Op] = Op.RUN
    language: dict[str, Any]  # what ``Language.spec()`` returns
    style: str  # "function" | "stdio"
    code: str
    program: str  # the full source to write for compiled/exec languages ("" = the code itself)
    entry_point: str
    tests: list[str]  # function style: each test's arguments as plain JSON; stdio style: its stdin
    limits: RunLimits
    stop_on_first_failure: bool
    early_stop: EarlyStop | None
    build_cache: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "language": self.language,
            "style": self.style,
            "code": self.code,
            "program": self.program,
            "entry_point": self.entry_point,
            "tests": self.tests,
            "limits": self.limits.to_dict(),
            "stop_on_first_failure": self.stop_on_first_failure,
            "early_stop": self.early_stop.to_dict() if self.early_stop is not None else None,
            "build_cache": self.build_cache,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRequest:
        early = d.get("early_stop")
        return cls(
            language=d["language"],
            style=d["style"],
            code=d["code"],
            program=d.get("program") or "",
            entry_point=d.get("entry_point", ""),
            tests=list(d["tests"]),
            limits=RunLimits.from_dict(d["limits"]),
            stop_on_first_failure=bool(d.get("stop_on_first_failure")),
            early_stop=EarlyStop.from_dict(early) if early is not None else None,
            build_cache=d["build_cache"],
        )


@dataclass(frozen=True)
class MeasureRequest:
    """Time fork-to-reap with progressively more isolation layers, ``n`` rounds."""

    op: ClassVar[Op] = Op.MEASURE
    n: int = 50

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "n": self.n}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeasureRequest:
        return cls(n=int(d.get("n", 50)))


@dataclass(frozen=True)
class MeasureReply:
    """Median fork-to-reap milliseconds per cumulative layer set (empty after a sandbox error)."""

    median_ms: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"median_ms": self.median_ms}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MeasureReply:
        return cls(median_ms=dict(d.get("median_ms", {})))


@dataclass
class TestResult:
    """One test as the fork-server saw it end. ``status`` is a ``Status`` value; ``output`` is unverified."""

    __test__ = False  # not a pytest test class
    status: str
    output: str | None = None  # function style: the result as plain JSON text; stdio style: stdout
    error: str = ""
    time_s: float = 0.0
    peak_kb: int = 0  # the child's peak resident memory
    exit_code: int | None = None  # stdio style: the exit code, or -signal

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "time_s": self.time_s,
            "peak_kb": self.peak_kb,
        }
        if self.exit_code is not None:
            d["exit_code"] = self.exit_code
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TestResult:
        status, output, rc = d.get("status"), d.get("output"), d.get("exit_code")
        return cls(
            status=status if isinstance(status, str) else "",
            output=output if isinstance(output, str) else None,
            error=str(d.get("error", "")),
            time_s=float(d.get("time_s") or 0.0),
            peak_kb=int(d.get("peak_kb") or 0),
            exit_code=rc if isinstance(rc, int) else None,
        )


@dataclass
class RunResponse:
    """The answer to a ``RunRequest``: one ``TestResult`` per test, or why there are none."""

    tests: list[TestResult | None]
    log: str = ""  # function style: the child's stdout; stdio style: its stderr (capped)
    compile_output: str = ""
    compile_error: bool = False
    wall_s: float = 0.0
    peak_kb: int = 0
    sandbox_error: str = ""  # the sandbox failed; set also in a ``ServerError`` reply to any request

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "tests": [t.to_dict() if t is not None else None for t in self.tests],
            "log": self.log,
            "compile_output": self.compile_output,
            "wall_s": self.wall_s,
            "peak_kb": self.peak_kb,
        }
        if self.compile_error:
            d["compile_error"] = True
        if self.sandbox_error:
            d["sandbox_error"] = self.sandbox_error
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResponse:
        return cls(
            tests=[TestResult.from_dict(t) if isinstance(t, dict) else None for t in d.get("tests") or []],
            log=str(d.get("log", "")),
            compile_output=str(d.get("compile_output", "")),
            compile_error=bool(d.get("compile_error")),
            wall_s=float(d.get("wall_s") or 0.0),
            peak_kb=int(d.get("peak_kb") or 0),
            sandbox_error=str(d.get("sandbox_error") or ""),
        )


@dataclass(frozen=True)
class ServerError:
    """The reply to any request the fork-server could not serve (a bug, an unknown op, a lost worker)."""

    sandbox_error: str
    trace: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = {"sandbox_error": self.sandbox_error}
        if self.trace:
            d["trace"] = self.trace
        return d
