"""The contract every language plugin fulfils: how to build and run a candidate, and which styles it has."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Any

from codefoundry.sandbox.api import ExecRequest


@dataclass(frozen=True)
class Language:
    """A language plugin. ``spec()`` is what the fork-server needs (plain dict, no pydantic over there).

    ``mode`` is ``python`` (run in-process in the warm fork-server's child: no exec, no start-up cost) or
    ``exec`` (execve a runtime/binary). ``compile`` is an argv template run once per distinct program, in the
    sandbox, whose output directory is cached by hash. Templates may use ``{src}`` (source path), ``{out}``
    (build dir), ``{art}`` (cached artefact dir) and ``{dir}`` (scratch dir), ``{mem}`` (memory limit, MiB) and ``{scratch_root}`` (the worker's tmpfs).
    """

    name: str
    styles: tuple[str, ...]
    toolchain: tuple[str, ...] = ()
    mode: str = "exec"
    source: str | None = None
    compile: tuple[str, ...] | None = None
    run: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    compile_env: dict[str, str] = field(default_factory=dict)
    as_mode: str = "limit"  # "inprocess" | "limit" | "none" (RLIMIT_AS breaks some JIT runtimes)
    extra_mb: int = 0
    compile_time_s: float = 60.0
    compile_memory_mb: int = 2048
    compile_as_mode: str = "limit"
    compile_drop_uid: bool = True
    compile_dirs: tuple[str, ...] = ()  # made by the fork-server as root (0700) before compiling
    notes: str = ""

    def resolve(self, tool: str) -> str | None:
        """Absolute path of a toolchain binary, or None."""
        if os.path.isabs(tool):
            return tool if os.access(tool, os.X_OK) else None
        return shutil.which(tool)

    def available(self) -> tuple[bool, str]:
        missing = [t for t in self.toolchain if self.resolve(t) is None]
        if missing:
            return False, f"toolchain missing: {', '.join(missing)}"
        return True, ", ".join(self.resolve(t) or t for t in self.toolchain) or "built in"

    def view_roots(self) -> list[str]:
        """Where the toolchain lives, for the sandbox's filesystem view: the directory above each
        binary's ``bin/`` (after links), e.g. a rustup toolchain or an /opt/node; /usr needs nothing."""
        roots = []
        for tool in self.toolchain:
            path = self.resolve(tool)
            if path is not None:
                real = os.path.realpath(path)
                roots.append(os.path.dirname(os.path.dirname(real)))
        return roots

    def spec(self) -> dict[str, Any]:
        def absolute(argv: tuple[str, ...]) -> list[str]:
            out = list(argv)
            if out and not out[0].startswith("{"):
                out[0] = self.resolve(out[0]) or out[0]
            return out

        env = dict(self.env)
        cenv = dict(self.compile_env)
        if self.compile and "PATH" not in cenv:
            # the compiler's own directory first, so drivers find their helpers (cc1plus, rustc's linker...)
            tool = self.resolve(self.compile[0]) or ""
            cenv["PATH"] = (
                os.path.dirname(tool) + ":/usr/local/bin:/usr/bin:/bin" if tool else "/usr/bin:/bin"
            )

        return {
            "name": self.name,
            "mode": self.mode,
            "source": self.source,
            "compile": absolute(self.compile) if self.compile else None,
            "run": absolute(self.run),
            "env": env,
            "compile_env": cenv,
            "as_mode": self.as_mode,
            "extra_mb": self.extra_mb,
            "compile_time_s": self.compile_time_s,
            "compile_memory_mb": self.compile_memory_mb,
            "compile_as_mode": self.compile_as_mode,
            "compile_drop_uid": self.compile_drop_uid,
            "compile_dirs": list(self.compile_dirs),
        }

    def program(self, request: ExecRequest) -> str:
        """The full source to write: the candidate, plus a call harness for function style."""
        return request.code
