"""Nothing is paid for twice: a run SIGKILLed while calling a teacher, restarted, repeats no cached call.
Also: the API key reaches the server and nowhere else; accounting matches the server's usage fields."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from codefoundry.errors import UserError
from codefoundry.teacher.accounting import Accounting, usage_summary
from codefoundry.teacher.cache import TeacherCache
from codefoundry.teacher.client import TeacherClient
from codefoundry.teacher.config import Sampling, TeacherConfig
from codefoundry.teacher.types import TeacherRequest
from codefoundry.testing.teacher_server import ScriptedServer, count_tokens

from . import resume_worker
from .conftest import chat, fast_config, user

WORKER = Path(resume_worker.__file__)
KEY = "sk-test-1f6b0c5d9e8a7b6c5d4e3f2a1b0c9d8e"


def _prompt(record: object) -> str:
    return record.body["messages"][-1]["content"]  # type: ignore[attr-defined]


def _worker(server: ScriptedServer, run_dir: Path, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "CF_TEST_TEACHER_KEY": KEY}
    return subprocess.Popen(
        [sys.executable, str(WORKER), server.base_url, str(run_dir), str(count)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkilled_run_restarts_without_repeating_cached_calls(
    start_server: Callable[..., ScriptedServer], tmp_path: Path
) -> None:
    server = start_server(latency_s=0.04)
    count = 90
    proc = _worker(server, tmp_path, count)
    deadline = time.monotonic() + 60
    while len(server.generations()) < 25:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "worker made too few calls"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)  # a real kill, mid-way through the batch
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.1)  # let answers already in flight land at the server
    first_run = len(server.records)
    assert first_run < count, "the worker finished before it was killed; the test proves nothing"

    requests = resume_worker.requests(count)
    probe = TeacherClient(resume_worker.config(server.base_url).model_copy(update={"api_key_env": None}))
    with TeacherCache(tmp_path / "cache" / "teacher.sqlite") as cache:
        cached = {
            _prompt_of(r) for r in requests if cache.present(probe.cache_keys(r)) == set(probe.cache_keys(r))
        }
        partially = [r for r in requests if 0 < len(cache.present(probe.cache_keys(r))) < r.n]
    assert 0 < len(cached) < count and not partially

    proc = _worker(server, tmp_path, count)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    samples = sum(r.n for r in requests)
    cached_samples = sum(r.n for r in requests if _prompt_of(r) in cached)
    assert f"done {count} failed 0 hits {cached_samples} misses {samples - cached_samples}" in out

    second_run = Counter(_prompt(r) for r in server.records[first_run:])
    assert not set(second_run) & cached, "a cached call was paid for again"
    assert set(second_run) == {_prompt_of(r) for r in requests} - cached
    assert all(times == 1 for times in second_run.values())

    summary = usage_summary(tmp_path)
    assert summary["total"]["cache_hits"] == cached_samples
    assert summary["total"]["failures"] == {}


def _prompt_of(request: TeacherRequest) -> str:
    assert request.messages is not None
    return request.messages[-1]["content"]


def test_second_identical_batch_is_served_from_cache(server: ScriptedServer, tmp_path: Path) -> None:
    requests = [TeacherRequest(messages=user(f"q{i}"), n=3) for i in range(5)]
    with TeacherCache(tmp_path / "t.sqlite") as cache:
        client = TeacherClient(fast_config(server), cache)
        first = client.generate_many(requests)
        calls = len(server.records)
        second = client.generate_many(requests)
        assert len(server.records) == calls == 5
        assert [c.text for r in first for c in r.completions] == [
            c.text for r in second for c in r.completions
        ]
        assert all(c.cached for r in second for c in r.completions)
        assert cache.hits == 15 and cache.misses == 15
        # more samples of the same request: only the new sample indices are generated
        [more] = client.generate_many([requests[0].model_copy(update={"n": 5})])
        assert [c.cached for c in more.completions] == [True, True, True, False, False]
        assert server.records[-1].body["n"] == 2
        # different sampling is a different call
        client.generate_many([requests[0].model_copy(update={"sampling": Sampling(temperature=0.0)})])
        assert len(server.records) == 7


def test_api_key_goes_to_the_server_and_nowhere_else(
    server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CF_TEST_TEACHER_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    config = fast_config(server, api_key_env="CF_TEST_TEACHER_KEY")
    cache = TeacherCache(tmp_path / "cache" / "teacher.sqlite")
    accounting = Accounting.for_run(tmp_path)
    client = TeacherClient(config, cache, accounting)
    responses = client.generate_many(
        [TeacherRequest(messages=user(f"q{i} [[fault: 500, ok]]")) for i in range(3)]
        + [TeacherRequest(messages=user("bad [[fault: 400]]"))]
    )
    assert [r.ok for r in responses] == [True, True, True, False]
    cache.close()
    assert {r.headers.get("authorization") for r in server.records} == {f"Bearer {KEY}"}
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "teacher_usage.json" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in caplog.text
    assert KEY not in config.model_dump_json()
    assert KEY not in repr(client.__dict__.get("config"))


def test_missing_key_is_a_clear_error(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CF_TEST_TEACHER_KEY", raising=False)
    with pytest.raises(UserError, match="CF_TEST_TEACHER_KEY"):
        TeacherClient(fast_config(server, api_key_env="CF_TEST_TEACHER_KEY"))


def test_config_refuses_a_key_in_place_of_a_variable_name() -> None:
    with pytest.raises(ValueError, match="NAME of an environment variable"):
        TeacherConfig(base_url="http://127.0.0.1:1/v1", model="m", api_key_env=KEY)
    with pytest.raises(ValueError, match="base_url is required"):
        TeacherConfig(model="m")
    assert TeacherConfig(model="local:gemma3-270m").is_local


def test_accounting_matches_server_usage_per_stage(server: ScriptedServer, tmp_path: Path) -> None:
    config = fast_config(server, price_per_1k_input=0.5, price_per_1k_output=2.0, model="priced")
    accounting = Accounting.for_run(tmp_path)
    client = TeacherClient(config, TeacherCache(tmp_path / "t.sqlite"), accounting, name="strong")
    requests = [
        TeacherRequest(messages=user(f"{stage} question number {i} " + "word " * i), n=1 + i % 2, stage=stage)
        for stage in ("tasks", "solutions")
        for i in range(6)
    ] + [TeacherRequest(prompt="tests: def f(x):", stage="tests")]
    client.generate_many(requests)
    client.generate_many(requests[:3])  # cache hits cost nothing
    for stage in ("tasks", "solutions", "tests"):
        served = [r for r in server.generations() if stage in (r.body.get("prompt") or _prompt(r))]
        usage = accounting.usage(stage=stage)
        assert usage.calls == len(served)
        assert usage.prompt_tokens == sum(r.prompt_tokens for r in served) > 0
        assert usage.completion_tokens == sum(r.completion_tokens for r in served) > 0
        expected_cost = (usage.prompt_tokens * 0.5 + usage.completion_tokens * 2.0) / 1000
        assert usage.cost_usd == pytest.approx(expected_cost)
        assert usage.samples == sum(r.choices for r in served)
    assert accounting.usage(stage="tasks").cache_hits == 1 + 2 + 1
    # the server's own token counting, as a cross-check of the fake server itself
    first = server.generations()[0]
    assert first.prompt_tokens == count_tokens(_prompt(first))

    summary = usage_summary(tmp_path)
    assert summary["teachers"]["strong"]["model"] == "priced"
    assert set(summary["teachers"]["strong"]["stages"]) == {"tasks", "solutions", "tests"}
    assert summary["total"]["calls"] == len(server.generations())
    assert summary["total"]["cost_usd"] == pytest.approx(accounting.usage().cost_usd)
    # a resumed run adds to what was recorded
    again = Accounting.for_run(tmp_path)
    chat(TeacherClient(config, None, again, name="strong"), user("one more"), stage="tasks")
    again.flush()
    assert usage_summary(tmp_path)["total"]["calls"] == summary["total"]["calls"] + 1


def test_usage_summary_of_a_run_without_teacher(tmp_path: Path) -> None:
    assert usage_summary(tmp_path) == {}
