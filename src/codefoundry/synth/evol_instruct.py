"""``synth.evol_instruct``: instructions evolved round after round into harder and rarer ones (WizardLM, Xu et
al., 2023; its code operators from WizardCoder, Luo et al., 2023).

Each round, every instruction's current version is rewritten by one operator, drawn by weight from a hash of
the instruction and the round: *depth* operators make it harder (add constraints and requirements; replace a
common requirement with a rarer one; add reasoning steps; give erroneous code as misdirection; demand better
time or space complexity; add edge cases; add error handling), the *breadth* operator writes a new task in
the same domain. Operators are data: a recipe may re-weight them or add its own with a name and an
instruction.

WizardLM's elimination rules decide whether an evolution survives: the teacher judges that it brings no
information gain over its parent (``no_information_gain``); it is a refusal or too short
(``refusal``/``too_short``); it holds only punctuation and stop words (``only_stop_words``); it copies words of
the evolving prompt (``copied_prompt``). A surviving version is an output (a problem with a task only, for
``synth.implement``) and the parent of the next round; after a failed one, the next round evolves the last
survivor again, with another operator. Lineage records the operator, the round and the parent.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from codefoundry.pipeline.stage import StageResult
from codefoundry.records import Lineage, Problem, Task
from codefoundry.synth.answer import pick_weighted
from codefoundry.synth.teacher_prompt import (
    ParseError,
    Sample,
    TeacherDrop,
    TeacherPrompt,
    TeacherStage,
    TeacherStageConfig,
    teacher_drop_reasons,
)


class OperatorKind(StrEnum):
    DEPTH = "depth"  # the same task made harder
    BREADTH = "breadth"  # a new task in the same domain


# The built-in operators: WizardCoder's five code operators, two more for robustness, and breadth evolution.
BUILT_IN: dict[str, tuple[OperatorKind, str]] = {
    "add_constraints": (OperatorKind.DEPTH, "Add new constraints and requirements to the original problem, adding approximately 10 additional words."),
    "rarer_requirement": (OperatorKind.DEPTH, "Replace a commonly used requirement in the programming task with a less common and more specific one."),
    "more_reasoning": (OperatorKind.DEPTH, "If the original problem can be solved with only a few logical steps, please add more reasoning steps."),
    "misdirection": (OperatorKind.DEPTH, "Provide a piece of erroneous code as a reference to increase misdirection."),
    "complexity": (OperatorKind.DEPTH, "Propose higher time or space complexity requirements, but please refrain from doing so frequently."),
    "edge_cases": (OperatorKind.DEPTH, "Add edge cases the solution must handle, and state the expected behaviour for each of them."),
    "error_handling": (OperatorKind.DEPTH, "Require the solution to handle invalid input in a stated way, such as returning a given value."),
    "breadth": (OperatorKind.BREADTH, "Draw inspiration from the given question to create a brand new question in the same domain, but rarer."),
}

DEPTH_PROMPT = """Please increase the difficulty of the given programming test question a bit.

You can increase the difficulty using, but not limited to, the following method:
{method}

#Given Question#
{instruction}

Write only the rewritten question, with no preamble and no solution.
#Rewritten Question#
"""

BREADTH_PROMPT = """I want you to act as a programming question creator.
{method} The length and difficulty level of the new question should be similar to the given one, and it
must be a self-contained task for a program or function that computes an output from an input.

#Given Question#
{instruction}

Write only the created question, with no preamble and no solution.
#Created Question#
"""

EQUAL_PROMPT = """Here are two instructions for a programming task. Do you think they are equal to each other,
meeting these requirements: 1. they have the same constraints and requirements; 2. they have the same depth
and breadth of inquiry?
The First Instruction: {first}
The Second Instruction: {second}
Answer with one line: Equal or Not Equal."""

# Words of the evolving prompt that an evolution must not copy (WizardLM's fourth rule).
PROMPT_WORDS = re.compile(
    r"#?\s*(given|rewritten|created)\s+(prompt|question)\s*#?|#rewritten|#given|#created", re.IGNORECASE
)
HEADER = re.compile(r"^\s*#+\s*(?:rewritten|created)\s+(?:question|prompt)\s*#*\s*:?[ \t]*$", re.IGNORECASE | re.MULTILINE)
PREAMBLE = re.compile(r"^\s*(sure|certainly|of course|here is|here's|okay|ok)\b.*:\s*$", re.IGNORECASE)
REFUSAL = re.compile(r"\b(sorry|i cannot|i can't|as an ai)\b", re.IGNORECASE)
_STOP_WORDS_TEXT = """a an the and or but if of to in on at by for with from as is are was were be been it this that
these those i you he she we they me my your our their its not no yes so do does did can could should would
will shall may might must have has had what which who whom how why when where please"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


