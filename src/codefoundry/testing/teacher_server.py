"""A scripted OpenAI-compatible server on 127.0.0.1 that injects faults, for tests and the client bench.

It is a real HTTP/1.1 server (asyncio streams, keep-alive), so the client is exercised over real sockets:
429 with Retry-After, 5xx, answers slower than the client's timeout, dropped connections, garbled JSON,
truncated completions and refusals. Faults are scripted per prompt, so they are deterministic however the
client interleaves its calls: a prompt containing ``[[fault: 429:1, 500, ok]]`` gets a 429 (Retry-After: 1)
on its first attempt, a 500 on the second and an answer from the third on. Recorded answers (``replies``:
pairs of a marker and answer texts) answer the requests whose text contains the marker. Every request is recorded (with
its headers) so tests can count calls and check what reached the server.

Run ``python -m codefoundry.testing.teacher_server --latency 0.05`` to serve one in a process of its own; it prints
its base URL on the first line of stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from codefoundry.testing.answers import Replies, all_text, answer, count_tokens, request_text, task_answer

__all__ = ["RequestRecord", "ScriptedServer", "count_tokens", "load_replies", "request_text", "task_answer"]

_DIRECTIVE = re.compile(r"\[\[fault:\s*([^\]]*)\]\]")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class RequestRecord:
    """One HTTP request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    key: str
    attempt: int
    action: str
    at: float
    status: int = 0
    started: float = 0.0  # monotonic: when a slot took the request
    finished: float = 0.0  # monotonic: when the answer was written
    prompt_tokens: int = 0
    completion_tokens: int = 0
    choices: int = 0


