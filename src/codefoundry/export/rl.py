"""RL task packs: a prompt plus the tests an execution reward is computed from."""

from __future__ import annotations

import json
from typing import Any

from codefoundry.export.sft import provenance_fields
from codefoundry.records import Problem, TestCase


def _test_row(test: TestCase) -> dict[str, Any]:
    return {
        "id": test.id,
        "input": json.dumps(test.args if test.args is not None else test.stdin),
        "expected": json.dumps(test.expected),
        "split": test.split.value,
        "origin": test.origin.value,
    }


def rl_row(problem: Problem) -> dict[str, Any]:
    """One RL record. ``input``/``expected`` are JSON text (args list for function tasks, stdin for stdio)."""
    task = problem.task
    return {
        "id": problem.id,
        "task_id": task.id,
        "prompt": task.prompt,
        "language": task.language,
        "style": task.style,
        "entry_point": task.entry_point,
        # true: each expected value is [return value, [arguments after the call]] (in-place functions)
        "observe_args": task.observe_args,
        "tests": [_test_row(t) for t in problem.tests],
        # the smallest sub-suite rejecting every mutant and wrong sample the full suite rejects (verify.reduce);
        # empty when the run did not reduce the suite
        "reduced_test_ids": list(problem.reports.suite.reduced_test_ids) if problem.reports.suite else [],
        # Python source of check(input, output, expected) -> bool for tasks with several right outputs: the
        # reward must call it (in a sandbox) instead of comparing with ``expected``; empty when exact
        "checker": problem.checker or "",
        # how often the sampled model solved it (a vote's pass rate), when known
        "difficulty": problem.reports.vote.difficulty.value if problem.reports.vote else "",
        **provenance_fields(task.provenance),
        "mutation_score": problem.mutation_score,
    }
