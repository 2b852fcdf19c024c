"""What every teacher synthesizer asks for and reads back: a task, its solution and its tests, in a target
language and style.

A *target* is a language the sandbox runs and a style: ``function`` (one function taking and returning plain
values; Python and JavaScript) or ``stdio`` (a whole program reading stdin and writing stdout; every
language). A recipe sets a mix of targets with weights; each task's target is drawn from the mix by the
task's own key, so a run is the same on every machine. The answer is JSON (``FunctionAnswer`` or
``ProgramAnswer``), parsed leniently, and becomes a ``Draft`` that ``synth.agreement`` verifies in the
sandbox, in the target's language.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from codefoundry.records import (
    Author,
    Lineage,
    Problem,
    Provenance,
    Solution,
    SolutionRole,
    Style,
    Task,
)
from codefoundry.synth.agreement import Draft
from codefoundry.synth.teacher_prompt import ParseError


class TargetLanguage(StrEnum):
    """The languages a synthesized task may be written in (each judged in the sandbox)."""

    PYTHON = "python"
    JAVASCRIPT = "javascript"
    CPP = "cpp"
    JAVA = "java"
    RUST = "rust"
    GO = "go"


# How a prompt names each language, with what its program must look like to run in the sandbox.
LANGUAGE_NAMES: dict[TargetLanguage, str] = {
    TargetLanguage.PYTHON: "Python 3 (standard library only)",
    TargetLanguage.JAVASCRIPT: "JavaScript (Node.js, no packages)",
    TargetLanguage.CPP: "C++17 (standard library only)",
    TargetLanguage.JAVA: "Java 17 (a public class named Main, standard library only)",
    TargetLanguage.RUST: "Rust (std only, no crates)",
    TargetLanguage.GO: "Go (standard library only, package main)",
}
FUNCTION_LANGUAGES = (TargetLanguage.PYTHON, TargetLanguage.JAVASCRIPT)


class Target(BaseModel):
    """One language and style a recipe asks for, and its share of the tasks."""

    model_config = ConfigDict(extra="forbid")
    language: TargetLanguage = TargetLanguage.PYTHON
    style: Style = Style.FUNCTION
    weight: float = Field(1.0, gt=0, description="share of the tasks, relative to the other targets")

    @model_validator(mode="after")
    def _style_runs(self) -> Target:
        if self.style == Style.FUNCTION and self.language not in FUNCTION_LANGUAGES:
            raise ValueError(
                f"{self.language.value} tasks are stdio programs in the sandbox: use style: stdio "
                f"(function style is for {', '.join(lang.value for lang in FUNCTION_LANGUAGES)})"
            )
        return self

    @property
    def label(self) -> str:
        return f"{self.language.value}/{self.style.value}"


class Weighted(Protocol):
    weight: float


W = TypeVar("W", bound=Weighted)


def pick_weighted(items: Sequence[W], key: str) -> W:
    """One of ``items``, drawn by their weights from a hash of ``key``: the same draw on every machine."""
    total = sum(item.weight for item in items)
    point = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / 16**12 * total
    for item in items:
        point -= item.weight
        if point < 0:
            return item
    return items[-1]


def pick_target(targets: list[Target], key: str) -> Target:
    """The target for the task keyed ``key``, drawn by weight."""
    return pick_weighted(targets, key)


class FunctionTest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    args: Any
    expected: Any = None


class FunctionAnswer(BaseModel):
    """A function task as the teacher writes it."""

    model_config = ConfigDict(extra="ignore")
    problem: str = Field(min_length=20)
    entry_point: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    solution: str = Field(min_length=10)
    tests: list[FunctionTest] = Field(min_length=1)

    @field_validator("tests", mode="before")
    @classmethod
    def _tests(cls, tests: Any) -> Any:
        return objects_only(tests)


class ProgramTest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    input: str
    output: str

    @field_validator("input", "output", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        """A number written without quotes is the text it prints as."""
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class ProgramAnswer(BaseModel):
    """A stdin/stdout task as the teacher writes it."""

    model_config = ConfigDict(extra="ignore")
    problem: str = Field(min_length=20)
    solution: str = Field(min_length=10)
    tests: list[ProgramTest] = Field(min_length=1)

    @field_validator("tests", mode="before")
    @classmethod
    def _tests(cls, tests: Any) -> Any:
        return objects_only(tests)


def objects_only(tests: Any) -> Any:
    """The tests that are objects: a stray value in the list (``..., 0]``) is left out, not fatal."""
    return [t for t in tests if isinstance(t, dict)] if isinstance(tests, list) else tests


FUNCTION_SHAPE = """Answer with JSON only, in this shape:
{{"problem": "the task for a student, with the function signature",
  "entry_point": "function_name",
  "solution": "the complete {language} function, with its whole body",
  "tests": [{{"args": [first argument, second argument, ...], "expected": return value}}, ...]}}
