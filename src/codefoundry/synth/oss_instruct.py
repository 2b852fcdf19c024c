"""OSS-Instruct: a 1–15-line snippet of real code inspires a teacher to write a new task, solution and tests.

The snippet keeps the teacher's tasks as varied as real code is. The teacher answers in JSON (structured
output where the server has it, a lenient parser otherwise). Nothing the teacher says is trusted: its
solution runs in the sandbox on its test inputs, and a test survives only where the solution's output agrees
with the teacher's expected output. A task needs ``min_agreement`` of its tests to agree and at least
``min_tests`` agreeing tests; the agreed outputs become the tests, split visible/holdout by test id.
"""

from __future__ import annotations

import random
import textwrap
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.judge.split import split
from codefoundry.pipeline.stage import Resources, Stage, StageConfig, StageResult
from codefoundry.records import Drop, Problem, Provenance, Seed, Solution, Task, TestCase
from codefoundry.sandbox.api import ExecRequest, Limits, TestInput

SYSTEM_PROMPT = (
    "You write clear, self-contained Python programming exercises with correct solutions and tests."
)

USER_PROMPT = """Here is a snippet of real Python code:

```python
{snippet}
```

Inspired by it, write a NEW self-contained programming problem (not a copy of the snippet) that asks for one
Python function taking plain values (numbers, strings, lists, dicts) and returning a plain value.
Answer with JSON only, in this shape:
{{"problem": "the task for a student, with the function signature",
  "entry_point": "function_name",
  "solution": "def function_name(...):\\n    ...",
  "tests": [{{"args": [first argument, second argument, ...], "expected": return value}}, ...]}}
"args" always lists the positional arguments: for one list argument write "args": [[1, 2, 3]].
Give {n_tests} tests, including edge cases. Use only the Python standard library."""


class TeacherTest(BaseModel):
    """One test as the teacher writes it."""

    model_config = ConfigDict(extra="ignore")
    args: Any
    expected: Any = None


class TeacherTask(BaseModel):
    """The teacher's whole answer."""

    model_config = ConfigDict(extra="ignore")
    problem: str = Field(min_length=20)
    entry_point: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    solution: str = Field(min_length=10)
    tests: list[TeacherTest] = Field(min_length=1)


class OssInstructConfig(StageConfig):
    kind: Literal["synth.oss_instruct"] = "synth.oss_instruct"
    batch_size: int = 8
    teacher: str = Field("default", description="name of the recipe's teacher to ask")
    snippet_min_lines: int = Field(1, ge=1)
    snippet_max_lines: int = Field(15, ge=1)
    n_tests: int = Field(8, ge=1, le=50, description="tests asked of the teacher")
    min_tests: int = Field(3, ge=1, description="agreeing tests a task needs")
    min_agreement: float = Field(0.75, gt=0, le=1, description="share of the teacher's tests that must agree")
    holdout_fraction: float = Field(1 / 3, ge=0, lt=1)
    temperature: float | None = Field(None, ge=0, le=2, description="overrides the teacher's default")
    max_tokens: int | None = Field(None, gt=0)


def pick_snippet(seed: Seed, min_lines: int, max_lines: int) -> str:
    """A window of 1–15 non-blank lines of the seed's code, chosen by the seed's id (stable across runs)."""
    lines = [line for line in seed.code.splitlines() if line.strip()]
    rng = random.Random(seed.id)
    size = min(len(lines), rng.randint(min_lines, max(min_lines, max_lines)))
    start = rng.randint(0, max(0, len(lines) - size))
    return textwrap.dedent("\n".join(lines[start : start + size]))


