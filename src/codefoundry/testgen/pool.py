"""``testgen.inputs``: the inputs a function task's outputs will be voted on, gathered without running code.

For each problem, from four sources in order of trust:
1. the prompt's stated examples (``testgen.examples``; origin ``prompt_example``, ``expected`` = the stated
   output when the prompt states one: the only inputs here that carry an output);
2. the inputs of the problem's existing tests (their origin kept; their expected outputs only where the task
   states them itself, origin ``prompt_example`` or ``given``: everything else is voted on again);
3. type-aware mutations of those two (``testgen.mutate``; origin ``mutation``), kept to the examples' signs: where
   the examples show only non-negative numbers for an argument, mutations give it none either;
4. draws from the entry point's type hints (``testgen.signature``; origin ``generated``), only for problems the
   other sources give fewer than ``signature_min_inputs`` inputs: a hint says ``str``, the examples say which
   strings, and draws outside the task's domain make right samples disagree for nothing.
Each source fills at most its share of ``max_inputs`` first; room left is then filled in the same order.
Inputs are deduplicated by test id (the first source keeps it), stored in the codec's form (values that are not
plain data, or longer than ``max_input_chars``, are skipped) in ``Problem.inputs``. A stated output of ``None``
is stored as ``expected = None``, which reads the same as no statement (the record has no flag for it). Everything is seeded by the
problem's id: the same problem and config give the same inputs. No code runs here (no sandbox).

Inputs are argument lists, so a stdio task is dropped ``unsupported_style`` (its tests are stdin texts, and
its outputs are not voted on: ``verify.dual`` takes function tasks only). A function task in another language
than Python gets the sources that need no Python code: stated examples, the existing tests and their
mutations; the type-hint draws read a Python signature and are left out.
"""

from __future__ import annotations

import zlib
from collections import Counter
from enum import StrEnum
from typing import Any

from pydantic import Field

from codefoundry.judge.codec import NotPlain, decode, dumps, encode
from codefoundry.pipeline.stage import StageConfig, StageResult, ThreadedStage
from codefoundry.records import Problem, Style, TestCase, TestgenReport, TestOrigin
from codefoundry.sandbox.languages import normalise_language
from codefoundry.testgen.contract import non_negative_positions, within_signs
from codefoundry.testgen.examples import entry_function, prompt_examples
from codefoundry.testgen.inputs import storable
from codefoundry.testgen.mutate import Bounds, mutate_inputs
from codefoundry.testgen.signature import signature_inputs


class InputsDrop(StrEnum):
    UNSUPPORTED_STYLE = "unsupported_style"
    NO_ENTRY_POINT = "no_entry_point"
    NO_INPUTS = "no_inputs"


class Source(StrEnum):
    """Where an input came from, in the order sources fill a problem's inputs."""

    EXAMPLES = "examples"
    TESTS = "tests"
    MUTATIONS = "mutations"
    SIGNATURE = "signature"


class BuildInputsConfig(StageConfig):
    batch_size: int = 64
    max_inputs: int = Field(40, ge=1, description="inputs kept per problem")
    example_share: float = Field(
        0.5, ge=0, le=1, description="share of max_inputs first given to prompt examples"
    )
    test_share: float = Field(0.3, ge=0, le=1, description="share first given to the existing tests' inputs")
    mutation_share: float = Field(0.3, ge=0, le=1, description="share first given to mutations of those")
    signature_share: float = Field(
        0.3, ge=0, le=1, description="share first given to draws from the type hints"
    )
    signature_min_inputs: int = Field(
        10,
        ge=0,
        description="draws from the type hints only for problems with fewer inputs than this from the other "
        "sources: a hint says `str`, the examples say which strings (draws are often outside the task's domain)",
    )
    max_len: int = Field(24, ge=1, description="longest list, dict or string a mutation makes")
    max_input_chars: int = Field(400, gt=0, description="longest input (JSON text) kept")


def signature_source(problem: Problem) -> str | None:
    """Code that defines the entry point: the prompt (HumanEval's layout), else the reference solution (a
    teacher's task states its signature in prose), else a candidate; None when nothing does."""
    entry = problem.task.entry_point
    codes = [problem.task.prompt]
    codes += [problem.reference.code] if problem.reference is not None else []
    codes += [c.code for c in problem.candidates]
    return next((code for code in codes if entry_function(code, entry) is not None), None)