"args" always lists the positional arguments: for one list argument write "args": [[1, 2, 3]].
Give {n_tests} tests, including edge cases. Arguments and return values are plain values (numbers, strings,
booleans, lists, dicts)."""

PROGRAM_SHAPE = """Answer with JSON only, in this shape:
{{"problem": "the task for a student: what the program reads from standard input (the input format), what it
prints (the output format), and the constraints",
  "solution": "the complete {language} program reading stdin and writing stdout",
  "tests": [{{"input": "the whole stdin text", "output": "the exact expected stdout"}}, ...]}}
Give {n_tests} tests, including edge cases; each "input" follows the input format exactly."""


def target_phrase(target: Target) -> str:
    """What a prompt asks for: "one Python 3 function ..." or "a C++17 program ..."."""
    name = LANGUAGE_NAMES[target.language]
    if target.style == Style.FUNCTION:
        return f"one {name} function taking plain values (numbers, strings, lists, dicts) and returning a plain value"
    return f"a complete {name} program that reads its input from standard input and prints its answer"


def answer_shape(target: Target, n_tests: int) -> str:
    """The JSON the teacher must answer with, for ``target``."""
    shape = FUNCTION_SHAPE if target.style == Style.FUNCTION else PROGRAM_SHAPE
    return shape.format(language=LANGUAGE_NAMES[target.language], n_tests=n_tests)


def answer_model(target: Target) -> type[BaseModel]:
    return FunctionAnswer if target.style == Style.FUNCTION else ProgramAnswer


def shared_answer_model(targets: list[Target]) -> type[BaseModel] | None:
    """The answer model every target shares (asked as structured output), or None when they differ."""
    models = {answer_model(t) for t in targets}
    return models.pop() if len(models) == 1 else None


def parse_answer(target: Target, text: str) -> FunctionAnswer | ProgramAnswer:
    """The teacher's JSON answer for ``target``, or a ``ParseError`` with the reason."""
    from codefoundry.teacher.parse import extract_json

    parsed = extract_json(text, answer_model(target))
    if not parsed.ok:
        raise ParseError(str(parsed.reason), parsed.detail)
    return parsed.value


class Origin(BaseModel):
    """Where a draft comes from: the provenance and lineage its task records, and who wrote it."""

    provenance: Provenance
    author: Author
    lineage: Lineage | None = None
    features: list[str] = Field(default_factory=list)
    lesson: str = ""


def draft_from_answer(answer: FunctionAnswer | ProgramAnswer, target: Target, origin: Origin) -> Draft:
    """The teacher's answer as a draft problem: the task, its solution as the reference, and its tests."""
    function = isinstance(answer, FunctionAnswer)
    task = Task(
        prompt=answer.problem.strip(),
        style=target.style,
        language=target.language.value,
        entry_point=answer.entry_point if function else "",
        provenance=origin.provenance,
        features=origin.features,
        lineage=origin.lineage,
        lesson=origin.lesson,
    )
    reference = Solution(
        task_id=task.id,
        language=task.language,
        code=answer.solution,
        role=SolutionRole.REFERENCE,
        author=origin.author,
    )
    problem = Problem(task=task, reference=reference)
    if isinstance(answer, FunctionAnswer):
        arity = positional_arity(answer.solution, answer.entry_point) if target.language == "python" else None
        inputs: list[Any] = [shape_args(test.args, arity) for test in answer.tests]
        return Draft(problem, inputs, [test.expected for test in answer.tests])
    return Draft(problem, [test.input for test in answer.tests], [test.output for test in answer.tests])


def positional_arity(code: str, name: str) -> int | None:
    """How many positional parameters the Python function ``name`` takes (None if unknown or variadic)."""
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
