"""RL task packs: a prompt plus the tests an execution reward is computed from."""

from __future__ import annotations

import json
from typing import Any

from codefoundry.export.sft import provenance_fields
from codefoundry.judge.requests import compare_for
from codefoundry.records import Problem, Style, Task, TestCase
from codefoundry.sandbox.languages import normalise_language


def _test_row(task: Task, test: TestCase) -> dict[str, Any]:
    stdio = task.style == Style.STDIO
    return {
        "id": test.id,
        "input": json.dumps((test.stdin or "") if stdio else test.args),
        "expected": json.dumps(test.expected),
        "split": test.split.value,
        "origin": test.origin.value,
    }


def rl_row(problem: Problem) -> dict[str, Any]:
    """One RL record. A test's ``input``/``expected`` are JSON text, one column type for every task: for a
    function task the argument list and the stored return value, for a stdio task the stdin text and the
    stdout text (``json.loads`` gives them back as they are). ``compare`` says how the reward compares an
    output with ``expected``, as the sandbox judged them: ``exact`` (stored values), ``float`` (stdout token
    by token, numbers within a relative 1e-6) or ``checker``."""
    task = problem.task
    return {
        "id": problem.id,
        "task_id": task.id,
        "prompt": task.prompt,
        "language": normalise_language(task.language),
        "style": task.style.value,
        "compare": compare_for(problem).mode,
        "entry_point": task.entry_point,
        # true: each expected value is [return value, [arguments after the call]] (in-place functions)
        "observe_args": task.observe_args,
        "tests": [_test_row(task, t) for t in problem.tests],
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
