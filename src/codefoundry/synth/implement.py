"""``synth.implement``: an instruction becomes a task with a verified solution and tests.

Self-Instruct and Evol-Instruct write instructions only (a ``Problem`` whose task has no reference yet).
This stage asks the teacher to restate one as a precise task in a target language and style (a signature,
or an input and output format), with a solution and tests, and keeps it only if the solution agrees with
its own tests in the sandbox (``synth/verified.py``). Problems that already have a reference (mined tasks,
OSS-Instruct's) pass through unchanged, so the stage can follow any mix of synthesizers.
"""

from __future__ import annotations

from codefoundry.pipeline.stage import StageResult
from codefoundry.records import Lineage, Problem
from codefoundry.synth.answer import Origin, answer_shape, parse_answer, shared_answer_model, target_phrase
from codefoundry.synth.teacher_prompt import Sample, TeacherPrompt
from codefoundry.synth.verified import VerifiedSynth, VerifiedSynthConfig

SYSTEM_PROMPT = "You turn programming instructions into precise, self-contained exercises with correct solutions and tests."

USER_PROMPT = """Here is a programming instruction:

{instruction}

Write it as a precise, self-contained programming problem that asks for {target}, and solve it.
The problem must state everything a solver needs (names, formats, edge cases) and stay true to the instruction.
{shape}"""


class ImplementConfig(VerifiedSynthConfig):
    """Settings of ``synth.implement`` (those of every verified synthesizer)."""


class ImplementPrompt(TeacherPrompt[Problem, object]):
    system = SYSTEM_PROMPT

    def __init__(self, stage: Implement) -> None:
        self.stage = stage
        self.response_model = shared_answer_model(stage.config.targets)  # type: ignore[misc]

    def prompt(self, record: Problem) -> str:
        target = self.stage.target_of(record)
        return USER_PROMPT.format(
            instruction=record.task.prompt.strip(),
            target=target_phrase(target),
            shape=answer_shape(target, self.stage.config.n_tests),
        )

    def parse(self, record: Problem, text: str) -> object:
        return parse_answer(self.stage.target_of(record), text)


class Implement(VerifiedSynth):
    """Instruction (a problem without a reference) -> verified problem; others pass through."""

    kind = "synth.implement"
    Config = ImplementConfig
    input_type = Problem
    config: ImplementConfig

    def task(self) -> ImplementPrompt:
        return ImplementPrompt(self)

    def origin(self, sample: Sample) -> Origin:
        instruction: Problem = sample.record
        task = instruction.task
        lineage = (task.lineage or Lineage()).model_copy(update={"parent": task.id})
        return Origin(
            provenance=task.provenance,
            author=self.author(sample),
            lineage=lineage,
            features=task.features,
            lesson=task.lesson,
        )

    async def process(self, batch: list[Problem]) -> StageResult[Problem]:
        instructions = [p for p in batch if p.reference is None]
        result: StageResult[Problem] = await super().process(instructions) if instructions else StageResult()
        result.records.extend(p for p in batch if p.reference is not None)
        return result
