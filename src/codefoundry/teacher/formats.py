"""The OpenAI-compatible wire format: the body of a request and the choices read back from an answer.

Kept apart from the client so what goes over the wire (structured-output dialects, JSON asked for in words,
chat flattened into a prompt for base models, a seed per sample) can be read and changed in one place.
Imports nothing else of the teacher package, so the request types can use it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from codefoundry.teacher.config import Sampling

Message = dict[str, Any]


def json_schema_format(schema: dict[str, Any] | type[BaseModel], name: str = "answer") -> dict[str, Any]:
    """An OpenAI ``response_format`` asking for JSON that matches ``schema`` (a dict or a pydantic model)."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        name = schema.__name__
        schema = schema.model_json_schema()
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def schema_of(response_format: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema inside a ``response_format`` of either dialect, if it has one."""
    if response_format.get("type") == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema")
    return response_format.get("schema")


def json_instruction(response_format: dict[str, Any]) -> str:
    """The words that ask for JSON when ``response_format`` cannot be sent (the fallback parser reads it)."""
    schema = schema_of(response_format)
    if schema is None:
        return "Answer with a single JSON object and nothing else."
    return "Answer with a single JSON object matching this JSON schema, and nothing else:\n" + json.dumps(
        schema
    )


def messages_to_prompt(messages: list[Message]) -> str:
    """Flatten chat messages for a base model on the completion endpoint (no chat template there)."""
    parts = [str(m.get("content") or "") for m in messages]
    return "\n\n".join(p for p in parts if p) + "\n\n"


def request_body(
    *,
    model: str,
    extra_body: dict[str, Any],
    endpoint: str,
    messages: list[Message] | None,
    prompt: str | None,
    response_format: dict[str, Any] | None,
    structured_output: str,
    sampling: Sampling,
    batch: list[int],
) -> tuple[str, dict[str, Any]]:
    """The path and JSON body of one call asking for the samples ``batch`` (their indices).

    ``structured_output`` is how ``response_format`` may be sent right now: ``json_schema``, ``json_object``
    (llama.cpp's dialect) or ``none`` (the JSON is then asked for in words).
    """
    params = sampling.model_dump(exclude_none=True)
    if len(batch) == 1 and batch[0] > 0 and sampling.seed is not None:
        # one call per sample with a fixed seed would repeat sample 0: derive a seed per sample index
        params["seed"] = sampling.seed + batch[0]
    body: dict[str, Any] = {**extra_body, "model": model, **params}
    if len(batch) > 1:
        body["n"] = len(batch)
    fmt = response_format
    if fmt is not None and endpoint == "completion":
        # no portable structured output on /completions: ask in words, the fallback parser does the rest
        if prompt is not None:
            prompt = f"{prompt}\n{json_instruction(fmt)}\n"
        else:
            messages = [*(messages or []), {"role": "user", "content": json_instruction(fmt)}]
    elif fmt is not None:
        if structured_output != "none":
            body["response_format"] = (
                {"type": "json_object", "schema": schema_of(fmt)}
                if structured_output == "json_object" and fmt.get("type") == "json_schema"
                else fmt
            )
        elif messages is not None:
            messages = [*messages, {"role": "user", "content": json_instruction(fmt)}]
    if endpoint == "chat":
        body["messages"] = messages
        return "chat/completions", body
    body["prompt"] = prompt if prompt is not None else messages_to_prompt(messages or [])
    return "completions", body


def read_choices(raw: bytes, endpoint: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The choices of a 200 answer as cache payloads, in index order, and its ``usage`` object.

    Raises ValueError, KeyError, TypeError or AttributeError for a garbled body (the caller retries it).
    """
    data = json.loads(raw)
    choices = data["choices"]
    if not isinstance(choices, list) or not choices:
        raise ValueError("no choices")
    model = data.get("model", "")
    payloads = [
        _payload_of(choice, endpoint, model) for choice in sorted(choices, key=lambda c: c.get("index", 0))
    ]
    return payloads, data.get("usage") or {}


def _payload_of(choice: dict[str, Any], endpoint: str, model: str) -> dict[str, Any]:
    if endpoint == "chat":
        message = choice["message"]
        text = message.get("content") or ""
        refusal = message.get("refusal")
    else:
        text = choice["text"]
        refusal = None
    if not isinstance(text, str):
        raise TypeError("choice text is not a string")
    return {"text": text, "finish_reason": choice.get("finish_reason"), "refusal": refusal, "model": model}
