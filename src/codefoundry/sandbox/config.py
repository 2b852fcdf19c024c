"""Sandbox configuration and the start-up layer report."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

ALL_LAYERS = (
    "session", "rlimits", "namespaces", "pidns", "fs_view", "cgroup", "uid", "landlock", "seccomp",
)  # fmt: skip

DEFAULT_PREIMPORTS = (
    "math", "cmath", "itertools", "functools", "collections", "collections.abc", "heapq", "bisect", "re",
    "string", "random", "typing", "json", "fractions", "decimal", "statistics", "operator", "copy",
    "datetime", "hashlib", "dataclasses", "enum", "numbers", "array", "io", "textwrap", "unicodedata",
    "sys", "os", "time", "traceback", "socket", "subprocess", "ctypes",
)  # fmt: skip


class SandboxConfig(BaseModel):
    """How the sandbox runs: worker count, which isolation layers to apply, what to pre-import."""

    model_config = ConfigDict(extra="forbid")
    workers: int | None = Field(None, ge=1, description="fork-servers to run; default os.cpu_count()")
    require_isolation: bool = Field(False, description="refuse to start when any enabled layer is missing")
    scratch_root: str | None = Field(None, description="parent dir for per-worker scratch; default $TMPDIR")
    layers: list[str] = Field(
        default_factory=lambda: list(ALL_LAYERS), description="isolation layers to apply"
    )
    preimport: list[str] = Field(default_factory=lambda: list(DEFAULT_PREIMPORTS))
    preimport_extra: list[str] = Field(
        default_factory=list,
        description="modules pre-imported in addition to `preimport` (e.g. the heavy ones a corpus uses)",
    )
    uid_base: int = Field(1_900_000_000, ge=1000, description="children of worker i run as uid_base+offset+i")
    tmpfs_mb: int = Field(512, ge=16, description="size of each worker's private scratch tmpfs")
    build_cache: str | None = Field(
        None, description="compiled artefacts dir; default $TMPDIR/codefoundry-build-<uid>"
    )
    dedup: bool = Field(True, description="run identical requests in one run_many batch only once")
    server_grace_s: float = Field(30.0, gt=0, description="extra wait before a fork-server is presumed hung")

    def worker_count(self) -> int:
        """Fork-servers the sandbox runs: ``workers``, or one per core."""
        return self.workers or os.cpu_count() or 1


class LayerReport(BaseModel):
    """One isolation layer (or language) as found by the start-up probe."""

    model_config = ConfigDict(extra="forbid")
    active: bool
    detail: str = ""
