"""``testgen.teacher``: a teacher writes test inputs for a task, an input generator and an input validator.

What the teacher writes is code like any other model-written code: the generator and the validator run in
the sandbox only. The teacher is never asked for outputs (the vote decides them), so its mistakes about
outputs cannot leak into tests. From one answer:

- ``cases``: argument lists (origin ``teacher``);
- ``generator``: ``generate(seed, kind)`` returning one argument list, run with fixed seeds for each kind
  (``random``, ``edge``, ``large``: maximum size within the task's constraints), so the inputs are
  reproducible (origin ``generator``);
- ``validator``: ``validate(*args) -> bool``, the task's stated constraints as code. It is trusted only if it
  accepts every input whose output the task itself states (prompt examples, given tests); then it filters
  the whole pool, the inputs other stages built included;
- ``checker`` (only for tasks with several right outputs): ``check(input, output, expected)``, kept on the
  problem when it has none; ``verify.dual`` trusts it only after it accepts the stated examples and refuses
  some mismatched output.

Every input must also fit the signature's contract (``testgen.contract``; types from the annotations, or
from the prompt's examples where there are none). Counts of what was added and rejected go to
``reports.testgen``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.judge.codec import NotPlain, decode, encode
from codefoundry.judge.plaintypes import union, value_type
from codefoundry.pipeline.stage import Resources, StageConfig, StageResult
from codefoundry.records import Problem, TestCase, TestgenReport, TestOrigin
from codefoundry.sandbox.api import ExecRequest, Limits, TestInput
from codefoundry.synth.answer import shape_args
from codefoundry.synth.teacher_prompt import (
    ParseError,
    Sample,
    TeacherDrop,
    TeacherPrompt,
    TeacherStage,
    TeacherStageConfig,
)
from codefoundry.testgen.contract import in_domain, parameter_types

KINDS = ("random", "edge", "large")
STATED = (TestOrigin.PROMPT_EXAMPLE, TestOrigin.GIVEN)

USER_PROMPT = """Here is a programming task:

```python
{prompt}
```

Write test INPUTS for the function `{entry_point}` (not the expected outputs). Answer with JSON only:
{{"cases": [[first argument, second argument, ...], ...],
  "generator": "import random\\ndef generate(seed, kind):\\n    rng = random.Random(seed)\\n    ...\\n    return [first argument, ...]",
  "validator": "def validate({params}):\\n    return ...",
  "checker": ""}}
"cases": {n_cases} argument lists: typical ones, edge cases (empty, zero, one element, negative, duplicates) and
a large one. Each argument list has exactly {arity} argument(s), in order.
"generator": a function that returns ONE argument list; kind is "random", "edge" or "large" (the largest
input the task allows, but at most 1000 elements). Only the standard library.
"validator": returns True when the arguments satisfy every constraint the task states, else False.
"checker": leave it "" unless one input can have SEVERAL different right outputs (any order, any valid
answer); then "def check(input, output, expected):\n    return ..." returning True when output is a right
answer for input (input is the list of arguments; ignore expected)."""


class TeacherInputs(BaseModel):
    """The teacher's answer."""

    model_config = ConfigDict(extra="ignore")
    cases: list[Any] = Field(default_factory=list)
    generator: str = ""
    validator: str = ""
    checker: str = ""


class TeacherInputsDrop(StrEnum):
    CALL_FAILED = TeacherDrop.CALL_FAILED.value
    EMPTY = TeacherDrop.EMPTY.value
    TRUNCATED = TeacherDrop.TRUNCATED.value
    REFUSAL = TeacherDrop.REFUSAL.value
    NO_CODE_BLOCK = TeacherDrop.NO_CODE_BLOCK.value
    BAD_JSON = TeacherDrop.BAD_JSON.value
    SCHEMA_MISMATCH = TeacherDrop.SCHEMA_MISMATCH.value
    MISSING_SECTION = TeacherDrop.MISSING_SECTION.value
    NO_ENTRY_POINT = "no_entry_point"


