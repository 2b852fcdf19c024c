"""A local Ray cluster shared by the module's tests, and a teacher server whose answers depend only on the
request (so runs on different runners, in any order, get the same answers)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local cluster for a module's tests (the runner uses it rather than starting its own); its address.
    Shut down after the module: its processes would otherwise take CPU from every later test."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def answer(content: str) -> str:
    """A task, a task whose solution disagrees with its tests, or prose, chosen by the prompt's hash."""
    digest = int(hashlib.sha256(content.encode()).hexdigest(), 16)
    number, kind = digest % 1000, digest % 3
    if kind == 0:
        return json.dumps(
            {
                "problem": f"Write add_{number}(a, b) that returns the sum of a, b and {number}.",
                "entry_point": f"add_{number}",
                "solution": f"def add_{number}(a, b):\n    return a + b + {number}\n",
                "tests": [{"args": [i, 2 * i], "expected": 3 * i + number} for i in range(5)],
            }
        )
    if kind == 1:
        return json.dumps(
            {
                "problem": f"Write twice_{number}(x) that doubles x.",
                "entry_point": f"twice_{number}",
                "solution": f"def twice_{number}(x):\n    return x * 3\n",
                "tests": [{"args": [i], "expected": 2 * i} for i in range(1, 6)],
            }
        )
    return "Here is an idea: a function that counts things."


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.calls += 1  # type: ignore[attr-defined]
        time.sleep(self.server.delay_s)  # type: ignore[attr-defined]
        content = answer(json.dumps(body["messages"], sort_keys=True))
        reply = {
            "id": "c",
            "object": "chat.completion",
            "model": "scripted",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def teacher_server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.calls = 0  # type: ignore[attr-defined]
    httpd.delay_s = 0.0  # type: ignore[attr-defined]
    httpd.lock = threading.Lock()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
