"""``testgen.teacher`` against a real OpenAI-compatible server on 127.0.0.1: cases, a generator and a
validator written by the teacher, all run in the sandbox; contracts and distrust of a bad validator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codefoundry.judge.codec import decode
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.runner import run_recipe
from codefoundry.recipe import recipe_from_dict
from codefoundry.records import Problem, TestOrigin
from codefoundry.testgen.contract import conforms, in_domain

PROMPT = 'def total(xs: list[int]) -> int:\n    """Sum of xs, every item between 0 and 100."""\n'
GOOD = {
    "cases": [[[1, 2, 3]], [[]], [[100]], [["not", "ints"]], [[-5]]],
    "generator": "import random\ndef generate(seed, kind):\n    rng = random.Random(seed)\n"
    "    n = {'random': 5, 'edge': 0, 'large': 50}[kind]\n    return [[rng.randint(0, 100) for _ in range(n)]]\n",
    "validator": "def validate(xs):\n    return all(0 <= x <= 100 for x in xs)\n",
}
ANSWERS: list[dict] = []


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers["Content-Length"]))
        content = json.dumps(ANSWERS[0])
        body = json.dumps(
            {"id": "c", "object": "chat.completion", "model": "scripted",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def run(tmp_path: Path, url: str, answer: dict, test: str) -> Problem:
    ANSWERS[:] = [answer]
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"task_id": "t/0", "prompt": PROMPT, "entry_point": "total", "test": test}) + "\n")
    recipe = recipe_from_dict(
        {
            "name": "teacher-inputs",
            "teachers": {"default": {"base_url": url, "model": "scripted", "max_retries": 0}},
            "stages": [{"kind": "read.tasks", "path": str(tasks)}, {"kind": "testgen.teacher"}],
        }
    )
    run_recipe(recipe, tmp_path / "run")
    final = plan(recipe)[-1]
    (raw,) = RunDir(tmp_path / "run").iter_records(final.name, final.fingerprint)
    return Problem.model_validate(raw)


CHECK = "def check(candidate):\n    assert candidate([1, 2]) == 3\n"


def test_cases_generator_and_validator(tmp_path: Path, server: str) -> None:
    problem = run(tmp_path, server, GOOD, CHECK)
    by_origin: dict[TestOrigin, list] = {}
    for t in problem.inputs:
        by_origin.setdefault(t.origin, []).append(decode(t.args))
    assert [[1, 2, 3]] in by_origin[TestOrigin.TEACHER] and [[]] in by_origin[TestOrigin.TEACHER]
    assert [[-5]] not in by_origin[TestOrigin.TEACHER]  # the validator's constraint (0..100)
    assert all(args != [["not", "ints"]] for args in by_origin[TestOrigin.TEACHER])  # the contract
    generated = by_origin[TestOrigin.GENERATOR]
    assert any(len(args[0]) == 50 for args in generated) and [[]] not in generated  # "edge" is [] (a teacher case already)
    statuses = problem.reports.testgen.statuses if problem.reports.testgen else {}
    assert statuses["contract_rejected"] == 1 and statuses["validator_rejected"] >= 1
    (tmp_path / "again").mkdir()
    again = run(tmp_path / "again", server, GOOD, CHECK)
    assert [t.id for t in again.inputs] == [t.id for t in problem.inputs]  # seeded: reproducible
    assert problem.checker is None  # the teacher wrote none: outputs are compared exactly


def test_a_teacher_checker_is_kept_for_the_vote(tmp_path: Path, server: str) -> None:
    checker = "def check(input, output, expected):\n    return output == sum(input[0])\n"
    problem = run(tmp_path, server, dict(GOOD, checker=checker), CHECK)
    assert problem.checker == checker


def test_a_validator_rejecting_the_task_s_own_example_is_not_trusted(tmp_path: Path, server: str) -> None:
    wrong = dict(GOOD, validator="def validate(xs):\n    return len(xs) > 5\n")
    problem = run(tmp_path, server, wrong, CHECK)
    assert [[-5]] in [decode(t.args) for t in problem.inputs]
    assert problem.reports.testgen is not None and problem.reports.testgen.statuses["validator_distrusted"] == 1


def test_contracts() -> None:
    assert conforms([1, 2], "list[int]") and not conforms([1.5], "list[int]") and conforms([1], "list[float]")
    assert not conforms(True, "int") and conforms(None, "str | None") and conforms("x", None)
    assert in_domain([1, "a"], ["int", "str"]) and not in_domain([1, 2, 3], ["int"])
