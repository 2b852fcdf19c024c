"""HTTP to one teacher: per event loop, one aiohttp session and one semaphore; one attempt at a time.

asyncio objects belong to the loop that made them, so each loop that uses a teacher gets its own session,
semaphore and table of calls in flight. A run driven from one long-lived loop therefore shares exactly one
session and one ``max_concurrency`` limit across all its stages and batches; ``generate_many`` called from
several threads gets one per thread (the limit then holds per loop).

aiohttp, not httpx: measured here, httpx spends ~1.05 ms of CPU per request (and its pool scans every
connection per queued request: 10 ms per request at C=64), aiohttp ~0.26 ms with an O(1) pool. With a
fixed-latency server the client's CPU per request is what separates achieved from theoretical rate.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codefoundry.teacher.config import TeacherConfig
from codefoundry.teacher.retry import Retryable
from codefoundry.teacher.types import Completion

if TYPE_CHECKING:
    import aiohttp


@dataclass(frozen=True)
class Reply:
    """What one HTTP attempt got back (any status); ``latency_s`` is the time the slot was held for it."""

    status: int
    body: bytes
    retry_after: str | None
    latency_s: float
    sent_at: float = 0.0  # wall clock when the slot was taken and the request went out


class LoopState:
    """Objects bound to one event loop: the concurrency semaphore, the HTTP session, the calls in flight."""

    def __init__(self, config: TeacherConfig, api_key: str | None) -> None:
        import aiohttp

        self.loop = asyncio.get_running_loop()
        self.semaphore = asyncio.Semaphore(config.max_concurrency)
        # identical requests in flight on this loop, by signature: a second one joins the first's future
        self.inflight: dict[str, asyncio.Future[list[Completion]]] = {}
        self._next_start = 0.0
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        connector = aiohttp.TCPConnector(
            limit=config.max_concurrency, limit_per_host=config.max_concurrency, ttl_dns_cache=300
        )
        self.session: aiohttp.ClientSession = aiohttp.ClientSession(
            base_url=(config.base_url or "") + "/",
            headers=headers,
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=config.timeout_s),
            trust_env=False,  # True costs two thread-pool hops per request (proxy and netrc lookups)
        )

    async def pace(self, interval: float) -> None:
        """Wait for this request's start time: starts are spaced ``interval`` apart (requests_per_minute)."""
        now = self.loop.time()
        start = max(now, self._next_start)
        self._next_start = start + interval
        if start > now:
            await asyncio.sleep(start - now)

    async def aclose(self) -> None:
        await self.session.close()


class Transport:
    """The HTTP side of one teacher's client; safe to share across threads and their event loops."""

    def __init__(self, config: TeacherConfig, api_key: str | None) -> None:
        self.config = config
        self._api_key = api_key
        self._states: dict[asyncio.AbstractEventLoop, LoopState] = {}
        self._states_lock = threading.Lock()

    def state(self) -> LoopState:
        """The running loop's state, made on first use (and again after ``aclose``)."""
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            with self._states_lock:
                for old in [old for old in self._states if old.is_closed()]:
                    del self._states[old]  # a loop closed without aclose(): drop its (dead) pool
                state = self._states[loop] = LoopState(self.config, self._api_key)
        return state

    async def post(self, path: str, body: dict[str, Any], admit: Callable[[], None] | None = None) -> Reply:
        """One attempt: wait for a start time and a slot, POST, read the whole answer, free the slot.

        The semaphore is held only for the HTTP exchange (never during a retry's backoff sleep). ``admit``
        runs with the slot held, before the request goes out, and may raise to stop it (the budget check:
        every call that held a slot before this one has been accounted). Timeouts and connection errors
        raise Retryable; a status other than 200 is returned for the caller to judge.
        """
        import aiohttp

        state = self.state()
        if self.config.requests_per_minute is not None:
            await state.pace(60.0 / self.config.requests_per_minute)
        async with state.semaphore:
            if admit is not None:
                admit()
            started = time.monotonic()
            sent_at = time.time()
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    async with state.session.post(path, data=json.dumps(body)) as response:
                        status = response.status
                        raw = await response.read()
                        retry_after = response.headers.get("Retry-After")
            except TimeoutError as exc:
                raise Retryable("timeout", f"no answer within {self.config.timeout_s}s") from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise Retryable("connection", f"{type(exc).__name__}: {exc}") from exc
            return Reply(status, raw, retry_after, time.monotonic() - started, sent_at)

    async def aclose(self) -> None:
        """Close the running loop's session (a new one is made on next use on this loop)."""
        with self._states_lock:
            state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.aclose()
