"""Verification by agreement: a teacher's solution runs in the sandbox on its own test inputs, and a test is
kept only where the solution's output equals the teacher's expected output.

A reusable step for teacher synthesizers whose tasks come with one solution and its tests (OSS-Instruct,
textbook exercises, instructions implemented by ``synth.implement``), in any language the sandbox runs: a
function task's tests are argument lists and return values, a stdio task's are stdin and stdout texts
(compared token by token, numbers within a tolerance). Nothing the teacher says is trusted: the outputs are collected in the sandbox (the expected values
never reach the child) and compared here. Tasks with no oracle at all get K solutions and voting instead
(the verification stages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codefoundry.judge import requests
from codefoundry.judge.codec import NotPlain, decode, encode
from codefoundry.judge.split import split
from codefoundry.pipeline.stage import StageContext
from codefoundry.records import AgreementReport, Problem, Style, TestCase, TestOrigin
from codefoundry.sandbox.api import ExecRequest, ExecResult, Limits


@dataclass(frozen=True)
class AgreementRule:
    """How much agreement makes a task: a share of the teacher's tests, and a number of kept tests."""

    min_agreement: float
    min_tests: int
    holdout_fraction: float
    limits: Limits


@dataclass(frozen=True)
class Draft:
    """A teacher's task with its one solution (``problem.reference``) and its tests (inputs + expected):
    argument lists and values for a function task, stdin and stdout texts for a stdio task."""

    problem: Problem
    inputs: list[list[Any]]
    expected: list[Any]


@dataclass(frozen=True)
class Disagreement:
    """Why a draft is not a task: ``solution_failed``, ``tests_disagree`` or ``too_few_tests``."""

    problem: Problem
    reason: str
    detail: str


def stored_inputs(draft: Draft) -> list[Any]:
    """The teacher's argument lists in the stored (tagged) form (stdin texts as they are), or None where one
    is not plain data (or not text)."""
    if draft.problem.task.style == Style.STDIO:
        return [text if isinstance(text, str) else None for text in draft.inputs]
    out: list[Any] = []
    for args in draft.inputs:
        try:
            out.append(encode(args))
        except (NotPlain, ValueError, TypeError):
            out.append(None)
    return out


def collect_request(draft: Draft, stored: list[Any], limits: Limits) -> ExecRequest:
    """Collect the solution's outputs on the draft's plain inputs (``stored``); expected values stay here."""
    inputs = [args for args in stored if args is not None]
    return requests.collect_request(draft.problem, inputs, limits)


def judge(draft: Draft, stored: list[Any], execution: ExecResult, rule: AgreementRule) -> Problem | Disagreement:
    """The task with its agreeing tests split visible/holdout, or why it was not kept."""
    from codefoundry.sandbox.compare import plain_equal, text_equal

    problem = draft.problem
    task_id = problem.task.id
    if execution.status in ("compile_error", "sandbox_error") or not any(
        v.status == "ok" for v in execution.verdicts
    ):
        errors = sorted({v.error for v in execution.verdicts if v.error})[:3]
        detail = f"{execution.status}: {'; '.join(errors) or execution.stderr[:500]}"
        return Disagreement(problem, "solution_failed", detail)
    agreed: list[TestCase] = []
    plain = [(args, expected) for args, expected in zip(stored, draft.expected, strict=True) if args is not None]
    for (args, expected), verdict in zip(plain, execution.verdicts, strict=False):
        if verdict.status != "ok":
            continue
        if problem.task.style == Style.STDIO:
            output = verdict.output
            if isinstance(expected, str) and isinstance(output, str) and text_equal(output, expected, "float", 1e-6, 1e-9):
                agreed.append(TestCase(task_id=task_id, stdin=args, expected=output, origin=TestOrigin.TEACHER))
            continue
        if plain_equal(verdict.output, expected, 1e-6, 1e-9):
            try:
                output = encode(decode(verdict.output))  # the stored form, as labelling stores it
            except (NotPlain, ValueError, TypeError):
                continue
            agreed.append(TestCase(task_id=task_id, args=args, expected=output, origin=TestOrigin.TEACHER))
    total = len(draft.inputs)
    detail = f"{len(agreed)}/{total} teacher tests agree with the teacher's solution"
    if len(agreed) / total < rule.min_agreement:
        return Disagreement(problem, "tests_disagree", detail)
    unique = list({t.id: t for t in agreed}.values())
    if len(unique) < rule.min_tests:
        return Disagreement(problem, "too_few_tests", detail)
    reports = problem.reports.model_copy(update={"agreement": AgreementReport(agreeing=len(agreed), total=total)})
    return problem.model_copy(update={"tests": split(unique, rule.holdout_fraction), "reports": reports})


async def verify_drafts(
    context: StageContext, drafts: list[Draft], rule: AgreementRule
) -> list[Problem | Disagreement]:
    """Every draft judged by agreement, with one sandbox call for all of them; results in draft order."""
    stored = [stored_inputs(d) for d in drafts]
    executions = await context.run_sandbox([collect_request(d, s, rule.limits) for d, s in zip(drafts, stored, strict=True)])
    return [judge(d, s, e, rule) for d, s, e in zip(drafts, stored, executions, strict=True)]