class OperatorSpec(BaseModel):
    """One evolution operator: a built-in name, or a name with an instruction of the recipe's own."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    instruction: str | None = Field(None, description="the method the prompt asks for (built-ins have one)")
    kind: OperatorKind | None = Field(None, description="depth (harder) or breadth (new task); built-ins have one")
    weight: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _complete(self) -> OperatorSpec:
        if self.name not in BUILT_IN and not self.instruction:
            raise ValueError(f"operator {self.name!r} is not built in ({', '.join(BUILT_IN)}): give it an instruction")
        return self

    def resolved(self) -> tuple[OperatorKind, str]:
        kind, text = BUILT_IN.get(self.name, (OperatorKind.DEPTH, ""))
        return self.kind or kind, self.instruction or text


EvolDrop = teacher_drop_reasons("EvolDrop", "no_information_gain", "too_short", "only_stop_words", "copied_prompt")


class EvolInstructConfig(TeacherStageConfig):
    batch_size: int = 8
    rounds: int = Field(3, ge=1, le=20, description="evolutions of every instruction")
    operators: list[OperatorSpec] = Field(
        default_factory=lambda: [OperatorSpec(name=name) for name in BUILT_IN], min_length=1
    )
    judge_gain: bool = Field(True, description="ask the teacher whether an evolution adds information (one more call)")
    min_words: int = Field(8, ge=1, description="shorter evolutions are dropped")
    keep_inputs: bool = Field(False, description="pass the input problems on with their evolutions")
    share: float = Field(
        1.0, gt=0, le=1, description="share of the inputs evolved, chosen by a hash of their id (the rest only pass on)"
    )


class Evolution(BaseModel):
    """One instruction to rewrite: its text, the operator, the round, and the version it evolves."""

    model_config = ConfigDict(frozen=True)
    id: str
    instruction: str
    operator: str
    round: int


class Pair(BaseModel):
    """An evolution and its parent, for the information-gain judge."""

    model_config = ConfigDict(frozen=True)
    id: str
    parent: str
    child: str


def pick_operator(operators: list[OperatorSpec], key: str) -> OperatorSpec:
    """The operator for ``key`` (an instruction and a round), drawn by weight."""
    return pick_weighted(operators, key)


class EvolvePrompt(TeacherPrompt[Evolution, str]):
    def __init__(self, operators: dict[str, OperatorSpec]) -> None:
        self.operators = operators

    def prompt(self, record: Evolution) -> str:
        kind, method = self.operators[record.operator].resolved()
        template = BREADTH_PROMPT if kind == OperatorKind.BREADTH else DEPTH_PROMPT
        return template.format(method=method, instruction=record.instruction)

    def parse(self, record: Evolution, text: str) -> str:
        """The evolved instruction: the text after the answer's last "#Rewritten/Created Question#" header
        (small teachers repeat the prompt's layout), without a one-line preamble ("Sure! Here is ...:")."""
        parts = HEADER.split(text)
        text = parts[-1].strip()
        first, _, rest = text.partition("\n")
        if rest.strip() and PREAMBLE.match(first):
            text = rest.strip().removeprefix("---").strip()
        return text


class EqualPrompt(TeacherPrompt[Pair, bool]):
    def prompt(self, record: Pair) -> str:
        return EQUAL_PROMPT.format(first=record.parent, second=record.child)

    def parse(self, record: Pair, text: str) -> bool:
        verdict = text.strip().lower()
        if "not equal" in verdict:
            return False
        if "equal" in verdict:
            return True
        raise ParseError(TeacherDrop.MISSING_SECTION.value, "the answer says neither Equal nor Not Equal")


def elimination(parent: str, child: str, min_words: int) -> tuple[EvolDrop, str] | None:
    """WizardLM's rules 2-4 (the ones that need no teacher): why ``child`` is eliminated, or None."""
    words = re.findall(r"[A-Za-z0-9_']+", child.lower())
    if PROMPT_WORDS.search(child):
        return EvolDrop.COPIED_PROMPT, f"copies the evolving prompt: {PROMPT_WORDS.search(child).group(0)!r}"  # type: ignore[union-attr]
    if REFUSAL.search(child) and len(words) < 80:
        return EvolDrop.REFUSAL, child[:200]
    if len(words) < min_words:
        return EvolDrop.TOO_SHORT, f"{len(words)} words (< {min_words})"
    if all(w in STOP_WORDS for w in words):
        return EvolDrop.ONLY_STOP_WORDS, child[:200]
    if child.strip() == parent.strip():
        return EvolDrop.NO_INFORMATION_GAIN, "identical to its parent"
    return None


class EvolInstruct(TeacherStage[Problem, Problem]):
    """Problems -> their evolved instructions, every surviving version of every round."""

    kind = "synth.evol_instruct"
    Config = EvolInstructConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = EvolDrop
    config: EvolInstructConfig

    def task(self) -> EvolvePrompt:
        return EvolvePrompt({op.name: op for op in self.config.operators})

    async def finish(self, samples: list[Sample], result: StageResult[Problem]) -> None:
        raise NotImplementedError("synth.evol_instruct runs its rounds in process")

    async def process(self, batch: list[Problem]) -> StageResult[Problem]:
        cfg = self.config
        result: StageResult[Problem] = StageResult(records=list(batch) if cfg.keep_inputs else [])
        chosen = [p for p in batch if cfg.share >= 1 or int(p.task.id[:8], 16) < cfg.share * 16**8]
        current = {p.task.id: p.task for p in chosen}  # the last surviving version of each input
        for round_number in range(1, cfg.rounds + 1 if current else 1):
            work = [
                Evolution(
                    id=f"{origin}|{round_number}",
                    instruction=task.prompt,
                    operator=pick_operator(cfg.operators, f"{task.id}|{round_number}").name,
                    round=round_number,
                )
                for origin, task in current.items()
            ]
            samples = await self.ask(self.task(), work, result)
            children = await self.context.services.in_python(self._screen, samples, current, result)
            if cfg.judge_gain and children:
                children = await self._judge(children, current, result)
            for origin, child in children.items():
                current[origin] = child
                result.records.append(Problem(task=child))
        return result

    def _screen(self, samples: list[Sample], current: dict[str, Task], result: StageResult[Problem]) -> dict[str, Task]:
        """Each sample's evolved task (by the input it descends from), unless a rule eliminates it."""
        children: dict[str, Task] = {}
        for sample in samples:
            work: Evolution = sample.record
            origin = work.id.rsplit("|", 1)[0]
            if origin in children:  # several samples of one evolution: the first surviving one
                continue
            parent = current[origin]
            child = evolved(parent, sample.draft or "(empty)", work)
            why = elimination(parent.prompt, sample.draft, self.config.min_words)
            if why is not None:
                result.drops.append(self.drop(Problem(task=child), why[0], why[1]))
                continue
            children[origin] = child
        return children

    async def _judge(
        self, children: dict[str, Task], current: dict[str, Task], result: StageResult[Problem]
    ) -> dict[str, Task]:
        """The children the teacher does not judge equal to their parents (WizardLM's first rule)."""
        pairs = [Pair(id=origin, parent=current[origin].prompt, child=child.prompt) for origin, child in children.items()]
        answers = await self.ask(EqualPrompt(), pairs, result, n=1)
        equal = {sample.record.id: sample.draft for sample in answers if sample.index == 0}
        kept: dict[str, Task] = {}
        for origin, child in children.items():
            if origin not in equal:  # the judge failed: its drop is recorded; the evolution is not trusted
                continue
            if equal[origin]:
                detail = f"judged equal to its parent: {current[origin].prompt[:200]}"
                result.drops.append(self.drop(Problem(task=child), EvolDrop.NO_INFORMATION_GAIN, detail))
                continue
            kept[origin] = child
        return kept


def evolved(parent: Task, text: str, work: Evolution) -> Task:
    """The evolved instruction as a task: the parent's provenance, method evol_instruct, and its lineage."""
    return Task(
        prompt=text,
        provenance=parent.provenance.model_copy(update={"method": "evol_instruct"}),
        features=[*dict.fromkeys([*parent.features, "evol_instruct"])],
        lineage=Lineage(operator=work.operator, round=work.round, parent=parent.id),
    )
