"""Python: runs in-process in a child forked from the warm fork-server (no interpreter start-up)."""

from __future__ import annotations

from codefoundry.sandbox.languages.base import Language

LANGUAGE = Language(
    name="python",
    styles=("function", "stdio"),
    mode="python",
    as_mode="inprocess",  # RLIMIT_AS = the fork-server's own size + memory_mb
    notes="function and stdio; executed in a child forked from a warm interpreter",
)
