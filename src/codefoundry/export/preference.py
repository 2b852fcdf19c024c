"""Preference pairs for DPO-style training: a solution that passes against one of the same task that fails.

Rows are in the *standard* preference format of TRL's ``DPOTrainer`` (TRL's dataset-format guide names two
formats, "standard" plain strings and "conversational" message lists, and the trainer reads both): ``prompt``
is the task's prompt and ``chosen`` / ``rejected`` are the two answers as plain text, each the solution in one
fenced code block, exactly like the assistant turn of the SFT export (so a conversational copy is
``[{"role": "user", "content": prompt}]`` / ``[{"role": "assistant", "content": chosen}]``). Metadata columns
follow the other exports: ids, difficulty when a vote graded it, and provenance (source, package, version,
licence; paths are relative to the corpus root, never of the build machine).

A pair's chosen side is the reference or a candidate whose every verdict is ``pass``; its rejected side a
candidate (not the reference) with any other verdict. Common mistakes come first (more copies), then ids:
at most ``max_pairs_per_task`` distinct pairs per task, the same ones on every run.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from codefoundry.export.sft import fenced, provenance_fields
from codefoundry.records import Problem, Solution, content_hash
from codefoundry.sandbox.languages import normalise_language
from codefoundry.verify.reduce import wrong_candidates

MAX_PAIRS_PER_TASK = 4


def passing_candidates(problem: Problem) -> list[Solution]:
    """Candidates with verdicts, every one of them ``pass``."""
    passing = {
        cv.solution_id
        for cv in problem.candidate_verdicts
        if cv.verdicts and all(v == "pass" for v in cv.verdicts.values())
    }
    return [s for s in problem.candidates if s.id in passing]


def preference_pairs(
    problem: Problem, max_pairs: int = MAX_PAIRS_PER_TASK
) -> list[tuple[Solution, Solution]]:
    """(chosen, rejected) pairs: the reference first, then passing candidates, against failing candidates."""
    rejected = sorted(wrong_candidates(problem), key=lambda s: (-s.copies, s.id))
    chosen = sorted(passing_candidates(problem), key=lambda s: (-s.copies, s.id))
    if problem.reference is not None:
        chosen = [problem.reference, *(s for s in chosen if s.code != problem.reference.code)]
    bad = {s.id for s in rejected}
    chosen = [s for s in chosen if s.id not in bad]
    if not chosen or not rejected:
        return []
    count = min(max_pairs, len(chosen) * len(rejected))
    # k -> (chosen k // len(rejected), rejected k % len(rejected)): every pair distinct, failures spread first
    return [(chosen[k // len(rejected)], rejected[k % len(rejected)]) for k in range(count)]


def _failure(problem: Problem, solution: Solution) -> str:
    """The most frequent non-pass verdict of a rejected solution (ties: alphabetical)."""
    statuses: Counter[str] = Counter()
    for cv in problem.candidate_verdicts:
        if cv.solution_id == solution.id:
            statuses.update(v for v in cv.verdicts.values() if v != "pass")
    return min(statuses, key=lambda s: (-statuses[s], s)) if statuses else ""


def preference_rows(problem: Problem, max_pairs: int = MAX_PAIRS_PER_TASK) -> list[dict[str, Any]]:
    """The preference rows of one problem (none without both a passing and a failing solution)."""
    task = problem.task
    vote = problem.reports.vote
    rows = []
    for chosen, rejected in preference_pairs(problem, max_pairs):
        rows.append(
            {
                "id": content_hash([problem.id, chosen.id, rejected.id]),
                "task_id": task.id,
                "prompt": task.prompt,
                "chosen": fenced(task.language, chosen.code),
                "rejected": fenced(task.language, rejected.code),
                "language": normalise_language(task.language),
                "chosen_id": chosen.id,
                "chosen_role": chosen.role.value,
                "rejected_id": rejected.id,
                "rejected_failure": _failure(problem, rejected),
                "rejected_copies": rejected.copies,
                "difficulty": vote.difficulty.value if vote is not None else None,
                **provenance_fields(task.provenance),
            }
        )
    return rows
