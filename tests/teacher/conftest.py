"""Shared fixtures: a scripted OpenAI-compatible server on 127.0.0.1 and a fast-retrying teacher config."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from codefoundry.teacher.client import TeacherClient
from codefoundry.teacher.config import TeacherConfig
from codefoundry.teacher.types import Completion
from codefoundry.testing.teacher_server import ScriptedServer


@pytest.fixture
def server(start_server: Callable[..., ScriptedServer]) -> ScriptedServer:
    return start_server()


def fast_config(server: ScriptedServer, **overrides: Any) -> TeacherConfig:
    """A config whose backoff is short enough for tests but still exercised."""
    values: dict[str, Any] = {
        "base_url": server.base_url,
        "model": "scripted-teacher",
        "max_concurrency": 4,
        "timeout_s": 0.5,
        "max_retries": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    values.update(overrides)
    return TeacherConfig(**values)


def chat(client: TeacherClient, messages: list[dict[str, str]], **options: Any) -> list[Completion]:
    """client.chat from sync test code, closing the client's connections afterwards."""

    async def go() -> list[Completion]:
        async with client:
            return await client.chat(messages, **options)

    return asyncio.run(go())


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]