class TeacherInputsConfig(TeacherStageConfig):
    batch_size: int = 8
    cases: int = Field(8, ge=0, le=50, description="argument lists asked of the teacher")
    seeds_per_kind: dict[str, int] = Field(
        default_factory=lambda: {"random": 6, "edge": 3, "large": 1}, description="generator runs per kind"
    )
    max_added: int = Field(24, ge=0, description="inputs this stage adds to a problem at most")
    generator_time_s: float = Field(5.0, gt=0)
    max_arg_bytes: int = Field(20_000, gt=0, description="larger argument lists are left out (readable tests)")


class TeacherInputsPrompt(TeacherPrompt[Problem, TeacherInputs]):
    system = "You write thorough, valid test inputs for Python functions."
    response_model = TeacherInputs

    def __init__(self, config: TeacherInputsConfig) -> None:
        self.config = config

    def prompt(self, record: Problem) -> str:
        types = parameter_types(record.task.prompt, record.task.entry_point) or []
        params = ", ".join(f"arg{i + 1}" for i in range(len(types))) or "*args"
        return USER_PROMPT.format(
            prompt=record.task.prompt.strip(), entry_point=record.task.entry_point, params=params,
            n_cases=self.config.cases, arity=len(types),
        )

    def parse(self, record: Problem, text: str) -> TeacherInputs:
        from codefoundry.teacher.parse import extract_json

        parsed = extract_json(text, TeacherInputs)
        if not parsed.ok:
            raise ParseError(str(parsed.reason), parsed.detail)
        return parsed.value


def contract_types(problem: Problem) -> list[str | None]:
    """Each parameter's type: its annotation, else the union of the types the stated examples pass it."""
    types = parameter_types(problem.task.prompt, problem.task.entry_point) or []
    stated = [decode(t.args or []) for t in problem.inputs + problem.tests if t.origin in STATED]
    out: list[str | None] = []
    for position, declared in enumerate(types):
        seen = [args[position] for args in stated if position < len(args)]
        out.append(declared if declared is not None else (union([value_type(v) for v in seen]) if seen else None))
    return out


