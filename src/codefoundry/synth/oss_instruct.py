"""OSS-Instruct: a 1-15-line snippet of real code inspires a teacher to write a new task, solution and tests.

The snippet keeps the teacher's tasks as varied as real code is; it may be in any language (``read.snippets``
reads any corpus) and the task may target another one (``targets``). The teacher answers in JSON (structured
output where the server has it, a lenient parser otherwise). This module is only the prompt; calls, fan-out
and drops are the generic teacher stage's (``synth/teacher_prompt.py``), the answer shapes are
``synth/answer.py``'s, and verification is the shared agreement step (``synth/verified.py``): the solution
runs in the sandbox on the teacher's inputs, and a test survives only where its output equals the
teacher's expected output. The task's lineage keeps the seed and the snippet.
"""

from __future__ import annotations

import random
import textwrap

from pydantic import Field

from codefoundry.records import Lineage, Seed
from codefoundry.synth.answer import (
    LANGUAGE_NAMES,
    Origin,
    TargetLanguage,
    answer_shape,
    parse_answer,
    positional_arity,  # noqa: F401 - re-exported: older imports read them from here
    shape_args,  # noqa: F401
    shared_answer_model,
    target_phrase,
)
from codefoundry.synth.teacher_prompt import Sample, TeacherPrompt
from codefoundry.synth.verified import SynthDrop, VerifiedSynth, VerifiedSynthConfig

SYSTEM_PROMPT = "You write clear, self-contained programming exercises with correct solutions and tests."

USER_PROMPT = """Here is a snippet of real {snippet_language} code:

```{fence}
{snippet}
```

Inspired by it, write a NEW self-contained programming problem (not a copy of the snippet) that asks for
{target}.
{shape}"""

OssInstructDrop = SynthDrop


class OssInstructConfig(VerifiedSynthConfig):
    snippet_min_lines: int = Field(1, ge=1)
    snippet_max_lines: int = Field(15, ge=1)


def pick_snippet(seed: Seed, min_lines: int, max_lines: int) -> str:
    """A window of 1–15 non-blank lines of the seed's code, chosen by the seed's id (stable across runs)."""
    lines = [line for line in seed.code.splitlines() if line.strip()]
    rng = random.Random(seed.id)
    size = min(len(lines), rng.randint(min_lines, max(min_lines, max_lines)))
    start = rng.randint(0, max(0, len(lines) - size))
    return textwrap.dedent("\n".join(lines[start : start + size]))


def snippet_language(seed: Seed) -> str:
    """How the prompt names the snippet's language ("Python", "Rust", or the seed's own word)."""
    try:
        return LANGUAGE_NAMES[TargetLanguage(seed.language)].split(" (")[0]
    except ValueError:
        return seed.language or "source"


class OssInstructPrompt(TeacherPrompt[Seed, object]):
    """The prompt (a snippet of the seed, the target's answer shape) and the parse."""

    system = SYSTEM_PROMPT

    def __init__(self, stage: OssInstruct) -> None:
        self.stage = stage
        self.config: OssInstructConfig = stage.config
        # structured output only when every target answers in the same shape
        self.response_model = shared_answer_model(self.config.targets)  # type: ignore[misc]

    def prompt(self, record: Seed) -> str:
        cfg = self.config
        target = self.stage.target_of(record)
        return USER_PROMPT.format(
            snippet_language=snippet_language(record),
            fence=record.language,
            snippet=pick_snippet(record, cfg.snippet_min_lines, cfg.snippet_max_lines),
            target=target_phrase(target),
            shape=answer_shape(target, cfg.n_tests),
        )

    def parse(self, record: Seed, text: str) -> object:
        return parse_answer(self.stage.target_of(record), text)


class OssInstruct(VerifiedSynth):
    """Seed -> Problem through a teacher, verified by execution in the target's language."""

    kind = "synth.oss_instruct"
    version = 2
    Config = OssInstructConfig
    input_type = Seed
    config: OssInstructConfig

    def task(self) -> OssInstructPrompt:
        return OssInstructPrompt(self)

    def origin(self, sample: Sample) -> Origin:
        seed: Seed = sample.record
        cfg = self.config
        return Origin(
            provenance=seed.provenance.model_copy(update={"method": "oss_instruct"}),
            author=self.author(sample),
            lineage=Lineage(parent=seed.id, snippet=pick_snippet(seed, cfg.snippet_min_lines, cfg.snippet_max_lines)),
            features=["oss_instruct"],
        )
