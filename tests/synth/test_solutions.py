"""``synth.solutions`` against the scripted OpenAI-compatible server, with answers chosen per test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codefoundry.errors import UserError
from codefoundry.pipeline.services import Services
from codefoundry.pipeline.stage import StageContext, StageResult
from codefoundry.records import Problem, Provenance, SolutionRole, Task
from codefoundry.synth.solutions import SampleSolutions, normalised
from codefoundry.teacher.config import TeacherConfig
from codefoundry.testing import teacher_server
from codefoundry.testing.answers import request_text
from codefoundry.testing.teacher_server import ScriptedServer

PROMPT = 'def add(a, b):\n    """Return the sum of a and b. [[{marker}]]"""\n'


@pytest.fixture
def replies(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """Answers by a marker in the request's text: sample ``i`` of a request gets ``replies[marker][i]``."""
    table: dict[str, list[str]] = {}
    original = teacher_server.answer

    def answer(body: dict[str, Any], key: str, attempt: int, index: int, action: str, tasks: bool = False):
        text = request_text(body)
        for marker, answers in table.items():
            if f"[[{marker}]]" in text:
                return answers[index % len(answers)], "stop"
        return original(body, key, attempt, index, action, tasks)

    monkeypatch.setattr(teacher_server, "answer", answer)
    yield table


def problem(marker: str) -> Problem:
    task = Task(prompt=PROMPT.format(marker=marker), entry_point="add", provenance=Provenance(source="t"))
    return Problem(task=task)


def run_stage(
    tmp_path: Path, server: ScriptedServer, batch: list[Problem], config: dict[str, Any], **teacher: Any
) -> StageResult[Problem]:
    values = {"base_url": server.base_url, "model": "scripted", "max_retries": 0, **teacher}
    services = Services(tmp_path, teachers={"default": TeacherConfig(**values)})
    stage = SampleSolutions(SampleSolutions.Config(**config), StageContext(services, "01-synth.solutions"))

    async def go() -> StageResult[Problem]:
        try:
            return await stage.process(batch)
        finally:
            await services.aclose()

    return asyncio.run(go())


CHAT_ANSWERS = [
    "Here:\n```python\ndef add(a, b):\n    return a + b\n```\n",
    'Sure.\n```python\ndef add(a, b):\n    """Sum them."""\n    return a+b\n\nprint(add(1, 2))\n```',
    "```python\ndef add(a, b):\n    return b + a\n```",
    "I would rather not write code today.",
]


def test_samples_are_deduplicated_with_copies(
    tmp_path: Path, start_server: Callable[..., ScriptedServer], replies: dict[str, list[str]]
) -> None:
    server = start_server()
    replies["p1"] = CHAT_ANSWERS
    replies["none"] = ["no code here", "```python\ndef add(a, b)\n    return a +\n```"]
    result = run_stage(tmp_path, server, [problem("p1"), problem("none")], {"samples": 4})
    (kept,) = result.records
    assert [(c.author.sample, c.copies) for c in kept.candidates] == [(0, 2), (2, 1)]
    first, second = kept.candidates
    # the first sample's text is kept; the prompt's docstring is replaced by the model's definition
    assert first.code == "def add(a, b):\n    return a + b\n"
    assert "return b + a" in second.code
    assert all(c.role is SolutionRole.CANDIDATE and c.task_id == kept.task.id for c in kept.candidates)
    assert (
        first.author.kind == "teacher" and first.author.name == "default" and first.author.model == "scripted"
    )
    (drop,) = result.drops
    assert drop.reason == "no_solutions" and drop.detail.startswith("unparsable 4 of 4")
    # one request per problem, n samples in it, sampling stated in full
    bodies = [r.body for r in server.generations() if r.body is not None]
    assert len(bodies) == 2 and all(b["n"] == 4 and b["temperature"] == 0.8 for b in bodies)
    assert all("messages" in b for b in bodies)


def test_normalised_ignores_docstrings_and_formatting() -> None:
    a = 'def f(x):\n    """Doc."""\n    return x+1\n'
    b = "def f(x):\n    return (x + 1)\n"
    assert normalised(a) == normalised(b)
    assert normalised(a) != normalised("def f(x):\n    return x + 2\n")


def test_failed_call_drops_the_problem(
    tmp_path: Path, start_server: Callable[..., ScriptedServer], replies: dict[str, list[str]]
) -> None:
    server = start_server()
    replies["ok"] = CHAT_ANSWERS[:1]
    prompt = PROMPT.format(marker="ok") + "# [[fault: 400]]\n"
    broken = Problem(task=Task(prompt=prompt, entry_point="add", provenance=Provenance(source="t")))
    result = run_stage(tmp_path, server, [broken, problem("ok")], {"samples": 2})
    assert [d.reason for d in result.drops] == ["call_failed"]
    assert "http_400" in result.drops[0].detail
    assert len(result.records) == 1 and result.records[0].candidates[0].copies == 2


