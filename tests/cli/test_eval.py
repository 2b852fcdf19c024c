"""``codefoundry eval`` end to end against the scripted server: HumanEval problems and a run's holdout tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codefoundry.cli import app
from codefoundry.eval import harness
from codefoundry.eval.humaneval import load_problems
from codefoundry.records import Problem, Provenance, Split, Task, TestCase
from codefoundry.sandbox import Sandbox
from codefoundry.testing import teacher_server
from codefoundry.testing.answers import request_text
from codefoundry.testing.teacher_server import ScriptedServer

WRONG = "```python\n{prompt}    return None\n```"


@pytest.fixture
def replies(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """Answers by a name in the request's text: sample ``i`` of a request gets ``replies[name][i]``."""
    table: dict[str, list[str]] = {}
    original = teacher_server.answer

    def answer(body: dict[str, Any], key: str, attempt: int, index: int, action: str, tasks: bool = False):
        text = request_text(body)
        for name, answers in table.items():
            if f"def {name}(" in text:
                return answers[index % len(answers)], "stop"
        return original(body, key, attempt, index, action, tasks)

    monkeypatch.setattr(teacher_server, "answer", answer)
    yield table


def test_humaneval_pass_at_k_and_cache(
    tmp_path: Path, start_server: Callable[..., ScriptedServer], replies: dict[str, list[str]]
) -> None:
    problems = list(load_problems().values())[:3]
    for p in problems:
        right = f"Here you go:\n```python\n{p.prompt}{p.extra['canonical_solution']}```\n"
        # the first problem: sample 0 right, sample 1 wrong; the others: both right, both wrong
        if p.task_id == "HumanEval/0":
            replies[p.entry_point] = [right, WRONG.format(prompt=p.prompt)]
        elif p.task_id == "HumanEval/1":
            replies[p.entry_point] = [right]
        else:
            replies[p.entry_point] = ["no code at all"]
    server = start_server()
    out = tmp_path / "out"
    args = ["eval", "--teacher", server.base_url, "--model", "scripted", "--limit", "3", "-k", "1,2"]
    args += ["--out", str(out), "--workers", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "first 3 of 164" in result.output and "pass@k" in result.output
    report = json.loads((out / "eval.json").read_text())
    assert report["prompt_style"] == "chat" and report["n"] == 2 and report["temperature"] == 0.8
    assert report["per_task"] == {
        "HumanEval/0": {"n": 2, "c": 1},
        "HumanEval/1": {"n": 2, "c": 2},
        "HumanEval/2": {"n": 2, "c": 0},
    }
    assert report["pass_at_k"]["1"] == pytest.approx((0.5 + 1 + 0) / 3, abs=1e-6)
    assert report["pass_at_k"]["2"] == pytest.approx(2 / 3, abs=1e-6)
    assert report["unparsable"] == 2 and report["limit"] == 3
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["passed"]) for r in rows[:2]] == [("HumanEval/0", True), ("HumanEval/0", False)]
    assert (
        rows[0]["completion"].startswith("from typing import List")
        and "def has_close_elements" in rows[0]["completion"]
    )
    assert rows[4]["result"] == "failed: no program in the answer"
    calls = len(server.generations())
    assert calls == 3 and all(r.body and r.body["n"] == 2 for r in server.generations())

    # again: every sample comes from the cache, not a single request reaches the server
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "6 cached, 0 to draw" in again.output
    assert len(server.generations()) == calls
    assert json.loads((out / "eval.json").read_text())["pass_at_k"] == report["pass_at_k"]


