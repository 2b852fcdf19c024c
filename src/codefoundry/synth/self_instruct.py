"""``synth.self_instruct``: grow a pool of instructions from a few seeds, round after round (Wang et al., 2023).

Each round sends ``prompts_per_round`` few-shot prompts; each shows ``seed_examples`` instructions drawn from
the seeds and ``generated_examples`` from those kept in earlier rounds, and asks for new ones. Every new
instruction passes the paper's filters before it joins the pool: a length window, no blocked keyword (tasks
a program in the sandbox cannot do: images, files, the network), no leading punctuation, and novelty: its
ROUGE-L against every instruction in the pool (seeds included) must stay below ``max_rouge`` (0.7), found
through the MinHash/LSH index of ``synth/novelty.py`` instead of all pairs. Every filtered instruction is a
drop with its reason (the nearest kept instruction and its score, for novelty).

The stage sees its whole input (dataset scope): the input problems' prompts are the seeds. Its outputs are
the new instructions (problems with a task only; ``synth.implement`` writes and verifies their solutions),
plus the inputs when ``keep_inputs``. Rounds are deterministic (examples drawn from ``seed``, round and
prompt) and every answer is cached, so a run killed in round 3 redoes rounds 1-2 from the cache, with no
new teacher call.
"""

from __future__ import annotations

import random
import re

from pydantic import BaseModel, ConfigDict, Field

from codefoundry.pipeline.stage import Scope, StageResult
from codefoundry.records import Lineage, Problem, Provenance, Task
from codefoundry.synth.novelty import NoveltyFilter
from codefoundry.synth.teacher_prompt import (
    ParseError,
    Sample,
    TeacherPrompt,
    TeacherStage,
    TeacherStageConfig,
    teacher_drop_reasons,
)

# Self-Instruct's blocklist, adapted to code: what a program judged in a sandbox cannot do or check.
BLOCKED = (
    "image", "images", "picture", "pictures", "photo", "plot", "draw", "drawing", "video",
    "audio", "music", "sound", "flowchart", "diagram", "gui", "web page", "website", "url",
    "http", "download", "upload", "internet", "network", "database", "sql server", "file", "files",
    "directory", "folder", "email", "user input", "keyboard", "mouse", "camera", "random",
)

SYSTEM_PROMPT = "You invent diverse, self-contained programming tasks."

USER_PROMPT = """Come up with {count} new, diverse programming tasks. Each task asks for a program or function
that takes some input and computes an output, with no files, network, user interaction or graphics.
Vary the topics, the data involved and the difficulty; do not repeat the examples.

Examples of tasks:
{examples}

Answer with JSON only: {{"tasks": ["first new task", "second new task", ...]}}"""


SelfInstructDrop = teacher_drop_reasons("SelfInstructDrop", "too_short", "too_long", "blocked_keyword", "bad_start", "not_novel")


class SelfInstructConfig(TeacherStageConfig):
    rounds: int = Field(2, ge=1, le=50, description="rounds of generation; each reads the pool the last grew")
    prompts_per_round: int = Field(8, ge=1, description="few-shot prompts sent per round")
    tasks_per_prompt: int = Field(5, ge=1, le=20, description="new tasks asked of each prompt")
    seed_examples: int = Field(3, ge=0, description="examples per prompt drawn from the seeds")
    generated_examples: int = Field(2, ge=0, description="examples per prompt drawn from tasks kept in earlier rounds")
    max_rouge: float = Field(0.7, gt=0, le=1, description="an instruction this close (ROUGE-L) to one in the pool is dropped")
    min_words: int = Field(5, ge=1)
    max_words: int = Field(150, ge=1)
    blocked: list[str] = Field(default_factory=lambda: list(BLOCKED), description="keywords that drop an instruction")
    keep_inputs: bool = Field(False, description="pass the seed problems on with the new instructions")
    seed: int = Field(0, description="draws the few-shot examples")

    def blocked_pattern(self) -> re.Pattern[str] | None:
        """The blocked keywords as whole words, any case (None when there are none)."""
        if not self.blocked:
            return None
        return re.compile(r"\b(" + "|".join(map(re.escape, self.blocked)) + r")\b", re.IGNORECASE)


class FewShot(BaseModel):
    """One few-shot request of a round: its place and the examples it shows."""

    model_config = ConfigDict(frozen=True)
    id: str
    round: int
    examples: list[str]


