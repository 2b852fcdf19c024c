"""The shared shape of every synthesizer whose teacher writes a task with its solution and tests.

OSS-Instruct, textbook exercises and ``synth.implement`` differ only in what they ask (the prompt) and in
where a task comes from (its provenance and lineage). The rest is written once here: the target (language
and style) drawn for each input, the answer's JSON shape, the parse, and verification by agreement in the
sandbox, in the target's language, with every failure kept as a typed drop.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from pydantic import BaseModel, Field

from codefoundry.pipeline.stage import Resources, StageConfig, StageResult
from codefoundry.records import Author, AuthorKind, Problem
from codefoundry.sandbox.api import Limits
from codefoundry.synth.agreement import AgreementRule, Disagreement, verify_drafts
from codefoundry.synth.answer import Origin, Target, draft_from_answer, pick_target
from codefoundry.synth.teacher_prompt import Sample, TeacherStage, TeacherStageConfig, teacher_drop_reasons

# Why a teacher-written task was not kept: the teacher's failures, then verification's.
SynthDrop = teacher_drop_reasons("SynthDrop", "solution_failed", "tests_disagree", "too_few_tests")


class VerifiedSynthConfig(TeacherStageConfig):
    """Settings of every synthesizer verified by agreement."""

    batch_size: int = 8
    targets: list[Target] = Field(
        default_factory=lambda: [Target()],
        min_length=1,
        description="languages and styles of the tasks, with weights (default: Python functions)",
    )
    n_tests: int = Field(8, ge=1, le=50, description="tests asked of the teacher")
    min_tests: int = Field(3, ge=1, description="agreeing tests a task needs")
    min_agreement: float = Field(0.75, gt=0, le=1, description="share of the teacher's tests that must agree")
    holdout_fraction: float = Field(1 / 3, ge=0, lt=1)
    time_s: float = Field(10.0, gt=0, description="wall-clock limit for one solution's run on all its tests")
    per_test_time_s: float = Field(2.0, gt=0)


class VerifiedSynth(TeacherStage[Any, Problem]):
    """A teacher stage whose samples are tasks with a solution and tests, verified by agreement."""

    output_type = Problem
    drop_reasons = SynthDrop
    config: VerifiedSynthConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        targets = getattr(config, "targets", [])
        return Resources(
            sandbox_share=1.0,
            teachers=(getattr(config, "teacher", "default"),),
            languages=tuple(sorted({t.language.value for t in targets})),
        )

    @abstractmethod
    def origin(self, sample: Sample) -> Origin:
        """The provenance, lineage and features of the task written for ``sample.record``."""

    def target_of(self, record: BaseModel) -> Target:
        """The language and style asked for ``record`` (drawn by its id from the configured mix)."""
        return pick_target(self.config.targets, f"{self.kind}|{getattr(record, 'id', '')}")

    def author(self, sample: Sample) -> Author:
        return Author(kind=AuthorKind.TEACHER, name=sample.teacher, model=sample.model, sample=sample.index)

    async def finish(self, samples: list[Sample], result: StageResult[Problem]) -> None:
        cfg = self.config
        rule = AgreementRule(
            min_agreement=cfg.min_agreement,
            min_tests=cfg.min_tests,
            holdout_fraction=cfg.holdout_fraction,
            limits=Limits(time_s=cfg.time_s, per_test_time_s=cfg.per_test_time_s),
        )

        def drafts() -> list[Any]:
            return [draft_from_answer(s.draft, self.target_of(s.record), self.origin(s)) for s in samples]

        for outcome in await verify_drafts(self.context, await self.context.services.in_python(drafts), rule):
            if isinstance(outcome, Disagreement):
                result.drops.append(self.drop(outcome.problem, SynthDrop(outcome.reason), outcome.detail))
            else:
                result.records.append(outcome)
