"""What ``codefoundry verify`` reports per task, read back from its run directory.

One row per task of the user's file, in file order: the accepted solution or why there is none (the stage
and reason that dropped it, with the detail), the voted tests with their vote counts, every sample's verdict
(by the sample numbers of the user's file), the pass rate and difficulty, and the reduced suite. Plus a
summary of the whole file. Only task ids from the user's file and relative names appear: the files can be
shared.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from codefoundry.pipeline.plan import PlannedStage
from codefoundry.pipeline.rundir import RunDir
from codefoundry.records import Drop, Problem


def _votes_by_test(problem: Problem) -> dict[str, dict[str, int]]:
    vote = problem.reports.vote
    if vote is None:
        return {}
    return {v.test_id: {"top": v.top, "runner_up": v.runner_up, "valid": v.valid, "errors": v.errors} for v in vote.votes}


def _samples(problem: Problem) -> list[dict[str, Any]]:
    verdicts = {v.solution_id: v.verdicts for v in problem.candidate_verdicts}
    rows = []
    for candidate in problem.candidates:
        mine = verdicts.get(candidate.id, {})
        failing = sorted({status for status in mine.values() if status != "pass"})
        rows.append(
            {
                "sample": candidate.author.sample,
                "copies": candidate.copies,
                "passed": bool(mine) and not failing,
                "failed_tests": sum(status != "pass" for status in mine.values()),
                "statuses": failing,
                "chosen": problem.reference is not None and candidate.id == problem.reference.id,
            }
        )
    return rows


def accepted_row(problem: Problem) -> dict[str, Any]:
    """The row of a task whose solution was accepted."""
    votes = _votes_by_test(problem)
    vote = problem.reports.vote
    suite = problem.reports.suite
    return {
        "task_id": problem.task.provenance.qualname,
        "accepted": True,
        "solution": problem.reference.code if problem.reference else None,
        "tests": [
            {
                "id": t.id,
                "args": t.args,
                "expected": t.expected,
                "origin": t.origin.value,
                "split": t.split.value,
                "votes": votes.get(t.id),
            }
            for t in problem.tests
        ],
        "reduced_test_ids": suite.reduced_test_ids if suite else [],
        "samples": _samples(problem),
        "pass_rate": vote.pass_rate if vote else None,
        "difficulty": vote.difficulty.value if vote else None,
        "confidence": vote.confidence if vote else None,
        "inputs": vote.inputs if vote else None,
        "decided": vote.decided if vote else None,
        "mutation_score": problem.mutation_score,
    }


def dropped_row(drop: Drop) -> dict[str, Any]:
    """The row of a task that was dropped: where, why, and the evidence the vote had gathered."""
    record = drop.record or {}
    task = record.get("task", {})
    vote = (record.get("reports") or {}).get("vote") or {}
    undecided = Counter(v["reason"] for v in vote.get("votes", []) if not v.get("decided"))
    return {
        "task_id": (task.get("provenance") or {}).get("qualname", drop.record_id),
        "accepted": False,
        "stage": drop.stage,
        "reason": drop.reason,
        "detail": drop.detail,
        "pass_rate": vote.get("pass_rate"),
        "inputs": vote.get("inputs"),
        "decided": vote.get("decided"),
        "undecided": dict(undecided),
    }


def verification_rows(run_dir: RunDir, planned: list[PlannedStage], order: list[str]) -> list[dict[str, Any]]:
    """One row per task id of ``order``: accepted from the final stage, else the drop that removed it."""
    final = planned[-1]
    rows: dict[str, dict[str, Any]] = {}
    for raw in run_dir.iter_records(final.name, final.fingerprint):
        problem = Problem.model_validate(raw)
        rows[problem.task.provenance.qualname] = accepted_row(problem)
    for stage in planned:
        for drop in run_dir.iter_drops(stage.name, stage.fingerprint):
            row = dropped_row(drop)
            rows.setdefault(row["task_id"], row)
    return [rows.get(task_id, {"task_id": task_id, "accepted": False, "reason": "missing"}) for task_id in order]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over the file: accepted, dropped by reason, tests per accepted task, pass rate, difficulty."""
    accepted = [r for r in rows if r["accepted"]]
    rates = [r["pass_rate"] for r in accepted if r.get("pass_rate") is not None]
    return {
        "tasks": len(rows),
        "accepted": len(accepted),
        "dropped": dict(Counter(r["reason"] for r in rows if not r["accepted"])),
        "tests_per_accepted_task": round(sum(len(r["tests"]) for r in accepted) / len(accepted), 2) if accepted else 0,
        "reduced_tests_per_accepted_task": round(sum(len(r["reduced_test_ids"]) for r in accepted) / len(accepted), 2)
        if accepted
        else 0,
        "mean_pass_rate": round(sum(rates) / len(rates), 4) if rates else None,
        "difficulty": dict(Counter(r["difficulty"] for r in accepted if r.get("difficulty"))),
    }