class TeacherInputsStage(TeacherStage[Problem, Problem]):
    """Problem -> Problem with the teacher's inputs, its generator's, and the pool filtered by its validator."""

    kind = "testgen.teacher"
    Config = TeacherInputsConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = TeacherInputsDrop
    config: TeacherInputsConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(sandbox_share=1.0, teachers=(getattr(config, "teacher", "default"),))

    def task(self) -> TeacherInputsPrompt:
        return TeacherInputsPrompt(self.config)

    async def finish(self, samples: list[Sample], result: StageResult[Problem]) -> None:
        by_problem: dict[str, tuple[Problem, list[TeacherInputs]]] = {}
        for sample in samples:
            by_problem.setdefault(sample.record.id, (sample.record, []))[1].append(sample.draft)
        for problem, answers in by_problem.values():
            if parameter_types(problem.task.prompt, problem.task.entry_point) is None:
                result.drops.append(self.drop(problem, TeacherInputsDrop.NO_ENTRY_POINT))
                continue
            result.records.append(await self._extend(problem, answers))

    def _limits(self) -> Limits:
        t = self.config.generator_time_s
        return Limits(time_s=t, per_test_time_s=t, cpu_s=t, memory_mb=512)

    async def _extend(self, problem: Problem, answers: list[TeacherInputs]) -> Problem:
        arity = len(parameter_types(problem.task.prompt, problem.task.entry_point) or [])
        counts: dict[str, int] = {}
        found: list[tuple[list[Any], TestOrigin]] = []
        for answer in answers:
            found += [(shape_args(case, arity), TestOrigin.TEACHER) for case in answer.cases]
        generators = [a.generator for a in answers if "def generate" in a.generator]
        runs = [(kind, seed) for kind in KINDS for seed in range(self.config.seeds_per_kind.get(kind, 0))]
        requests = [
            ExecRequest(code=code, entry_point="generate", tests=[TestInput(args=[seed, kind]) for kind, seed in runs], limits=self._limits(), mode="collect")
            for code in generators
        ]
        for execution in await self.context.run_sandbox(requests):
            for verdict in execution.verdicts:
                if verdict.status == "ok" and isinstance(decode(verdict.output), list | tuple):
                    found.append((shape_args(list(decode(verdict.output)), arity), TestOrigin.GENERATOR))
                else:
                    counts["generator_failed"] = counts.get("generator_failed", 0) + 1
        added = self._new_inputs(problem, found, counts)
        pool = [*problem.inputs, *added]
        pool = await self._validated(problem, pool, [a.validator for a in answers if "def validate" in a.validator], counts)
        report = problem.reports.testgen or TestgenReport()
        by_origin = dict(report.candidates)
        for test in pool:
            if test.origin in (TestOrigin.TEACHER, TestOrigin.GENERATOR):
                by_origin[test.origin.value] = by_origin.get(test.origin.value, 0) + 1
        report = report.model_copy(update={"candidates": by_origin, "statuses": {**report.statuses, **counts}})
        # a checker for tasks with several right outputs; verify.dual uses it only once it has passed its checks
        checker = problem.checker or next((a.checker for a in answers if "def check" in a.checker), None)
        return problem.model_copy(
            update={"inputs": pool, "checker": checker, "reports": problem.reports.model_copy(update={"testgen": report})}
        )

    def _new_inputs(self, problem: Problem, found: list[tuple[list[Any], TestOrigin]], counts: dict[str, int]) -> list[TestCase]:
        """Plain, in-contract, not-too-large inputs not yet in the pool (at most ``max_added``)."""
        types = contract_types(problem)
        known = {t.id for t in problem.inputs}
        added: list[TestCase] = []
        for args, origin in found:
            if len(added) >= self.config.max_added:
                break
            try:
                stored = encode(args)
            except (NotPlain, ValueError, TypeError, RecursionError):
                counts["not_plain"] = counts.get("not_plain", 0) + 1
                continue
            if len(repr(stored)) > self.config.max_arg_bytes:
                counts["too_large"] = counts.get("too_large", 0) + 1
                continue
            if not in_domain(args, types):
                counts["contract_rejected"] = counts.get("contract_rejected", 0) + 1
                continue
            test = TestCase(task_id=problem.task.id, args=stored, origin=origin)
            if test.id not in known:
                known.add(test.id)
                added.append(test)
        return added

    async def _validated(self, problem: Problem, pool: list[TestCase], validators: list[str], counts: dict[str, int]) -> list[TestCase]:
        """The pool less what a trusted validator rejects; a validator that rejects a stated input is not trusted."""
        if not validators or not pool:
            return pool
        stated = [t for t in problem.tests if t.origin in STATED]
        checked = [*stated, *pool]
        requests = [
            ExecRequest(code=code, entry_point="validate", tests=[TestInput(args=decode(t.args or [])) for t in checked], limits=self._limits(), mode="collect")
            for code in validators
        ]
        for execution in await self.context.run_sandbox(requests):
            verdicts = execution.verdicts
            if len(verdicts) != len(checked):
                counts["validator_failed"] = counts.get("validator_failed", 0) + 1
                continue
            accepts = [v.status == "ok" and decode(v.output) is True for v in verdicts]
            if not all(ok for ok, t in zip(accepts, checked, strict=True) if t.origin in STATED):
                counts["validator_distrusted"] = counts.get("validator_distrusted", 0) + 1
                continue
            kept = accepts[len(stated) :]
            counts["validator_rejected"] = counts.get("validator_rejected", 0) + sum(not ok for ok in kept)
            return [t for t, ok in zip(pool, kept, strict=True) if ok or t.origin in STATED]
        return pool
