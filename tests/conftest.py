"""Fixtures shared across the suite: one warm sandbox for well-behaved programs, scripted teacher servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from codefoundry.sandbox import Sandbox, SandboxConfig
from codefoundry.testing.teacher_server import ScriptedServer


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2)) as sb:
        yield sb


@pytest.fixture
def start_server() -> Iterator[Callable[..., ScriptedServer]]:
    """Start scripted servers with given options; all are stopped at the end of the test."""
    servers: list[ScriptedServer] = []

    def start(**options: Any) -> ScriptedServer:
        server = ScriptedServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