def test_prompt_style_follows_the_teacher(
    tmp_path: Path, start_server: Callable[..., ScriptedServer], replies: dict[str, list[str]]
) -> None:
    server = start_server()
    replies["body"] = ["    return a + b\n```\nThat is all.", "    return a + b\n"]
    # a known chat template: the answer is begun for the model, which writes only the body
    result = run_stage(tmp_path / "a", server, [problem("body")], {"samples": 2}, chat_template="chatml")
    (kept,) = result.records
    assert len(kept.candidates) == 1 and kept.candidates[0].copies == 2
    assert kept.candidates[0].code.startswith("def add(a, b):") and "return a + b" in kept.candidates[0].code
    (body,) = [r.body for r in server.generations()]
    assert body["prompt"].startswith("<|im_start|>system") and "messages" not in body
    assert server.generations()[0].path.endswith("/completions")
    # a completion endpoint without a template: the task's prompt is continued as it is
    result = run_stage(tmp_path / "b", server, [problem("body")], {"samples": 2}, endpoint="completion")
    assert result.records[0].candidates[0].copies == 2
    assert server.generations()[-1].body["prompt"] == PROMPT.format(marker="body")


def test_chat_prefill_without_a_template_is_a_user_error(
    tmp_path: Path, start_server: Callable[..., ScriptedServer]
) -> None:
    server = start_server()
    with pytest.raises(UserError, match="chat_template"):
        run_stage(tmp_path, server, [problem("x")], {"prompt_style": "chat_prefill"})
    assert not server.records


def test_rejection_sampling_recipe_runs_end_to_end(
    tmp_path: Path, start_server: Callable[..., ScriptedServer]
) -> None:
    """Mined tasks, then sampled solutions judged on every test, through the runner and the registry."""
    from codefoundry.pipeline.runner import run_recipe
    from codefoundry.recipe import load_recipe, recipe_from_dict

    shipped = load_recipe(Path(__file__).parents[2] / "recipes" / "rejection-sampling.yaml")
    assert [s.kind for s in shipped.stages][-2:] == ["synth.solutions", "verify.candidates"]
    server = start_server()
    pure = Path(__file__).parents[1] / "fixtures" / "mining" / "pure.py"
    recipe = recipe_from_dict(
        {
            "name": "rs",
            "teachers": {"default": {"base_url": server.base_url, "model": "scripted", "max_retries": 0}},
            "stages": [
                {"kind": "mine.functions", "corpus": {"kind": "files", "paths": [str(pure)]}},
                {"kind": "mine.tasks"},
                {"kind": "testgen.mined"},
                {"kind": "synth.solutions", "samples": 3},
                {"kind": "verify.candidates", "keep": "all"},
            ],
        }
    )
    report = run_recipe(recipe, tmp_path)
    sampled, judged = report.stages[3], report.stages[4]
    assert sampled.records > 0 and judged.records == sampled.records
    # the scripted teacher answers with a function of another name: each task's program is its own stub
    assert len(server.generations()) == sampled.records
    # the teacher is shown the task's signature and docstring as code, not the mined instruction around them
    assert all("Implement the Python function" not in request_text(r.body or {}) for r in server.generations())
    from codefoundry.pipeline.plan import plan
    from codefoundry.pipeline.rundir import RunDir

    final = plan(recipe)[-1]
    for raw in RunDir(tmp_path).iter_records(final.name, final.fingerprint):
        problem = Problem.model_validate(raw)
        assert problem.candidates and len(problem.candidate_verdicts) == len(problem.candidates)
        assert problem.reports.candidates is not None and problem.reports.candidates.samples == 3


def test_code_prompt_of_a_mined_instruction() -> None:
    from codefoundry.synth.solutions import code_prompt

    stub = 'def clamp(value: int, low: int, high: int) -> int:\n    """Limit value."""\n'
    mined = f"Implement the Python function `clamp` described below.\n\n```python\n{stub}```\n"
    assert code_prompt(mined, "clamp") == stub
    assert code_prompt(stub, "clamp") == stub  # already code: unchanged (HumanEval prompts, cache keys)
    assert code_prompt("Write clamp.", "clamp") == "Write clamp."


def test_a_prose_prompt_names_the_function_and_a_code_prompt_is_unchanged() -> None:
    from codefoundry.records import Solution
    from codefoundry.synth.solutions import asked_prompt

    task = Task(prompt="Write a function returning the larger of two numbers.", entry_point="bigger", provenance=Provenance(source="t"))
    reference = Solution(task_id=task.id, code="def bigger(a: int, b: int) -> int:\n    return max(a, b)\n")
    asked = asked_prompt(Problem(task=task, reference=reference))
    assert asked.endswith("Write the function `def bigger(a: int, b: int) -> int:`.")
    assert asked_prompt(Problem(task=task)).endswith("Write the function `bigger`.")
    code = problem("m")
    assert asked_prompt(code) == code.task.prompt


def test_tasks_other_than_python_functions_are_dropped_before_any_call(
    tmp_path: Path, start_server: Callable[..., ScriptedServer], replies: dict[str, list[str]]
) -> None:
    server = start_server()
    replies["py"] = CHAT_ANSWERS[:1]
    provenance = Provenance(source="t")
    stdio = Problem(task=Task(prompt="Read two numbers, print their sum.", style="stdio", provenance=provenance))
    js = Problem(task=Task(prompt="function add(a, b)", entry_point="add", language="js", provenance=provenance))
    result = run_stage(tmp_path, server, [stdio, problem("py"), js], {"samples": 1})
    assert [(d.record_id, d.reason) for d in result.drops] == [(stdio.id, "unsupported_task"), (js.id, "unsupported_task")]
    assert "python stdio task" in result.drops[0].detail and "javascript function task" in result.drops[1].detail
    assert len(result.records) == 1 and len([r for r in server.generations() if r.body is not None]) == 1