class BuildInputs(ThreadedStage[Problem, Problem]):
    """Prompt examples, existing test inputs, their mutations and hint-drawn inputs into ``Problem.inputs``."""

    kind = "testgen.inputs"
    # 2: string mutations keep the seeds' alphabet, hint draws only as a fallback; 3: assignment examples;
    # 4: mutations keep the examples' signs; 5: stdio tasks dropped, other languages' function tasks taken
    version = 5
    Config = BuildInputsConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = InputsDrop
    config: BuildInputsConfig

    def process_batch(self, batch: list[Problem]) -> StageResult[Problem]:
        result: StageResult[Problem] = StageResult()
        for problem in batch:
            task = problem.task
            if task.style == Style.STDIO:
                detail = f"inputs are argument lists; this is a {task.language} stdio task"
                result.drops.append(self.drop(problem, InputsDrop.UNSUPPORTED_STYLE, detail))
                continue
            python = normalise_language(task.language) == "python"
            if not task.entry_point or (python and signature_source(problem) is None):
                result.drops.append(self.drop(problem, InputsDrop.NO_ENTRY_POINT, task.entry_point))
                continue
            inputs, note = self.gather(problem)
            if not inputs:
                result.drops.append(self.drop(problem, InputsDrop.NO_INPUTS, note))
                continue
            counts = Counter(t.origin.value for t in inputs)
            reports = problem.reports
            if reports.testgen is None:
                reports = reports.model_copy(
                    update={"testgen": TestgenReport(candidates=dict(sorted(counts.items())))}
                )
            result.records.append(problem.model_copy(update={"inputs": inputs, "reports": reports}))
        return result

    def gather(self, problem: Problem) -> tuple[list[TestCase], str]:
        """The problem's inputs in source order, and a note on the hints when they gave nothing."""
        cfg = self.config
        task = problem.task
        seed = zlib.crc32(problem.id.encode("utf-8"))
        sources: dict[Source, list[TestCase]] = {}
        examples = prompt_examples(task.prompt, task.entry_point)
        sources[Source.EXAMPLES] = self._cases(
            problem,
            [(e.args, e.stated, e.has_stated) for e in examples],
            TestOrigin.PROMPT_EXAMPLE,
        )
        existing = [t for t in problem.tests if t.args is not None]
        sources[Source.TESTS] = [
            TestCase(
                task_id=task.id,
                args=t.args,
                expected=t.expected if t.origin in (TestOrigin.PROMPT_EXAMPLE, TestOrigin.GIVEN) else None,
                origin=t.origin,
            )
            for t in existing
            if self._fits(t.args)
        ]
        seeds = [e.args for e in examples] + [decode(t.args) for t in existing]
        mutants = mutate_inputs(seeds, 2 * cfg.max_inputs, seed, Bounds(cfg.max_len, cfg.max_input_chars))
        signs = non_negative_positions(seeds)
        mutants = [m for m in mutants if within_signs(m, signs)][: cfg.max_inputs]
        sources[Source.MUTATIONS] = self._cases(
            problem, [(m, None, False) for m in mutants], TestOrigin.MUTATION
        )
        others = len({case.id for cases in sources.values() for case in cases})
        sources[Source.SIGNATURE], note = [], ""
        if normalise_language(task.language) == "python":  # the hints are read from a Python signature
            drawn = signature_inputs(signature_source(problem) or task.prompt, task.entry_point, cfg.max_inputs, seed)
            note = drawn.note
            if others < cfg.signature_min_inputs:
                sources[Source.SIGNATURE] = self._cases(
                    problem, [(d, None, False) for d in drawn.inputs], TestOrigin.GENERATED
                )
        return self._fill(sources), note

    def _fill(self, sources: dict[Source, list[TestCase]]) -> list[TestCase]:
        """Each source up to its share, then the room left in source order; one input per test id."""
        cfg = self.config
        shares = {
            Source.EXAMPLES: cfg.example_share,
            Source.TESTS: cfg.test_share,
            Source.MUTATIONS: cfg.mutation_share,
            Source.SIGNATURE: cfg.signature_share,
        }
        chosen: dict[str, TestCase] = {}
        taken = {source: 0 for source in sources}
        for capped in (True, False):
            for source, cases in sources.items():
                quota = round(shares[source] * cfg.max_inputs) if capped else cfg.max_inputs
                for case in cases[taken[source] :]:
                    if len(chosen) >= cfg.max_inputs or taken[source] >= quota:
                        break
                    taken[source] += 1
                    chosen.setdefault(case.id, case)
        return list(chosen.values())

    def _cases(
        self, problem: Problem, rows: list[tuple[list[Any], Any, bool]], origin: TestOrigin
    ) -> list[TestCase]:
        """Stored test inputs for argument lists (with their stated outputs), skipping what cannot be stored."""
        out: list[TestCase] = []
        for args, stated, has_stated in rows:
            try:
                encoded = encode(list(args))
                expected = encode(stated) if has_stated else None
            except NotPlain:
                continue
            if not self._fits(encoded) or not storable(expected):
                continue
            out.append(TestCase(task_id=problem.task.id, args=encoded, expected=expected, origin=origin))
        return out

    def _fits(self, encoded: Any) -> bool:
        return storable(encoded) and len(dumps(encoded)) <= self.config.max_input_chars
