"""The client against a real HTTP server that misbehaves: no request is lost, every failure is a retry or a
recorded reason, retries are counted right, Retry-After is honoured."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections import Counter
from collections.abc import Callable

import pytest

from codefoundry.teacher.accounting import Accounting
from codefoundry.teacher.client import TeacherClient
from codefoundry.teacher.formats import json_schema_format
from codefoundry.teacher.parse import extract_code, extract_json
from codefoundry.teacher.retry import parse_retry_after
from codefoundry.teacher.types import TeacherFailure, TeacherRequest
from codefoundry.testing.teacher_server import ScriptedServer

from .conftest import chat, fast_config, user

# fault plan -> (final failure reason or None, retries the client should make, attempts the server should see)
PLANS: dict[str, tuple[str | None, int, int]] = {
    "ok": (None, 0, 1),
    "429:0.1, ok": (None, 1, 2),
    "500, 503, ok": (None, 2, 3),
    "502, 500, 500, 500": ("http_500", 3, 4),  # max_retries=3: four attempts, then given up
    "drop, ok": (None, 1, 2),
    "badjson, ok": (None, 1, 2),
    "slow:1.5, ok": (None, 1, 2),
    "drop, drop, drop, drop": ("connection", 3, 4),
    "400": ("http_400", 0, 1),  # not retryable: one attempt
    "404": ("http_404", 0, 1),
    "truncate": (None, 0, 1),  # a successful call; the parser drops it
}


def test_every_request_ends_as_success_or_recorded_failure(server: ScriptedServer) -> None:
    accounting = Accounting()
    client = TeacherClient(fast_config(server), accounting=accounting)
    requests = []
    for copy in range(3):
        for plan in PLANS:
            requests.append(
                TeacherRequest(messages=user(f"task {copy} [[fault: {plan}]]"), stage="s", tag=plan)
            )
    done: list[str] = []
    responses = client.generate_many(requests, on_done=lambda r: done.append(r.request.tag))

    assert len(responses) == len(requests) == len(done)
    assert [r.request.tag for r in responses] == [r.tag for r in requests]  # request order kept
    expected_failures: Counter[str] = Counter()
    for response in responses:
        reason, _, _ = PLANS[response.request.tag]
        assert response.failure == reason, (response.request.tag, response.detail)
        if reason is None:
            assert len(response.completions) == 1 and response.completions[0].text
        else:
            expected_failures[reason] += 1
            assert response.completions == []
            assert response.detail
    attempts = Counter(r.body["messages"][-1]["content"] for r in server.records)
    for request in requests:
        assert attempts[request.messages[-1]["content"]] == PLANS[request.tag][2], request.tag

    usage = accounting.usage()
    assert usage.retries == 3 * sum(retries for _, retries, _ in PLANS.values())
    assert usage.failures == dict(expected_failures)
    assert usage.calls == len(server.generations()) - 3  # badjson answers are 200s the client rejects
    assert usage.retry_reasons["rate_limited"] == 3
    assert usage.retry_reasons["timeout"] == 3
    assert usage.retry_reasons["bad_response"] == 3


def test_truncated_completion_is_kept_and_then_dropped_by_the_parser(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server))
    [completion] = chat(client, user("[[fault: truncate]] write f"))
    assert completion.finish_reason == "length"
    parsed = extract_code(completion)
    assert parsed.reason == "truncated"


def test_retry_after_is_honoured(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server, backoff_base_s=0.001, backoff_max_s=0.002))
    chat(client, user("[[fault: 429:1, ok]]"))
    first, second = server.records
    waited = second.at - first.at
    assert 1.0 <= waited < 1.8, waited


def test_retry_after_is_capped(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server, retry_after_max_s=0.2))
    started = time.monotonic()
    chat(client, user("[[fault: 503:3600, ok]]"))
    assert time.monotonic() - started < 1.0


def test_retry_after_parses_seconds_and_dates() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (parse_retry_after(later) or 0) <= 31


def test_timeout_is_per_attempt_and_bounded(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server, timeout_s=0.2, max_retries=1))
    started = time.monotonic()
    with pytest.raises(TeacherFailure) as info:
        chat(client, user("[[fault: slow:3, slow:3]]"))
    assert info.value.reason == "timeout"
    assert time.monotonic() - started < 1.0
    assert len(server.records) == 2


def test_concurrency_limit_is_respected(start_server: Callable[..., ScriptedServer]) -> None:
    server = start_server(latency_s=0.05)
    client = TeacherClient(fast_config(server, max_concurrency=3))
    requests = [TeacherRequest(messages=user(f"q{i}")) for i in range(12)]
    started = time.monotonic()
    responses = client.generate_many(requests)
    elapsed = time.monotonic() - started
    assert all(r.ok for r in responses)
    # 12 requests, 3 at a time, 50 ms each: at least 4 rounds; never more than 3 overlapping at the server
    assert elapsed >= 0.2
    starts = sorted(r.at for r in server.records)
    overlapping = max(sum(1 for t in starts if s <= t < s + 0.045) for s in starts)
    assert overlapping <= 3


def test_n_samples_in_one_call_when_supported(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server))
    completions = chat(client, user("four please"), n=4)
    assert [c.index for c in completions] == [0, 1, 2, 3]
    assert len({c.text for c in completions}) == 4
    assert len(server.records) == 1 and server.records[0].body["n"] == 4


def test_n_falls_back_to_one_call_per_sample(start_server: Callable[..., ScriptedServer]) -> None:
    server = start_server(support_n=False)
    client = TeacherClient(fast_config(server, seed=7))
    completions = chat(client, user("four please"), n=4)
    assert len(completions) == 4 and len({c.text for c in completions}) == 4
    # first call asked n=4 and got one choice; the other three came one call each, with distinct seeds
    assert [r.body.get("n") for r in server.records] == [4, None, None, None]
    assert [r.body["seed"] for r in server.records] == [7, 8, 9, 10]
    # the client remembers: the next request goes one call per sample straight away
    chat(client, user("two more"), n=2)
    assert [r.body.get("n") for r in server.records[4:]] == [None, None]


def test_structured_output(server: ScriptedServer) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        name: str
        count: int

    client = TeacherClient(fast_config(server))
    [completion] = chat(client, user("give json"), response_format=Answer)
    assert server.records[0].body["response_format"] == json_schema_format(Answer)
    parsed = extract_json(completion, Answer)
    assert parsed.ok and isinstance(parsed.value, Answer)


def test_structured_output_falls_back_to_prompting_when_rejected(
    start_server: Callable[..., ScriptedServer],
) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        name: str
        count: int

    server = start_server(structured=False)
    accounting = Accounting()
    client = TeacherClient(fast_config(server), accounting=accounting)
    [completion] = chat(client, user("give json"), response_format=Answer)
    first, second = server.records
    assert first.status == 400 and "response_format" in first.body
    assert "response_format" not in second.body
    assert "JSON schema" in second.body["messages"][-1]["content"]
    assert "```json" in completion.text  # prose + fence: the fallback parser's job
    parsed = extract_json(completion, Answer)
    assert parsed.ok and isinstance(parsed.value, Answer)
    assert accounting.usage().retry_reasons == {"response_format_rejected": 1}
    # remembered: later calls do not try response_format again
    chat(client, user("again"), response_format=Answer)
    assert "response_format" not in server.records[-1].body


def test_completion_endpoint(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server))
    [response] = client.generate_many([TeacherRequest(prompt="def add(a, b):")])
    [completion] = response.completions
    assert server.records[0].path == "/v1/completions"
    assert server.records[0].body["prompt"] == "def add(a, b):"
    assert extract_code(completion).ok


def test_generate_many_inside_a_running_loop(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server))

    async def caller() -> int:
        return len(client.generate_many([TeacherRequest(messages=user("x"))]))

    assert asyncio.run(caller()) == 1


def test_generate_many_from_several_threads(start_server: Callable[..., ScriptedServer]) -> None:
    import threading

    server = start_server(latency_s=0.02)
    client = TeacherClient(fast_config(server, max_concurrency=2))
    results: dict[int, list[bool]] = {}

    def batch(k: int) -> None:
        responses = client.generate_many([TeacherRequest(messages=user(f"t{k} q{i}")) for i in range(6)])
        results[k] = [r.ok for r in responses]

    threads = [threading.Thread(target=batch, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {k: [True] * 6 for k in range(3)}
    assert len(server.generations()) == 18


def test_an_unrelated_400_does_not_switch_structured_output_off(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server))
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    with pytest.raises(TeacherFailure) as info:
        chat(client, user("too long [[fault: 400]]"), response_format=json_schema_format(schema))
    assert info.value.reason == "http_400"
    chat(client, user("fine"), response_format=json_schema_format(schema))
    assert "response_format" in server.records[-1].body


def test_budget_stops_calls_and_records_why(server: ScriptedServer) -> None:
    accounting = Accounting()
    # every answer here costs well over $0.001: after the first call the budget is spent
    client = TeacherClient(
        fast_config(server, price_per_1k_output=100.0, budget_usd=0.001, max_concurrency=1),
        accounting=accounting,
    )
    responses = client.generate_many([TeacherRequest(messages=user(f"q{i}")) for i in range(4)])
    assert [r.failure for r in responses] == [
        None,
        "budget_exhausted",
        "budget_exhausted",
        "budget_exhausted",
    ]
    assert len(server.records) == 1
    assert accounting.usage().failures == {"budget_exhausted": 3}


def test_requests_per_minute_spaces_the_starts(server: ScriptedServer) -> None:
    client = TeacherClient(fast_config(server, requests_per_minute=600, max_concurrency=8))  # one per 100 ms
    started = time.monotonic()
    responses = client.generate_many([TeacherRequest(messages=user(f"q{i}")) for i in range(5)])
    assert all(r.ok for r in responses)
    starts = sorted(r.at for r in server.records)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.08, gaps
    assert time.monotonic() - started >= 0.4


def test_identical_requests_in_flight_are_paid_once(start_server: Callable[..., ScriptedServer]) -> None:
    server = start_server(latency_s=0.05)
    accounting = Accounting()
    client = TeacherClient(fast_config(server, max_concurrency=8), accounting=accounting)
    same = [TeacherRequest(messages=user("the same question"), n=2, tag=i) for i in range(5)]
    failing = [TeacherRequest(messages=user("bad [[fault: 400]]"), tag=i) for i in range(3)]
    responses = client.generate_many(same + failing)
    assert len(server.records) == 2  # one call for the five, one for the three
    texts = {tuple(c.text for c in r.completions) for r in responses[:5]}
    assert len(texts) == 1 and all(r.ok for r in responses[:5])
    assert [r.failure for r in responses[5:]] == ["http_400"] * 3
    assert accounting.usage().cache_hits == 4 * 2
    assert accounting.usage().failures == {"http_400": 3}
