"""``synth.solutions``: K sampled solutions per problem from a teacher, as candidates to be judged.

The first half of rejection sampling: a teacher writes ``samples`` solutions to each problem's prompt (as
code: ``code_prompt``) and ``verify.candidates`` keeps those that pass the problem's tests. One request per
problem, built by
``synth.solve.solution_request`` exactly as ``codefoundry eval`` builds it, so samples drawn for an evaluation
and for a dataset share one response cache. Each answer becomes a whole program (``synth.solve.program``);
programs that differ only in formatting or docstrings are one candidate, with ``copies`` counting its samples
(pass rates and pass@k count copies). Answers that give no program are counted (``unparsable``, in the log
and in the drop detail); a problem is dropped only when none of its answers gives one.

Programs are built as Python modules defining the entry point, so only Python function tasks are asked for: a
task in another language or in stdio style is dropped ``unsupported_task`` before any teacher call.
"""

from __future__ import annotations

import ast
import logging
import re
from collections import Counter
from enum import StrEnum
from typing import Any

from pydantic import Field

from codefoundry.errors import UserError
from codefoundry.pipeline.stage import Resources, Stage, StageConfig, StageResult
from codefoundry.records import Author, AuthorKind, Problem, Solution, SolutionRole, Style
from codefoundry.sandbox.languages import normalise_language
from codefoundry.synth.solve import PromptStyle, code_of_answer, normalised, program, solution_request
from codefoundry.teacher.config import ChatTemplate, TeacherConfig

log = logging.getLogger(__name__)


class SolutionsDrop(StrEnum):
    UNSUPPORTED_TASK = "unsupported_task"
    CALL_FAILED = "call_failed"
    NO_SOLUTIONS = "no_solutions"


class SolutionsConfig(StageConfig):
    batch_size: int = 16
    teacher: str = Field("default", description="name of the recipe's teacher to ask")
    samples: int = Field(8, ge=1, le=128, description="solutions asked per problem (K)")
    temperature: float = Field(0.8, ge=0, le=2)
    top_p: float = Field(0.95, gt=0, le=1)
    max_tokens: int = Field(768, gt=0)
    prompt_style: PromptStyle | None = Field(
        None,
        description="chat, chat_prefill or completion; default: chat_prefill when the teacher's template "
        "is known, completion when its endpoint is completion, else chat",
    )


def auto_style(config: TeacherConfig) -> PromptStyle:
    """The prompt style a teacher is asked in when none is set: the best its config allows."""
    if config.chat_template is not None:
        return PromptStyle.CHAT_PREFILL
    if config.endpoint == "completion":
        return PromptStyle.COMPLETION
    return PromptStyle.CHAT


def check_style(style: PromptStyle, template: ChatTemplate | None, teacher: str) -> None:
    """``chat_prefill`` needs the model's chat template: say so in one line rather than fail per request."""
    if style is PromptStyle.CHAT_PREFILL and template is None:
        raise UserError(
            f"teacher {teacher!r}: prompt style chat_prefill needs the model's chat_template in its config"
        )


_CODE_BLOCK = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def _defines(code: str, name: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in tree.body)


def code_prompt(prompt: str, entry_point: str) -> str:
    """The task's prompt as code to continue: the prompt itself when it is code defining the entry point
    (HumanEval), else the last code block of the prompt that defines it (a mined task's instruction shows the
    signature and docstring in one). The solving instruction puts it in a code block, and programs are
    built on it, so an instruction in prose around it would break both."""
    if _defines(prompt, entry_point):
        return prompt
    for block in reversed(_CODE_BLOCK.findall(prompt)):
        if _defines(block, entry_point):
            return block
    return prompt


def distinct_programs(
    prompt: str, entry_point: str, answers: list[str], style: PromptStyle
) -> tuple[list[tuple[int, str, int]], int]:
    """(first sample index, program, copies) per distinct program, in sample order; and how many answers
    gave no program."""
    first: dict[str, tuple[int, str]] = {}
    copies: Counter[str] = Counter()
    unparsable = 0
    for index, answer in enumerate(answers):
        code = program(prompt, code_of_answer(answer, style), entry_point, style)
        if code is None:
            unparsable += 1
            continue
        key = normalised(code)
        first.setdefault(key, (index, code))
        copies[key] += 1
    return [(index, code, copies[key]) for key, (index, code) in first.items()], unparsable


def asked_prompt(problem: Problem) -> str:
    """What the teacher is shown: the prompt as code when it is code (HumanEval: unchanged, so cached samples
    stay valid); a prompt in prose also names the function and, when a solution shows it, its signature (a
    small teacher's task may describe the function without naming it, and an answer under another name
    cannot be judged)."""
    task = problem.task
    prompt = code_prompt(task.prompt, task.entry_point)
    if _defines(prompt, task.entry_point):
        return prompt
    signature = next(
        (s for s in (_signature(c.code, task.entry_point) for c in [problem.reference, *problem.candidates] if c) if s),
        None,
    )
    name = f"`{signature}`" if signature else f"`{task.entry_point}`"
    return f"{prompt.rstrip()}\n\nWrite the function {name}."


