"""A run drives its clients from one long-lived event loop: several ``run_many`` at once on one client share
one HTTP session and one ``max_concurrency`` limit, and ``aclose`` ends it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from codefoundry.teacher.accounting import Accounting
from codefoundry.teacher.client import TeacherClient
from codefoundry.teacher.formats import json_schema_format
from codefoundry.teacher.types import TeacherRequest, TeacherResponse
from codefoundry.testing.teacher_server import ScriptedServer

from .conftest import fast_config, user


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[aiohttp.ClientSession]:
    """Every aiohttp session the client creates during the test."""
    made: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def counting(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        session = real(*args, **kwargs)
        made.append(session)
        return session

    monkeypatch.setattr(aiohttp, "ClientSession", counting)
    return made


def test_concurrent_run_many_share_one_session_and_one_limit(
    start_server: Callable[..., ScriptedServer], sessions: list[aiohttp.ClientSession]
) -> None:
    latency = 0.1
    server = start_server(latency_s=latency)
    accounting = Accounting()
    client = TeacherClient(fast_config(server, max_concurrency=3, timeout_s=5.0), accounting=accounting)
    tasks = [TeacherRequest(messages=user(f"task {i}"), stage="tasks", tag=i) for i in range(6)]
    solutions = [TeacherRequest(messages=user(f"solution {i}"), stage="solutions", tag=i) for i in range(6)]

    async def run() -> tuple[list[TeacherResponse], list[TeacherResponse]]:
        try:
            first, second = await asyncio.gather(client.run_many(tasks), client.run_many(solutions))
            return first, second
        finally:
            await client.aclose()

    started = time.monotonic()
    first, second = asyncio.run(run())
    elapsed = time.monotonic() - started

    assert [r.request.tag for r in first] == list(range(6)) and all(r.ok for r in first)
    assert [r.request.tag for r in second] == list(range(6)) and all(r.ok for r in second)
    assert len(server.generations()) == 12
    # one limit across both batches: 12 calls, 3 at a time, 100 ms each take at least 4 rounds (a limit per
    # batch would let 6 run at once and finish in 2)
    assert elapsed >= 4 * latency * 0.95, elapsed
    starts = sorted(r.at for r in server.records)
    overlapping = max(sum(1 for t in starts if s <= t < s + 0.8 * latency) for s in starts)
    assert overlapping <= 3, starts
    assert len(sessions) == 1, "both batches should share the loop's one HTTP session"
    assert sessions[0].closed
    assert accounting.usage(stage="tasks").calls == 6
    assert accounting.usage(stage="solutions").calls == 6


def test_a_loop_gets_a_fresh_session_after_aclose(
    server: ScriptedServer, sessions: list[aiohttp.ClientSession]
) -> None:
    client = TeacherClient(fast_config(server))

    async def run() -> list[bool]:
        oks = [r.ok for r in await client.run_many([TeacherRequest(messages=user("one"))])]
        await client.aclose()
        oks += [r.ok for r in await client.run_many([TeacherRequest(messages=user("two"))])]
        await client.aclose()
        return oks

    assert asyncio.run(run()) == [True, True]
    assert len(sessions) == 2 and all(s.closed for s in sessions)


def test_chat_and_complete_are_generate_on_a_request(server: ScriptedServer) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        name: str

    client = TeacherClient(fast_config(server))

    async def run() -> None:
        async with client:
            await client.chat(user("q"), response_format=Answer, stage="s")
            await client.complete("def f():", n=2)
            await client.generate(
                TeacherRequest(messages=user("q"), response_format=json_schema_format(Answer), stage="s")
            )

    asyncio.run(run())
    chat, complete, generate = server.records
    assert chat.path == generate.path == "/v1/chat/completions" and complete.path == "/v1/completions"
    assert chat.body == generate.body and chat.body is not None
    assert chat.body["response_format"] == json_schema_format(Answer)
    assert complete.body == {**(complete.body or {}), "prompt": "def f():", "n": 2}
