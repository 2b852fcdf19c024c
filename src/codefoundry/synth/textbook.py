"""``synth.textbook``: textbook sections that teach a concept step by step, each ending with a verified exercise.

phi-1 ("Textbooks Are All You Need", Gunasekar et al., 2023) trained a small code model on synthetic
textbook sections (an explanation interleaved with code) and on exercises (a function signature with a
docstring, completed by a solution). Here the teacher writes, for one topic at one level, a section in the
target language that teaches the topic with a short worked example, and ends it with ONE exercise: a
signature and docstring (function style) or a statement with its input and output formats (stdio style),
with the solution and tests. The exercise is kept only if its solution agrees with its tests in the
sandbox (``synth/verified.py``); the section's explanation stays with the task (``Task.lesson``) and goes
out with it in the SFT export.

The work items are ``Topic`` records, one per (topic, level, index); a source stage lists them in an order
that interleaves the topics and rotates the levels, so a small ``limit`` covers as many topics as it can.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.records import Lineage, Provenance, Record, Style
from codefoundry.synth.answer import (
    LANGUAGE_NAMES,
    FunctionAnswer,
    Origin,
    ProgramAnswer,
    Target,
    answer_model,
    answer_shape,
    target_phrase,
)
from codefoundry.synth.teacher_prompt import ParseError, Sample, TeacherPrompt
from codefoundry.synth.verified import VerifiedSynth, VerifiedSynthConfig

# Concepts a code model should know, from the basics to common algorithmic patterns.
TOPICS: tuple[str, ...] = (
    "recursion",
    "binary search",
    "hash maps",
    "string formatting",
    "list comprehensions",
    "two pointers",
    "prefix sums",
    "sorting with keys",
    "stacks",
    "queues and BFS",
    "dynamic programming on sequences",
    "bit manipulation",
    "modular arithmetic",
    "greedy choices",
    "intervals",
    "matrices",
    "parsing text",
    "dates and times",
    "sets",
    "generators",
    "sliding windows",
    "counting with dictionaries",
    "depth-first search on graphs",
    "heaps and priority queues",
    "string searching",
    "number theory: primes and divisors",
    "backtracking",
    "memoization",
    "linked structures",
    "error handling and input validation",
)


class Level(StrEnum):
    """Who a section is written for."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


# How the prompt describes each level's reader.
AUDIENCE: dict[Level, str] = {
    Level.BEGINNER: "beginner readers (new to programming: short, concrete steps and small examples)",
    Level.INTERMEDIATE: "intermediate readers (comfortable with the basics: they want the idea and its common uses)",
    Level.ADVANCED: "advanced readers (fluent programmers: they expect efficient solutions and careful edge cases)",
}


class Topic(Record):
    """One section to write: a topic, the reader's level, and its number among the topic's sections."""

    id_fields = ("topic", "level", "index")
    topic: str
    level: Level
    index: int = 0