class NewTasks(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tasks: list[str] = Field(min_length=1)


class SelfInstructPrompt(TeacherPrompt[FewShot, list[str]]):
    system = SYSTEM_PROMPT
    response_model = NewTasks

    def __init__(self, config: SelfInstructConfig) -> None:
        self.config = config

    def prompt(self, record: FewShot) -> str:
        examples = "\n".join(f"{i}. {text}" for i, text in enumerate(record.examples, 1))
        return USER_PROMPT.format(count=self.config.tasks_per_prompt, examples=examples)

    def parse(self, record: FewShot, text: str) -> list[str]:
        from codefoundry.teacher.parse import extract_json

        parsed = extract_json(text, NewTasks)
        if not parsed.ok:
            raise ParseError(str(parsed.reason), parsed.detail)
        return [clean(t) for t in parsed.value.tasks if isinstance(t, str)]


def clean(text: str) -> str:
    """An instruction without list numbering or surrounding quotes and spaces."""
    text = re.sub(r"^\s*(?:task\s*)?\d+\s*[.:)]\s*", "", text.strip(), flags=re.IGNORECASE)
    return text.strip().strip('"').strip()


def rejection(text: str, cfg: SelfInstructConfig) -> tuple[SelfInstructDrop, str] | None:
    """Why the paper's filters reject an instruction (before novelty), or None."""
    words = len(text.split())
    if words < cfg.min_words:
        return SelfInstructDrop.TOO_SHORT, f"{words} words (< {cfg.min_words})"
    if words > cfg.max_words:
        return SelfInstructDrop.TOO_LONG, f"{words} words (> {cfg.max_words})"
    blocked = cfg.blocked_pattern()  # compiled once: ``re`` caches it
    if blocked is not None and (found := blocked.search(text)):
        return SelfInstructDrop.BLOCKED_KEYWORD, f"mentions {found.group(0)!r}"
    if not text[0].isalnum():
        return SelfInstructDrop.BAD_START, f"starts with {text[0]!r}"
    return None


class SelfInstruct(TeacherStage[Problem, Problem]):
    """Seed instructions -> new, novel instructions, over ``rounds`` rounds of few-shot prompting."""

    kind = "synth.self_instruct"
    Config = SelfInstructConfig
    input_type = Problem
    output_type = Problem
    scope = Scope.DATASET
    drop_reasons = SelfInstructDrop
    config: SelfInstructConfig

    def task(self) -> SelfInstructPrompt:
        return SelfInstructPrompt(self.config)

    async def finish(self, samples: list[Sample], result: StageResult[Problem]) -> None:
        raise NotImplementedError("synth.self_instruct is a dataset stage: it runs its rounds in process_all")

    async def process_all(self, records: list[Problem]) -> StageResult[Problem]:
        cfg = self.config
        result: StageResult[Problem] = StageResult(records=list(records) if cfg.keep_inputs else [])
        seeds = [p.task.prompt for p in records]
        pool = NoveltyFilter(threshold=cfg.max_rouge)
        texts: dict[str, str] = {}
        for problem in records:
            pool.keep(problem.task.id, problem.task.prompt)
            texts[problem.task.id] = problem.task.prompt
        generated: list[str] = []
        for round_number in range(1, cfg.rounds + 1):
            requests = [self._few_shot(round_number, i, seeds, generated) for i in range(cfg.prompts_per_round)]
            samples = await self.ask(self.task(), requests, result)
            kept = await self.context.services.in_python(self._filter, samples, pool, texts, result)
            generated.extend(p.task.prompt for p in kept)
            result.records.extend(kept)
        return result

    def _few_shot(self, round_number: int, index: int, seeds: list[str], generated: list[str]) -> FewShot:
        cfg = self.config
        rng = random.Random(f"{cfg.seed}|{round_number}|{index}")
        examples = rng.sample(seeds, min(cfg.seed_examples, len(seeds)))
        examples += rng.sample(generated, min(cfg.generated_examples, len(generated)))
        rng.shuffle(examples)
        return FewShot(id=f"round{round_number}-prompt{index}", round=round_number, examples=examples)

    def _filter(
        self,
        samples: list[Sample],
        pool: NoveltyFilter,
        texts: dict[str, str],
        result: StageResult[Problem],
    ) -> list[Problem]:
        """The samples' instructions that pass every filter, in answer order; the others as drops."""
        kept: list[Problem] = []
        for sample in samples:
            request: FewShot = sample.record
            for text in sample.draft:
                task = Task(
                    prompt=text or "(empty)",
                    provenance=Provenance(source="self_instruct", method="self_instruct"),
                    features=["self_instruct"],
                    lineage=Lineage(round=request.round),
                )
                problem = Problem(task=task)
                why = rejection(text, self.config) if text else (SelfInstructDrop.TOO_SHORT, "empty")
                if why is None and task.id in texts:
                    why = SelfInstructDrop.NOT_NOVEL, "the same instruction is already in the pool"
                if why is None:
                    verdict = pool.check(task.id, text)
                    if not verdict.kept:
                        nearest = texts.get(verdict.nearest or "", "")
                        why = SelfInstructDrop.NOT_NOVEL, f"ROUGE-L {verdict.score:.3f} with: {nearest[:300]}"
                if why is not None:
                    result.drops.append(self.drop(problem, why[0], why[1]))
                    continue
                texts[task.id] = text
                kept.append(problem)
        return kept
