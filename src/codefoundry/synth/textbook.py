"""``synth.textbook``: textbook sections that teach a concept step by step, each ending with a verified exercise.

phi-1 ("Textbooks Are All You Need", Gunasekar et al., 2023) trained a small code model on synthetic
textbook sections (an explanation interleaved with code) and on exercises (a function signature with a
docstring, completed by a solution). Here the teacher writes, for one topic at one level, a section in the
target language that teaches the topic with a short worked example (one call, Markdown), then, shown that
section, ONE exercise that practises it: a signature and docstring (function style) or a statement with its
input and output formats (stdio style), with the solution and tests (a second call, the usual task JSON).
Two calls, because a small teacher asked for both at once writes a title as the lesson inside the JSON, or
runs out of tokens in the prose before the JSON. The exercise is kept only if its solution agrees with its
tests in the sandbox (``synth/verified.py``); the section stays with the task (``Task.lesson``) and goes out
with it in the SFT export.

The work items are ``Topic`` records, one per (topic, level, index); a source stage lists them in an order
that interleaves the topics and rotates the levels, so a small ``limit`` covers as many topics as it can.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.pipeline.stage import StageResult
from codefoundry.records import Lineage, Problem, Provenance, Record, Style
from codefoundry.synth.answer import (
    LANGUAGE_NAMES,
    Origin,
    answer_shape,
    parse_answer,
    shared_answer_model,
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

LESSON_PROMPT = """Write a section of a programming textbook that teaches {topic} in {language}, for {audience}.
Write it in Markdown: a few paragraphs (150 to 300 words) that explain the concept step by step, with one short
worked example in a fenced code block. Write only the section: no exercise, no solution, no preamble."""

EXERCISE_PROMPT = """Here is a section of a programming textbook about {topic}, for {audience}:

{lesson}

Write the exercise for the section on {topic}: ONE exercise that practises what the section teaches and asks
for {target}.
{exercise}
{shape}"""


def parse_lesson(text: str) -> str:
    """The section's Markdown, or a ``ParseError`` when it is too short to teach anything."""
    lesson = text.strip()
    if len(lesson) < MIN_LESSON_CHARS:
        raise ParseError("missing_section", f"no lesson: {len(lesson)} characters (< {MIN_LESSON_CHARS})")
    return lesson


class Section(BaseModel):
    """A written section waiting for its exercise: the topic it teaches and its text."""

    model_config = ConfigDict(frozen=True)
    id: str  # the topic's id: the exercise's target is drawn by it
    topic: Topic
    lesson: str


class LessonPrompt(TeacherPrompt[Topic, str]):
    """The first call: the section itself, in prose (no JSON: small teachers write far better prose outside it)."""

    system = SYSTEM_PROMPT

    def __init__(self, stage: Textbook) -> None:
        self.stage = stage

    def prompt(self, record: Topic) -> str:
        target = self.stage.target_of(record)
        return LESSON_PROMPT.format(
            topic=record.topic,
            language=LANGUAGE_NAMES[target.language].split(" (")[0],
            audience=AUDIENCE[record.level],
        )

    def parse(self, record: Topic, text: str) -> str:
        return parse_lesson(text)


class ExercisePrompt(TeacherPrompt[Section, object]):
    """The second call: the section's exercise with its solution and tests, as the usual task JSON."""

    system = SYSTEM_PROMPT

    def __init__(self, stage: Textbook) -> None:
        self.stage = stage
        self.response_model = shared_answer_model(stage.config.targets)  # type: ignore[misc]

    def prompt(self, record: Section) -> str:
        target = self.stage.target_of(record)
        return EXERCISE_PROMPT.format(
            topic=record.topic.topic,
            audience=AUDIENCE[record.topic.level],
            lesson=record.lesson,
            target=target_phrase(target),
            exercise=EXERCISE[target.style],
            shape=answer_shape(target, self.stage.config.n_tests),
        )

    def parse(self, record: Section, text: str) -> object:
        return parse_answer(self.stage.target_of(record), text)


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

    def task(self) -> ExercisePrompt:
        return ExercisePrompt(self)

    async def process(self, batch: list[Topic]) -> StageResult[Problem]:
        """Two calls per section: the lesson (one), then its exercise (``samples`` of them, each verified on
        its own, with the lesson in the prompt)."""
        result: StageResult[Problem] = StageResult()
        lessons = await self.ask(LessonPrompt(self), batch, result, n=1)
        sections = [Section(id=s.record.id, topic=s.record, lesson=s.draft) for s in lessons]
        exercises = await self.ask(self.task(), sections, result) if sections else []
        await self.finish(exercises, result)
        return result

    def origin(self, sample: Sample) -> Origin:
        section: Section = sample.record
        topic = section.topic
        return Origin(
            provenance=Provenance(
                source="textbook", method="textbook", qualname=f"{topic.topic}/{topic.level.value}"
            ),
            author=self.author(sample),
            lineage=Lineage(operator=topic.level.value, parent=topic.id),
            features=["textbook", topic.topic, topic.level.value],
            lesson=section.lesson,
        )