def topic_grid(topics: list[str], levels: list[Level], per_topic: int) -> list[Topic]:
    """Every (topic, level, index) once, in rounds that each visit every topic: within a round a topic's
    level is rotated by its position, so the head of the list covers many topics and all levels."""
    topics = list(dict.fromkeys(topics))
    levels = list(dict.fromkeys(levels))
    items: list[Topic] = []
    for round_ in range(len(levels) * per_topic):
        for position, topic in enumerate(topics):
            level = levels[(position + round_) % len(levels)]
            items.append(Topic(topic=topic, level=level, index=round_ // len(levels)))
    return items


class TextbookConfig(VerifiedSynthConfig):
    """Settings of ``synth.textbook``: the topics, the levels and sections per (topic, level), and the
    settings every verified synthesizer has (targets, tests, agreement)."""

    topics: list[str] = Field(default_factory=lambda: list(TOPICS), min_length=1, description="concepts to teach")
    levels: list[Level] = Field(default_factory=lambda: list(Level), min_length=1, description="readers' levels")
    per_topic: int = Field(1, ge=1, le=100, description="sections per (topic, level)")


MIN_LESSON_CHARS = 100


class LessonPart(BaseModel):
    """The section's explanation (the field a textbook answer adds to the exercise's)."""

    model_config = ConfigDict(extra="ignore")
    lesson: str = Field(min_length=MIN_LESSON_CHARS)


# The exercise's fields with the lesson (a teacher may put the lesson in the JSON; the parse then takes it).
class TextbookFunctionAnswer(FunctionAnswer, LessonPart):
    """A textbook section ending with a function exercise."""


class TextbookProgramAnswer(ProgramAnswer, LessonPart):
    """A textbook section ending with a stdin/stdout exercise."""


# Where the exercise's JSON begins in an answer: a ```json fence, else the first line that opens an object.
_EXERCISE_START = re.compile(r"^```(?:json)?[ \t]*\n\s*\{|^\{", re.MULTILINE)

EXERCISE = {
    Style.FUNCTION: (
        'The exercise ("problem") is the function signature followed by a docstring that states the task, its '
        "arguments and what it returns; the solution is that function, complete."
    ),
    Style.STDIO: (
        'The exercise ("problem") states the task, the input format (what the program reads from standard '
        "input) and the output format (what it prints); the solution is a whole program."
    ),
}

SYSTEM_PROMPT = (
    "You write programming textbooks: clear sections that teach one concept step by step, each ending with an "
    "exercise that has a correct solution and tests."
)

USER_PROMPT = """Write a section of a programming textbook that teaches {topic} in {language}, for {audience}.
First write the section itself in Markdown: several paragraphs (150 to 300 words) that explain the concept
step by step, with a short worked example in fenced code blocks. Then end the section with ONE exercise that
practises it and asks for {target}.
{exercise}
{shape}"""


def textbook_model(target: Target) -> type[TextbookFunctionAnswer] | type[TextbookProgramAnswer]:
    return TextbookFunctionAnswer if target.style == Style.FUNCTION else TextbookProgramAnswer


def textbook_shape(target: Target, n_tests: int) -> str:
    """The exercise's answer shape for ``target``, written after the section as a fenced JSON block."""
    shape = answer_shape(target, n_tests)
    head = "Answer with JSON only, in this shape:"
    if head not in shape:  # pragma: no cover - guards the shapes' wording in synth/answer.py
        raise AssertionError("answer shape changed: no JSON instruction to replace")
    return shape.replace(head, "After the section, write the exercise as JSON in a ```json fenced block, in this shape:", 1)


def parse_textbook(target: Target, text: str) -> TextbookFunctionAnswer | TextbookProgramAnswer:
    """The teacher's section and exercise, or a ``ParseError``.

    The section is the Markdown before the exercise's JSON (small teachers write prose far better outside a
    JSON string), or the JSON's own ``lesson`` field when a teacher put it there. Without a section of at
    least 100 characters the answer is a schema mismatch.
    """
    from codefoundry.teacher.parse import extract_json

    model = textbook_model(target)
    inline = extract_json(text, model)
    if inline.ok:
        return inline.value
    exercise = extract_json(text, answer_model(target))
    if not exercise.ok:
        raise ParseError(str(exercise.reason), exercise.detail)
    found = _EXERCISE_START.search(text)
    lesson = text[: found.start()].strip() if found else ""
    if len(lesson) < MIN_LESSON_CHARS:
        raise ParseError(
            "schema_mismatch",
            f"no lesson: the section before the exercise (or its 'lesson' field) has {len(lesson)} characters "
            f"(< {MIN_LESSON_CHARS})",
        )
    return model.model_validate({**exercise.value.model_dump(), "lesson": lesson})


class TextbookPrompt(TeacherPrompt[Topic, object]):
    system = SYSTEM_PROMPT

    def __init__(self, stage: Textbook) -> None:
        self.stage = stage
        # no structured output: the section is prose written before the exercise's JSON

    def prompt(self, record: Topic) -> str:
        target = self.stage.target_of(record)
        return USER_PROMPT.format(
            topic=record.topic,
            language=LANGUAGE_NAMES[target.language].split(" (")[0],
            audience=AUDIENCE[record.level],
            target=target_phrase(target),
            exercise=EXERCISE[target.style],
            shape=textbook_shape(target, self.stage.config.n_tests),
        )

    def parse(self, record: Topic, text: str) -> object:
        return parse_textbook(self.stage.target_of(record), text)


class Textbook(VerifiedSynth):
    """Topics -> textbook sections whose exercises are verified by execution; the lesson stays with the task."""

    kind = "synth.textbook"
    Config = TextbookConfig
    input_type = None
    config: TextbookConfig

    def inputs(self) -> list[Topic]:
        cfg = self.config
        return topic_grid(cfg.topics, cfg.levels, cfg.per_topic)

    def take_inputs(self, records: list[Topic], limit: int) -> list[Topic]:
        """The head of the interleaved order, not an even spread over it (which can land on one topic twice)."""
        return records[:limit]

    def task(self) -> TextbookPrompt:
        return TextbookPrompt(self)

    def origin(self, sample: Sample) -> Origin:
        topic: Topic = sample.record
        answer: TextbookFunctionAnswer | TextbookProgramAnswer = sample.draft
        return Origin(
            provenance=Provenance(
                source="textbook", method="textbook", qualname=f"{topic.topic}/{topic.level.value}"
            ),
            author=self.author(sample),
            lineage=Lineage(operator=topic.level.value, parent=topic.id),
            features=["textbook", topic.topic, topic.level.value],
            lesson=answer.lesson.strip(),
        )
