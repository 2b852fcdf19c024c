"""What the scripted teacher server answers: text, JSON shaped by a schema, real verifiable tasks, or
recorded answers picked by a marker in the request.

Kept apart from the HTTP server so the answers can be read (and reused by benches) on their own.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def request_text(body: dict[str, Any]) -> str:
    """The text a fault script is keyed by: the last message's content, or the prompt."""
    if body.get("messages"):
        return str(body["messages"][-1].get("content") or "")
    return str(body.get("prompt") or "")


def all_text(body: dict[str, Any]) -> str:
    if body.get("messages"):
        return "\n".join(str(m.get("content") or "") for m in body["messages"])
    return str(body.get("prompt") or "")


def count_tokens(text: str) -> int:
    """The server's (and the tests') token count: whitespace-separated words."""
    return len(text.split())


def _fake_from_schema(schema: dict[str, Any], seed: str) -> Any:
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _fake_from_schema(sub, seed) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_fake_from_schema(schema.get("items", {}), seed)]
    if kind == "integer":
        return int(seed[:4], 16)
    if kind == "number":
        return int(seed[:4], 16) / 7
    if kind == "boolean":
        return True
    return f"value-{seed[:8]}"


def task_answer(key: str) -> str:
    """A real, verifiable function task in the OSS-Instruct JSON shape, derived from the request's hash.

    Nine in ten are right; one in ten has a solution that disagrees with its own tests (so verification has
    something to drop). The same request always gets the same task.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()
    name = f"scaled_sum_{digest[:8]}"
    factor = int(digest[8:10], 16) % 9 + 2
    wrong = int(digest[10:12], 16) < 26
    tests = [{"args": [i, 3 * i - 4], "expected": i * factor + 3 * i - 4} for i in range(-2, 6)]
    body = f"a * {factor} + b + 1" if wrong else f"a * {factor} + b"
    return json.dumps(
        {
            "problem": f"Write {name}(a, b) that returns a multiplied by {factor}, plus b, for integers a and b.",
            "entry_point": name,
            "solution": f"def {name}(a, b):\n    return {body}\n",
            "tests": tests,
        }
    )


def _asks_for_task(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema") or {}
    return {"solution", "tests", "entry_point"} <= set(schema.get("properties", {}))


Replies = list[tuple[str, list[str]]]


def recorded_reply(body: dict[str, Any], key: str, index: int, replies: Replies) -> str | None:
    """A recorded answer for the request, or None: the first ``(marker, answers)`` pair whose marker occurs in
    the request's text (all its messages) gives one of its answers, picked by a hash of the request's key
    and the choice index (the same request always gets the same answer)."""
    text = all_text(body)
    for marker, answers in replies:
        if marker in text and answers:
            digest = hashlib.sha256(f"{key}|{index}".encode()).hexdigest()
            return answers[int(digest[:8], 16) % len(answers)]
    return None


def answer(
    body: dict[str, Any],
    key: str,
    attempt: int,
    index: int,
    action: str,
    tasks: bool = False,
    replies: Replies | None = None,
) -> tuple[str, str]:
    """(content, finish_reason) of one choice; a repeated call gets a different sample, like sampling would."""
    seed = hashlib.sha256(f"{key}|{attempt}|{index}|{body.get('seed')}".encode()).hexdigest()
    if replies and action == "ok":
        recorded = recorded_reply(body, key, index, replies)
        if recorded is not None:
            return recorded, "stop"
    if tasks and action == "ok" and _asks_for_task(body):
        return task_answer(f"{key}|{index}"), "stop"
    if action == "refusal":
        return "I'm sorry, but I can't help with that request.", "stop"
    if action == "empty":
        return "", "stop"
    fmt = body.get("response_format")
    if fmt is not None:
        schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema") or {}
        return json.dumps(_fake_from_schema(schema, seed)), "stop"
    _, _, schema_text = request_text(body).partition("matching this JSON schema, and nothing else:\n")
    if schema_text:  # a client that fell back to asking for JSON in words gets it fenced, in prose
        value = _fake_from_schema(json.loads(schema_text), seed)
        return f"Sure:\n```json\n{json.dumps(value, indent=1)}\n```", "stop"
    code = f"```python\ndef answer():\n    return {seed[:12]!r}\n```"
    if action == "truncate":
        return code[: len(code) // 2], "length"
    return f"Here is a solution.\n\n{code}\n", "stop"