def test_greedy_by_default_for_one_sample(
    tmp_path: Path, start_server: Callable[..., ScriptedServer], replies: dict[str, list[str]]
) -> None:
    server = start_server()
    out = tmp_path / "out"
    args = ["eval", "--teacher", server.base_url, "--model", "m", "--limit", "1", "--out", str(out)]
    args += ["--prompt-style", "completion", "--workers", "1"]
    replies["has_close_elements"] = ["    return False\n"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (body,) = [r.body for r in server.generations()]
    assert body is not None and body["temperature"] == 0.0 and body.get("n", 1) == 1
    assert body["prompt"] == load_problems()["HumanEval/0"].prompt  # the prompt continued as code
    assert json.loads((out / "eval.json").read_text())["per_task"] == {"HumanEval/0": {"n": 1, "c": 0}}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-k", "1,10", "-n", "5"], "pass@10 needs n >= 10"),
        (["-k", "one"], "comma-separated"),
        (["--benchmark", "/nonexistent/run"], "not 'humaneval' and not a run directory"),
        (["--prompt-style", "chat_prefill"], "needs the model's chat_template"),
    ],
)
def test_mistakes_are_one_line(tmp_path: Path, extra: list[str], message: str) -> None:
    args = ["eval", "--teacher", "http://127.0.0.1:9/v1", "--model", "m", "--out", str(tmp_path), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and message in result.output, result.output
    result = CliRunner().invoke(app, ["eval", "--teacher", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 2 and "needs --model" in result.output


def _problem(name: str, factor: int) -> Problem:
    task = Task(
        prompt=f'def {name}(x):\n    """Return x times {factor}."""\n',
        entry_point=name,
        provenance=Provenance(source="t"),
    )
    tests = [
        # a visible test the right answer fails: judging must use the holdout tests only
        TestCase(task_id=task.id, args=[1], expected=-1, split=Split.VISIBLE),
        TestCase(task_id=task.id, args=[2], expected=2 * factor, split=Split.HOLDOUT),
        TestCase(task_id=task.id, args=[5], expected=5 * factor, split=Split.HOLDOUT),
    ]
    return Problem(task=task, tests=tests)


def test_a_run_is_judged_on_its_holdout_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    visible_only = Problem(
        task=Task(prompt="def f(x):\n    pass\n", entry_point="f", provenance=Provenance(source="t")),
        tests=[TestCase(task_id="x", args=[1], expected=1)],
    )
    problems = [_problem("triple", 3), visible_only, _problem("double", 2)]
    monkeypatch.setattr(harness, "final_problems", lambda _path: problems)
    bench = harness.run_benchmark(tmp_path / "my-run")
    assert bench.name == "my-run" and [t.entry_point for t in bench.tasks] == ["triple", "double"]
    assert bench.notes == ["1 of 3 problems left out (no holdout tests)"]
    samples = [
        harness.Sample(bench.tasks[0].task_id, 0, "", "def triple(x):\n    return 3 * x\n"),
        harness.Sample(bench.tasks[1].task_id, 0, "", "def double(x):\n    return x + 2\n"),
    ]
    bench.judge(sandbox, samples, None)
    assert [s.passed for s in samples] == [True, False]
    assert samples[1].result.startswith("failed: ") and "wrong_answer" in samples[1].result
    monkeypatch.setattr(harness, "final_problems", lambda _path: [visible_only])
    with pytest.raises(Exception, match="none of its 1 final problems has holdout tests"):
        harness.run_benchmark(tmp_path / "my-run")


def test_an_embedded_model_is_not_started_when_every_sample_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codefoundry.synth.solutions import auto_style
    from codefoundry.teacher.cache import TeacherCache
    from codefoundry.teacher.client import TeacherClient
    from codefoundry.teacher.local import LocalTeacher

    problem = load_problems()["HumanEval/0"]
    config = harness.teacher_config("local:qwen2.5-coder-1.5b")
    assert auto_style(config) == "chat_prefill"
    (request,) = harness.requests_for(
        [harness.EvalTask("HumanEval/0", problem.prompt, problem.entry_point)],
        auto_style(config),
        config.chat_template,
        n=1,
        temperature=0.0,
        max_tokens=768,
    )
    keys = TeacherClient(harness._addressable(config)).cache_keys(request)
    cache_path = tmp_path / "cache.sqlite"
    with TeacherCache(cache_path) as cache:
        body = problem.extra["canonical_solution"] + "```"
        cache.put(keys[0], {"text": body, "finish_reason": "stop"}, model=config.model)

    def refuse(self: LocalTeacher) -> None:
        raise AssertionError("the embedded model was started")

    monkeypatch.setattr(LocalTeacher, "start", refuse)
    out = tmp_path / "out"
    args = [
        "eval",
        "--teacher",
        "local:qwen2.5-coder-1.5b",
        "--limit",
        "1",
        "--teacher-cache",
        str(cache_path),
    ]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "published: 70.7% (Qwen2.5-Coder Technical Report)" in result.output
    report = json.loads((out / "eval.json").read_text())
    assert (
        report["pass_at_k"] == {"1": 1.0}
        and report["temperature"] == 0.0
        and report["prompt_style"] == "chat_prefill"
    )