@dataclass
class ServerState:
    latency_s: float = 0.0
    support_n: bool = True
    structured: bool = True
    model: str = "scripted-teacher"
    script: dict[str, list[str]] = field(default_factory=dict)
    records: list[RequestRecord] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ScriptedServer:
    """The server, run on its own event loop in a daemon thread; use as a context manager."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        support_n: bool = True,
        fast: bool = False,
        jitter: float = 0.0,
        structured: bool = True,
        script: dict[str, list[str]] | None = None,
        model: str = "scripted-teacher",
        port: int = 0,
        slots: int | None = None,
        tasks: bool = False,
        replies: Replies | None = None,
    ) -> None:
        self.state = ServerState(
            latency_s=latency_s, support_n=support_n, structured=structured, model=model, script=script or {}
        )
        self._port = port
        self.fast = fast
        # like a GPU server: at most ``slots`` requests are served at once, the rest wait in a queue
        self.slots = slots
        self._slots: asyncio.Semaphore | None = None
        # answer OSS-Instruct-shaped requests with real, verifiable tasks (``task_answer``)
        self.tasks = tasks
        # recorded answers: a request whose text contains a marker gets one of its answers (first marker wins)
        self.replies: Replies = [(marker, list(answers)) for marker, answers in replies or []]
        # latency drawn uniformly from latency * [1 - jitter, 1 + jitter] (same mean), reproducibly
        self.jitter = jitter
        self._rng = random.Random(0)
        self._fast_body = json.dumps(
            {
                "id": "cmpl-fast",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "```python\nx = 1\n```"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12},
            }
        ).encode()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    def _latency(self) -> float:
        base = self.state.latency_s
        return base * (1 + self._rng.uniform(-self.jitter, self.jitter)) if self.jitter else base

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def records(self) -> list[RequestRecord]:
        with self.state.lock:
            return list(self.state.records)

    def generations(self) -> list[RequestRecord]:
        """Requests answered with a 200 (the calls a paid API would bill)."""
        return [r for r in self.records if r.status == 200]

    def utilisation(self) -> dict[str, float]:
        """The server's own view of how busy it was: replies, busy span, peak concurrency, and the share of
        its capacity used (replies / (busy span x slots / latency)) when it has slots and a latency."""
        answered = [r for r in self.records if r.status == 200 and r.finished]
        if not answered:
            return {"replies": 0}
        span = max(r.finished for r in answered) - min(r.started for r in answered)
        events = sorted([(r.started, 1) for r in answered] + [(r.finished, -1) for r in answered])
        peak = level = 0
        for _at, step in events:
            level += step
            peak = max(peak, level)
        figures = {"replies": len(answered), "busy_span_s": round(span, 3), "peak_in_flight": peak}
        if self.slots and self.state.latency_s and span > 0:
            figures["capacity_used"] = round(len(answered) / (span * self.slots / self.state.latency_s), 4)
        first = min(r.started for r in answered)
        figures["timeline"] = [[round(r.started - first, 4), round(r.finished - first, 4)] for r in answered]
        return figures

    def start(self) -> ScriptedServer:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            if self.slots:
                self._slots = asyncio.Semaphore(self.slots)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", self._port, backlog=1024)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="scripted-teacher-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("scripted server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        if not loop.is_running():
            loop.close()
        self._loop = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------ protocol

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                arrived = time.monotonic()
                method, path, _ = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                keep = await self._respond(method, path, headers, raw, writer, arrived)
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        except asyncio.CancelledError:
            return
        finally:
            writer.close()

    @staticmethod
    def _write(
        writer: asyncio.StreamWriter, status: int, payload: bytes, extra: dict[str, str] | None = None
    ) -> None:
        head = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
            "Connection: keep-alive",
        ]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    def _next_action(self, body: dict[str, Any]) -> tuple[str, int, str]:
        text = request_text(body)
        key = hashlib.sha256(
            json.dumps([body.get("messages"), body.get("prompt"), body.get("seed")], sort_keys=True).encode()
        ).hexdigest()
        match = _DIRECTIVE.search(text)
        plan = [a.strip() for a in match.group(1).split(",")] if match else self.state.script.get(text, [])
        with self.state.lock:
            attempt = self.state.attempts.get(key, 0)
            self.state.attempts[key] = attempt + 1
        action = plan[attempt] if attempt < len(plan) else "ok"
        return key, attempt, action

    async def _respond(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
        writer: asyncio.StreamWriter,
        arrived: float,
    ) -> bool:
        """Answer one request; the scripted latency counts from its arrival, so parsing is not added."""
        state = self.state
        if self.fast and method == "POST":
            # the bench's server: no script, no record, a fixed answer, so that its own CPU per request is small
            # and the measured gap belongs to the client
            if state.latency_s:
                await asyncio.sleep(max(0.0, arrived + self._latency() - time.monotonic()))
            self._write(writer, 200, self._fast_body)
            return True
        if method == "GET" and path.rstrip("/").endswith("/models"):
            payload = {"object": "list", "data": [{"id": state.model, "object": "model"}]}
            self._write(writer, 200, json.dumps(payload).encode())
            await writer.drain()
            return True
        body = json.loads(raw or b"{}")
        key, attempt, action = self._next_action(body)
        record = RequestRecord(
            path=path, headers=headers, body=body, key=key, attempt=attempt, action=action, at=time.time()
        )
        with state.lock:
            state.records.append(record)
        try:
            if self._slots is not None:
                async with self._slots:
                    record.started = time.monotonic()
                    return await self._answer_request(record, path, body, key, attempt, action, writer, record.started)
            record.started = time.monotonic()
            return await self._answer_request(record, path, body, key, attempt, action, writer, arrived)
        finally:
            record.finished = time.monotonic()

    async def _answer_request(
        self,
        record: RequestRecord,
        path: str,
        body: dict[str, Any],
        key: str,
        attempt: int,
        action: str,
        writer: asyncio.StreamWriter,
        since: float,
    ) -> bool:
        """The scripted latency (from ``since``), then the scripted answer."""
        state = self.state
        if state.latency_s:
            await asyncio.sleep(max(0.0, since + self._latency() - time.monotonic()))
        name, _, arg = action.partition(":")
        if name == "drop":
            writer.transport.abort()
            return False
        if name == "slow":
            await asyncio.sleep(float(arg or 5))
        if name.isdigit():
            status = int(name)
            extra = {"Retry-After": arg} if arg else None
            record.status = status
            self._write(
                writer, status, json.dumps({"error": {"message": f"scripted {status}"}}).encode(), extra
            )
            await writer.drain()
            return True
        if name == "badjson":
            record.status = 200
            self._write(
                writer, 200, b'{"id": "x", "choices": [{"index": 0, "message": {"content": "unterminated'
            )
            await writer.drain()
            return True
        if body.get("response_format") is not None and not state.structured:
            record.status = 400
            self._write(writer, 400, b'{"error": {"message": "response_format is not supported"}}')
            await writer.drain()
            return True
        if not path.rstrip("/").endswith(("/chat/completions", "/completions")):
            record.status = 404
            self._write(writer, 404, b'{"error": {"message": "no such endpoint"}}')
            await writer.drain()
            return True
        chat = path.rstrip("/").endswith("/chat/completions")
        n = int(body.get("n") or 1) if state.support_n else 1
        choices = []
        completion_tokens = 0
        for index in range(n):
            # replies only when there are some: tests that stand in for ``answer`` keep its older signature
            extra = {"replies": self.replies} if self.replies else {}
            content, finish = answer(body, key, attempt, index, name, self.tasks, **extra)
            completion_tokens += count_tokens(content)
            if chat:
                choices.append(
                    {
                        "index": index,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish,
                    }
                )
            else:
                choices.append({"index": index, "text": content, "finish_reason": finish})
        prompt_tokens = count_tokens(all_text(body))
        payload = {
            "id": f"cmpl-{key[:12]}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": state.model,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        record.status = 200
        record.prompt_tokens = prompt_tokens
        record.completion_tokens = completion_tokens
        record.choices = n
        self._write(writer, 200, json.dumps(payload).encode())
        await writer.drain()
        return True


def load_replies(path: str) -> Replies:
    """Recorded answers from a JSON file: a list of ``[marker, [answer, ...]]`` pairs, or of objects with
    ``marker`` and ``answers``."""
    with open(path, encoding="utf-8") as handle:
        rows = json.load(handle)
    rows = rows.get("replies", rows) if isinstance(rows, dict) else rows
    return [(r["marker"], list(r["answers"])) if isinstance(r, dict) else (r[0], list(r[1])) for r in rows]


def main(argv: list[str] | None = None) -> None:
    """Serve until killed or until stdin closes (so a parent's death never leaves it behind)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--jitter", type=float, default=0.0, help="latency varies by +- this fraction")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-n", action="store_true", help="ignore n (answer one choice)")
    parser.add_argument("--fast", action="store_true", help="no faults or records: one fixed answer (bench)")
    parser.add_argument("--slots", type=int, default=None, help="requests served at once; the rest queue")
    parser.add_argument("--tasks", action="store_true", help="answer OSS-Instruct requests with real tasks")
    parser.add_argument(
        "--replies", default=None, help="a JSON file of [marker, [answer, ...]] pairs: recorded answers by marker"
    )
    parser.add_argument("--stats", default=None, help="write the server's utilisation figures here (JSON) at exit")
    args = parser.parse_args(argv)
    server = ScriptedServer(
        latency_s=args.latency,
        port=args.port,
        support_n=not args.no_n,
        fast=args.fast,
        jitter=args.jitter,
        slots=args.slots,
        tasks=args.tasks,
        replies=load_replies(args.replies) if args.replies else None,
    ).start()
    print(server.base_url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sys.stdin.read()
    if args.stats:
        with open(args.stats, "w", encoding="utf-8") as handle:
            json.dump(server.utilisation(), handle)
    server.stop()


if __name__ == "__main__":
    main()
