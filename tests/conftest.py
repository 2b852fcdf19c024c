"""Fixtures shared across the suite: one warm sandbox for well-behaved programs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codefoundry.sandbox import Sandbox, SandboxConfig


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2)) as sb:
        yield sb
