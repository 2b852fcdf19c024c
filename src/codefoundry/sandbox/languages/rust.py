"""Rust (rustc directly, no cargo): stdio only; compiled once per distinct source and cached."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache

from codefoundry.sandbox.languages.base import Language


@lru_cache(maxsize=1)
def _real_rustc() -> str:
    """The toolchain's rustc, not the rustup proxy (which wants $HOME and may try to write)."""
    proxy = shutil.which("rustc") or os.path.expanduser("~/.cargo/bin/rustc")
    try:
        root = subprocess.run(
            [proxy, "--print", "sysroot"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "rustc"
    cand = os.path.join(root, "bin", "rustc")
    return cand if os.access(cand, os.X_OK) else proxy


class Rust(Language):
    def resolve(self, tool: str) -> str | None:
        if tool == "rustc":
            path = _real_rustc()
            return path if os.path.isabs(path) and os.access(path, os.X_OK) else shutil.which(path)
        return super().resolve(tool)


LANGUAGE = Rust(
    name="rust",
    styles=("stdio",),
    toolchain=("rustc",),
    source="main.rs",
    compile=("rustc", "-O", "--edition", "2021", "-C", "codegen-units=4", "-o", "{out}/main", "{src}"),
    run=("{art}/main",),
    compile_time_s=120.0,
    compile_memory_mb=4096,
    compile_as_mode="none",
    notes="stdio only; rustc without cargo (std only)",
)