def _signature(code: str, name: str) -> str | None:
    """``def name(params):`` of the function ``name`` in ``code``, or None."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
            return f"def {name}({ast.unparse(node.args)}){returns}:"
    return None


def style_for(problem: Problem, style: PromptStyle) -> PromptStyle:
    """``style``, unless the task's prompt is prose with no code defining the entry point: a continuation needs
    code to continue, so such a task is asked in ``chat``."""
    prompt = code_prompt(problem.task.prompt, problem.task.entry_point)
    return style if _defines(prompt, problem.task.entry_point) else PromptStyle.CHAT


def unsupported(problem: Problem) -> str:
    """Why solutions to the problem are not sampled here ("" when they are): programs are built as Python
    modules defining the entry point."""
    task = problem.task
    language = normalise_language(task.language)
    if task.style != Style.FUNCTION or language != "python":
        return f"synth.solutions samples Python function solutions; this is a {language} {task.style.value} task"
    return ""


class SampleSolutions(Stage[Problem, Problem]):
    """Ask a teacher for K solutions per problem; append the distinct ones as candidates."""

    kind = "synth.solutions"
    version = 3  # 2: a prose prompt names the function and its signature; 3: unsupported tasks dropped
    Config = SolutionsConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = SolutionsDrop
    config: SolutionsConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(teachers=(getattr(config, "teacher", "default"),))

    async def process(self, batch: list[Problem]) -> StageResult[Problem]:
        refused: StageResult[Problem] = StageResult()
        for problem in batch:
            why = unsupported(problem)
            if why:
                refused.drops.append(self.drop(problem, SolutionsDrop.UNSUPPORTED_TASK, why))
        batch = [problem for problem in batch if not unsupported(problem)]
        if not batch:
            return refused
        result = await self._sample(batch)
        result.drops[:0] = refused.drops
        return result

    async def _sample(self, batch: list[Problem]) -> StageResult[Problem]:
        cfg = self.config
        client = self.context.teacher(cfg.teacher)
        teacher_config: TeacherConfig = client.config
        style = cfg.prompt_style or auto_style(teacher_config)
        check_style(style, teacher_config.chat_template, cfg.teacher)
        styles = [style_for(problem, style) for problem in batch]
        requests = [
            solution_request(
                asked_prompt(problem),
                problem_style,
                template=teacher_config.chat_template,
                n=cfg.samples,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
                max_tokens=cfg.max_tokens,
                stage=self.name,
                tag=problem.id,
            )
            for problem, problem_style in zip(batch, styles, strict=True)
        ]
        responses = await client.run_many(requests)
        # building programs is stage code (ast): it runs under the run's Python lock, off the event loop
        return await self.context.services.in_python(
            self._candidates, batch, responses, styles, teacher_config.model
        )

    def _candidates(
        self, batch: list[Problem], responses: list[Any], styles: list[PromptStyle], model: str
    ) -> StageResult[Problem]:
        result: StageResult[Problem] = StageResult()
        for problem, response, style in zip(batch, responses, styles, strict=True):
            if not response.ok:
                detail = f"{response.failure}: {response.detail}"
                result.drops.append(self.drop(problem, SolutionsDrop.CALL_FAILED, detail))
                continue
            task = problem.task
            answers = [completion.text for completion in response.completions]
            prompt = code_prompt(task.prompt, task.entry_point)
            found, unparsable = distinct_programs(prompt, task.entry_point, answers, style)
            if unparsable:
                log.info(
                    "%s: %s: %d of %d answers gave no program",
                    self.name,
                    task.entry_point,
                    unparsable,
                    len(answers),
                )
            if not found:
                detail = f"unparsable {unparsable} of {len(answers)} answers"
                if answers:
                    detail += "\n--- first answer ---\n" + answers[0][:1500]
                result.drops.append(self.drop(problem, SolutionsDrop.NO_SOLUTIONS, detail))
                continue
            known = {c.id for c in problem.candidates}
            candidates = [
                Solution(
                    task_id=task.id,
                    language=task.language,
                    code=code,
                    role=SolutionRole.CANDIDATE,
                    author=Author(
                        kind=AuthorKind.TEACHER, name=self.config.teacher, model=model, sample=index
                    ),
                    copies=count,
                )
                for index, code, count in found
            ]
            new = [c for c in candidates if c.id not in known]
            result.records.append(problem.model_copy(update={"candidates": [*problem.candidates, *new]}))
        return result