class OssInstruct(Stage[Seed, Problem]):
    """Seed → Problem through a teacher, verified by execution."""

    kind = "synth.oss_instruct"
    Config = OssInstructConfig
    input_type = Seed
    output_type = Problem
    resources = Resources(sandbox=True, teacher=True)
    config: OssInstructConfig

    def process(self, batch: list[Seed]) -> StageResult[Problem]:
        from codefoundry.teacher.client import TeacherRequest, json_schema_format
        from codefoundry.teacher.config import Sampling

        cfg = self.config
        client = self.context.teacher(cfg.teacher)
        sampling = Sampling(temperature=cfg.temperature, max_tokens=cfg.max_tokens)
        requests = [
            TeacherRequest(
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {
                        "role": "user",
                        "content": USER_PROMPT.format(
                            snippet=pick_snippet(seed, cfg.snippet_min_lines, cfg.snippet_max_lines),
                            n_tests=cfg.n_tests,
                        ),
                    },
                ],
                sampling=sampling,
                response_format=json_schema_format(TeacherTask, name="task"),
                stage=self.kind,
                tag=seed.id,
            )
            for seed in batch
        ]
        responses = client.generate_many(requests)
        result: StageResult[Problem] = StageResult()
        drafts: list[tuple[Seed, TeacherTask]] = []
        for seed, response in zip(batch, responses, strict=True):
            parsed = self._parse(response)
            if isinstance(parsed, str):
                result.drops.append(self.drop(seed, parsed, response.detail or _text_of(response)))
            else:
                drafts.append((seed, parsed))
        executions = self.context.sandbox.run_many([self._request(draft) for _seed, draft in drafts])
        for (seed, draft), execution in zip(drafts, executions, strict=True):
            outcome = self._verify(seed, draft, execution)
            if isinstance(outcome, Drop):
                result.drops.append(outcome)
            else:
                result.records.append(outcome)
        return result

    def _parse(self, response: Any) -> TeacherTask | str:
        """The teacher's task, or the drop reason."""
        from codefoundry.teacher.parse import extract_json

        if not response.ok:
            return f"teacher_{response.failure}"
        parsed = extract_json(response.completions[0], TeacherTask)
        return parsed.value if parsed.ok else str(parsed.reason)

    def _request(self, draft: TeacherTask) -> ExecRequest:
        """Collect the solution's outputs on the teacher's inputs (compared here, in the supervisor)."""
        arity = positional_arity(draft.solution, draft.entry_point)
        for test in draft.tests:
            test.args = shape_args(test.args, arity)
        return ExecRequest(
            language="python",
            style="function",
            code=draft.solution,
            entry_point=draft.entry_point,
            tests=[TestInput(args=test.args) for test in draft.tests],
            limits=Limits(time_s=10.0, per_test_time_s=2.0),
            mode="collect",
        )

    def _verify(self, seed: Seed, draft: TeacherTask, execution: Any) -> Problem | Drop:
        from codefoundry.sandbox.compare import plain_equal

        cfg = self.config
        task = Task(
            prompt=draft.problem.strip(),
            entry_point=draft.entry_point,
            provenance=Provenance(
                source=seed.provenance.source,
                path=seed.provenance.path,
                qualname=seed.provenance.qualname,
                line=seed.provenance.line,
                method="oss_instruct",
            ),
            features=["oss_instruct"],
        )
        agreed: list[TestCase] = []
        for test, verdict in zip(draft.tests, execution.verdicts, strict=False):
            if verdict.status == "ok" and plain_equal(verdict.output, test.expected, 1e-6, 1e-9):
                agreed.append(
                    TestCase(task_id=task.id, args=test.args, expected=verdict.output, origin="teacher")
                )
        agreement = len(agreed) / len(draft.tests)
        detail = f"{len(agreed)}/{len(draft.tests)} teacher tests agree with the teacher's solution"
        problem = Problem(
            task=task, reference=Solution(task_id=task.id, code=draft.solution, origin="teacher")
        )
        if execution.status in ("compile_error", "sandbox_error") or not any(
            v.status == "ok" for v in execution.verdicts
        ):
            errors = sorted({v.error for v in execution.verdicts if v.error})[:3]
            return self.drop(
                problem,
                "solution_failed",
                f"{execution.status}: {'; '.join(errors) or execution.stderr[:500]}",
            )
        if agreement < cfg.min_agreement:
            return self.drop(problem, "tests_disagree", detail)
        unique = list({t.id: t for t in agreed}.values())
        if len(unique) < cfg.min_tests:
            return self.drop(problem, "too_few_tests", detail)
        return problem.model_copy(
            update={
                "tests": split(unique, cfg.holdout_fraction),
                "notes": {"teacher_agreement": round(agreement, 3)},
            }
        )


def positional_arity(code: str, name: str) -> int | None:
    """How many positional parameters the function ``name`` takes (None if unknown or variadic)."""
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            if node.args.vararg is not None:
                return None
            return len(node.args.posonlyargs) + len(node.args.args)
    return None


def shape_args(args: Any, arity: int | None) -> list[Any]:
    """The teacher's ``args`` as a list of positional arguments.

    Small teachers often write the one argument of a one-parameter function unwrapped (``"args": [1, 2]``
    for ``f([1, 2])``, or ``"args": 5``); with the arity known from the solution's signature this is
    unambiguous, so it is repaired rather than dropped.
    """
    if not isinstance(args, list):
        return [args]
    if arity == 1 and len(args) != 1:
        return [args]
    return args


def _text_of(response: Any) -> str:
    return response.completions[0].text[:1000] if response.completions else ""
