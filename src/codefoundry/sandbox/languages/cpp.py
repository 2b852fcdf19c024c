"""C++ (g++): stdio only; compiled once per distinct source, in the sandbox, and cached."""

from __future__ import annotations

from codefoundry.sandbox.languages.base import Language

LANGUAGE = Language(
    name="cpp",
    styles=("stdio",),
    toolchain=("g++",),
    source="main.cpp",
    compile=("g++", "-O2", "-std=c++17", "-pipe", "-o", "{out}/main", "{src}"),
    run=("{art}/main",),
    compile_time_s=60.0,
    compile_memory_mb=2048,
    notes="stdio only",
)
