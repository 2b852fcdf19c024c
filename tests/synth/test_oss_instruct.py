"""OSS-Instruct against a real OpenAI-compatible HTTP server on 127.0.0.1 that answers from a script."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.runner import run_recipe
from codefoundry.recipe import recipe_from_dict
from codefoundry.records import Seed
from codefoundry.synth.oss_instruct import pick_snippet

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"


def _answer(number: int) -> str:
    """Every third answer is good, one disagrees with its own tests, one is not JSON at all."""
    kind = number % 3
    if kind == 0:
        task = {
            "problem": f"Write add_{number}(a, b) that returns the sum of a, b and {number}.",
            "entry_point": f"add_{number}",
            "solution": f"def add_{number}(a, b):\n    return a + b + {number}\n",
            "tests": [{"args": [i, 2 * i], "expected": 3 * i + number} for i in range(5)],
        }
        return json.dumps(task)
    if kind == 1:
        task = {
            "problem": f"Write twice_{number}(x) that doubles x, for any integer x.",
            "entry_point": f"twice_{number}",
            "solution": f"def twice_{number}(x):\n    return x * 3\n",
            "tests": [{"args": [i], "expected": 2 * i} for i in range(1, 6)],
        }
        return json.dumps(task)
    return "Here is an idea: a function that counts things. Hope it helps!"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        length = int(self.headers["Content-Length"])
        json.loads(self.rfile.read(length))
        with self.server.lock:  # type: ignore[attr-defined]
            number = self.server.calls  # type: ignore[attr-defined]
            self.server.calls += 1  # type: ignore[attr-defined]
        body = json.dumps(
            {
                "id": f"c{number}",
                "object": "chat.completion",
                "model": "scripted",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": _answer(number)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.calls = 0  # type: ignore[attr-defined]
    httpd.lock = threading.Lock()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def test_teacher_tasks_are_kept_only_when_solution_and_tests_agree(tmp_path: Path, server) -> None:
    recipe = recipe_from_dict(
        {
            "name": "oss",
            "teachers": {
                "default": {
                    "base_url": f"http://127.0.0.1:{server.server_address[1]}/v1",
                    "model": "scripted",
                    "structured_output": "none",
                    "max_retries": 0,
                }
            },
            "stages": [
                {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(CORPUS)}},
                {"kind": "synth.oss_instruct", "limit": 9, "min_tests": 3},
                {"kind": "verify.reference"},
            ],
        }
    )
    report = run_recipe(recipe, tmp_path)
    oss = report.stages[1]
    assert server.calls == 9
    assert (oss.records, oss.drops) == (3, 6)
    run_dir = RunDir(tmp_path)
    stages = plan(recipe)
    drops = list(run_dir.iter_drops(stages[1].name, stages[1].fingerprint))
    assert sorted(d.reason for d in drops) == ["bad_json"] * 3 + ["tests_disagree"] * 3
    assert all(d.stage == "01-synth.oss_instruct" for d in drops)
    assert all("--- answer ---" in d.detail for d in drops if d.reason == "bad_json")  # the raw answer kept
    kept = list(run_dir.iter_records(stages[2].name, stages[2].fingerprint))
    assert len(kept) == 3
    for problem in kept:
        assert problem["task"]["provenance"]["method"] == "oss_instruct"
        assert problem["reference"]["role"] == "reference"
        assert problem["reference"]["author"] == {"kind": "teacher", "name": "default", "model": "scripted", "sample": 0}
        assert problem["reports"]["agreement"] == {"agreeing": 5, "total": 5}
        assert len(problem["tests"]) == 5
        assert {t["split"] for t in problem["tests"]} == {"visible", "holdout"}

    # as if killed before the teacher stage committed anything: its work is redone from the response cache
    source = stages[0].name
    lines = run_dir.manifest_path.read_text().splitlines(keepends=True)
    run_dir.manifest_path.write_text("".join(line for line in lines if f'"{source}"' in line))
    again = run_recipe(recipe, tmp_path)
    assert server.calls == 9
    assert (again.stages[1].records, again.stages[1].drops) == (3, 6)


def test_snippet_is_a_stable_window_of_at_most_fifteen_lines() -> None:
    from codefoundry.records import Provenance

    code = "\n".join(f"line_{i} = {i}" for i in range(40))
    seed = Seed(name="f", code=code, provenance=Provenance(source="t"))
    snippet = pick_snippet(seed, 1, 15)
    assert snippet == pick_snippet(seed, 1, 15)
    assert 1 <= len(snippet.splitlines()) <= 15
    assert snippet in code


def test_args_of_a_one_parameter_function_are_wrapped_when_the_teacher_unwrapped_them() -> None:
    from codefoundry.synth.oss_instruct import positional_arity, shape_args

    code = "def f(numbers):\n    return sum(numbers)\n\ndef g(a, b=2):\n    return a\n"
    assert positional_arity(code, "f") == 1 and positional_arity(code, "g") == 2
    assert shape_args([1, 2, 3], 1) == [[1, 2, 3]]
    assert shape_args([], 1) == [[]]
    assert shape_args([[1, 2]], 1) == [[1, 2]]
    assert shape_args(5, 1) == [5]
    assert shape_args([1, 2], 2) == [1, 2]
    assert shape_args([1, 2], None) == [1, 2]


def test_a_teacher_stage_must_declare_every_teacher_drop_reason() -> None:
    from enum import StrEnum

    from codefoundry.synth.oss_instruct import OssInstructConfig
    from codefoundry.synth.teacher_prompt import TeacherStage

    class OnlyMine(StrEnum):
        MINE = "mine"

    with pytest.raises(TypeError, match="must include the teacher drop reasons"):

        class Careless(TeacherStage[Seed, Seed]):  # noqa: F841 - defining it is the test
            kind = "test.careless"
            Config = OssInstructConfig
            input_type = Seed
            output_type = Seed
            drop_reasons = OnlyMine
