"""OSS-Instruct: a 1-15-line snippet of real code inspires a teacher to write a new task, solution and tests.

The snippet keeps the teacher's tasks as varied as real code is. The teacher answers in JSON (structured
output where the server has it, a lenient parser otherwise). This module is only the prompt and the parse
(``OssInstructPrompt``); calls, fan-out and drops are the generic teacher stage's (``synth/teacher_prompt.py``),
and verification is the reusable agreement step (``synth/agreement.py``): the solution runs in the sandbox
on the teacher's inputs, and a test survives only where its output equals the teacher's expected output.
"""

from __future__ import annotations

import random
import textwrap
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.pipeline.stage import Resources, StageConfig, StageResult
from codefoundry.records import Author, AuthorKind, Problem, Seed, Solution, SolutionRole, Task
from codefoundry.sandbox.api import Limits
from codefoundry.synth.agreement import AgreementRule, Disagreement, Draft, verify_drafts
from codefoundry.synth.teacher_prompt import (
    ParseError,
    Sample,
    TeacherDrop,
    TeacherPrompt,
    TeacherStage,
    TeacherStageConfig,
)

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


class OssInstructDrop(StrEnum):
    CALL_FAILED = TeacherDrop.CALL_FAILED.value
    EMPTY = TeacherDrop.EMPTY.value
    TRUNCATED = TeacherDrop.TRUNCATED.value
    REFUSAL = TeacherDrop.REFUSAL.value
    NO_CODE_BLOCK = TeacherDrop.NO_CODE_BLOCK.value
    BAD_JSON = TeacherDrop.BAD_JSON.value
    SCHEMA_MISMATCH = TeacherDrop.SCHEMA_MISMATCH.value
    MISSING_SECTION = TeacherDrop.MISSING_SECTION.value
    SOLUTION_FAILED = "solution_failed"
    TESTS_DISAGREE = "tests_disagree"
    TOO_FEW_TESTS = "too_few_tests"


class OssInstructConfig(TeacherStageConfig):
    batch_size: int = 8
    snippet_min_lines: int = Field(1, ge=1)
    snippet_max_lines: int = Field(15, ge=1)
    n_tests: int = Field(8, ge=1, le=50, description="tests asked of the teacher")
    min_tests: int = Field(3, ge=1, description="agreeing tests a task needs")
    min_agreement: float = Field(0.75, gt=0, le=1, description="share of the teacher's tests that must agree")
    holdout_fraction: float = Field(1 / 3, ge=0, lt=1)
    time_s: float = Field(10.0, gt=0, description="wall-clock limit for one solution's run on all its tests")
    per_test_time_s: float = Field(2.0, gt=0)


def pick_snippet(seed: Seed, min_lines: int, max_lines: int) -> str:
    """A window of 1–15 non-blank lines of the seed's code, chosen by the seed's id (stable across runs)."""
    lines = [line for line in seed.code.splitlines() if line.strip()]
    rng = random.Random(seed.id)
    size = min(len(lines), rng.randint(min_lines, max(min_lines, max_lines)))
    start = rng.randint(0, max(0, len(lines) - size))
    return textwrap.dedent("\n".join(lines[start : start + size]))


class OssInstructPrompt(TeacherPrompt[Seed, TeacherTask]):
    """The prompt (a snippet of the seed) and the parse (the teacher's JSON task)."""

    system = SYSTEM_PROMPT
    response_model = TeacherTask

    def __init__(self, config: OssInstructConfig) -> None:
        self.config = config

    def prompt(self, record: Seed) -> str:
        cfg = self.config
        snippet = pick_snippet(record, cfg.snippet_min_lines, cfg.snippet_max_lines)
        return USER_PROMPT.format(snippet=snippet, n_tests=cfg.n_tests)

    def parse(self, record: Seed, text: str) -> TeacherTask:
        from codefoundry.teacher.parse import extract_json

        parsed = extract_json(text, TeacherTask)
        if not parsed.ok:
            raise ParseError(str(parsed.reason), parsed.detail)
        return parsed.value


class OssInstruct(TeacherStage[Seed, Problem]):
    """Seed -> Problem through a teacher, verified by execution."""

    kind = "synth.oss_instruct"
    Config = OssInstructConfig
    input_type = Seed
    output_type = Problem
    drop_reasons = OssInstructDrop
    config: OssInstructConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(sandbox_share=1.0, teachers=(getattr(config, "teacher", "default"),))

    def task(self) -> OssInstructPrompt:
        return OssInstructPrompt(self.config)

    async def finish(self, samples: list[Sample], result: StageResult[Problem]) -> None:
        cfg = self.config
        rule = AgreementRule(
            min_agreement=cfg.min_agreement,
            min_tests=cfg.min_tests,
            holdout_fraction=cfg.holdout_fraction,
            limits=Limits(time_s=cfg.time_s, per_test_time_s=cfg.per_test_time_s),
        )
        drafts = await self.context.services.in_python(lambda: [draft_of(sample) for sample in samples])
        for outcome in await verify_drafts(self.context, drafts, rule):
            if isinstance(outcome, Disagreement):
                result.drops.append(self.drop(outcome.problem, OssInstructDrop(outcome.reason), outcome.detail))
            else:
                result.records.append(outcome)


def draft_of(sample: Sample) -> Draft:
    """The teacher's answer as a draft problem: task, its solution as the reference, and its tests."""
    seed: Seed = sample.record
    answer: TeacherTask = sample.draft
    task = Task(
        prompt=answer.problem.strip(),
        entry_point=answer.entry_point,
        provenance=seed.provenance.model_copy(update={"method": "oss_instruct"}),
        features=["oss_instruct"],
    )
    reference = Solution(
        task_id=task.id,
        code=answer.solution,
        role=SolutionRole.REFERENCE,
        author=Author(kind=AuthorKind.TEACHER, name=sample.teacher, model=sample.model, sample=sample.index),
    )
    arity = positional_arity(answer.solution, answer.entry_point)
    inputs = [shape_args(test.args, arity) for test in answer.tests]
    return Draft(Problem(task=task, reference=reference), inputs, [test.expected for test in answer.tests])


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
