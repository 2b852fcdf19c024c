"""``filter.near_dedup``: exact and near duplicates under three views, one best problem kept per cluster."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from codefoundry.filter.near_dedup import NearDedup, NearDedupConfig
from codefoundry.filter.shingles import View, canonical_code
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.runner import run_recipe
from codefoundry.pipeline.services import Services
from codefoundry.pipeline.stage import StageContext, StageResult
from codefoundry.recipe import recipe_from_dict
from codefoundry.records import Problem, Provenance, Solution, Task, TestCase

LONG = (
    "Write a function that reads a list of transactions, each a pair of an account name and an amount in "
    "cents, and returns the final balance of every account as a dictionary. Accounts that never appear get "
    "no entry. Negative amounts are withdrawals and a withdrawal that would take an account below zero is "
    "ignored entirely, leaving that balance unchanged. The transactions must be applied strictly in the "
    "order given, and the input list must not be modified in any way by the function."
)
CODE = """def balances(transactions):
    result = {}
    for name, amount in transactions:
        current = result.get(name, 0)
        if current + amount < 0:
            continue
        result[name] = current + amount
    return result
"""
RENAMED = """def final_balances(txs):
    out = {}
    for acct, cents in txs:
        bal = out.get(acct, 0)
        if bal + cents < 0:
            continue
        out[acct] = bal + cents
    return out
"""


def _problem(prompt: str, code: str | None = None, tests: int = 1, score: float | None = None) -> Problem:
    task = Task(prompt=prompt, entry_point="f", provenance=Provenance(source="t"))
    return Problem(
        task=task,
        reference=Solution(task_id=task.id, code=code) if code else None,
        tests=[TestCase(task_id=task.id, args=[n], expected=n) for n in range(tests)],
        mutation_score=score,
    )


def _run(problems: list[Problem], **config: object) -> StageResult[Problem]:
    stage = NearDedup(NearDedupConfig(**config), StageContext(Services(Path(".")), "07-filter.near_dedup"))
    return asyncio.run(stage.process_all(problems))


def test_renamed_identifiers_are_caught_by_the_code_shape_and_not_by_the_code_itself() -> None:
    assert canonical_code(CODE) == canonical_code(RENAMED)
    first = _problem("Compute account balances from a list of transactions.", CODE)
    second = _problem("Given deposits and withdrawals per user, total them up, skipping overdrafts.", RENAMED)
    assert len(_run([first, second], views=[View.SOLUTION]).records) == 2
    result = _run([first, second], views=[View.CODE_AST])
    assert [p.id for p in result.records] == [first.id]
    (drop,) = result.drops
    assert (drop.reason, drop.record_id, drop.stage) == ("exact_duplicate", second.id, "07-filter.near_dedup")
    assert first.id in drop.detail and "code_ast 1.000" in drop.detail


def test_a_slightly_reworded_prompt_is_a_near_duplicate_and_an_exact_copy_an_exact_one() -> None:
    original = _problem(LONG)
    reworded = _problem(LONG.replace("strictly", "exactly"))
    copied = _problem("  " + LONG.upper().replace(" ", "   \n"))
    result = _run([original, reworded, copied])
    assert [p.id for p in result.records] == [original.id]
    drops = {d.record_id: d for d in result.drops}
    assert drops[reworded.id].reason == "near_duplicate" and drops[copied.id].reason == "exact_duplicate"
    assert all(original.id in d.detail for d in drops.values())
    assert "instruction 0." in drops[reworded.id].detail  # the view and a similarity below 1


def test_different_problems_all_stay() -> None:
    problems = [
        _problem(LONG, CODE),
        _problem(
            "Return the n-th Fibonacci number, counting from fib(0) = 0.",
            "def f(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
        ),
        _problem(
            "Reverse the words of a sentence, keeping single spaces.",
            "def f(s):\n    return ' '.join(reversed(s.split()))\n",
        ),
        _problem(
            "Count the vowels of a string, upper or lower case.",
            "def f(s):\n    return sum(c in 'aeiouAEIOU' for c in s)\n",
        ),
    ]
    result = _run(problems)
    assert [p.id for p in result.records] == [p.id for p in problems] and not result.drops


def test_the_best_member_is_kept_more_tests_before_input_order_then_mutation_score() -> None:
    weak = _problem(LONG, CODE, tests=1, score=0.9)
    strong = _problem(LONG + " ", RENAMED, tests=3, score=None)  # later, but more tests
    result = _run([weak, strong])
    assert [p.id for p in result.records] == [strong.id]
    assert strong.id in result.drops[0].detail and result.drops[0].record_id == weak.id
    low, high, none = (
        _problem(LONG + "!" * i, CODE, tests=2, score=s) for i, s in enumerate((0.5, 0.8, None))
    )
    assert [p.id for p in _run([low, none, high]).records] == [high.id]
    bare, with_reference = _problem(LONG), _problem(LONG + ".", CODE)
    assert [p.id for p in _run([bare, with_reference]).records] == [with_reference.id]


def test_the_same_input_gives_the_same_output() -> None:
    problems = [
        _problem(LONG, CODE),
        _problem(LONG.replace("cents", "pennies"), RENAMED),
        _problem("Other.", CODE),
    ]
    first, second = _run(problems), _run(list(problems))
    assert [p.id for p in first.records] == [p.id for p in second.records]
    assert [(d.record_id, d.reason, d.detail) for d in first.drops] == [
        (d.record_id, d.reason, d.detail) for d in second.drops
    ]


def test_a_recipe_runs_the_stage_after_a_source(tmp_path: Path) -> None:
    rows = [
        {"task_id": "a", "prompt": f'def f(x):\n    """{LONG}"""\n', "entry_point": "f"},
        {
            "task_id": "b",
            "prompt": f'def f(x):\n    """{LONG.replace("cents", "pennies")}"""\n',
            "entry_point": "f",
            "test": "def check(candidate):\n    assert candidate(1) == 2\n",
        },
        {"task_id": "c", "prompt": 'def g(s):\n    """Reverse a string."""\n', "entry_point": "g"},
    ]
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("\n".join(json.dumps(row) for row in rows))
    recipe = recipe_from_dict(
        {
            "name": "near",
            "stages": [{"kind": "read.tasks", "path": str(tasks)}, {"kind": "filter.near_dedup"}],
        }
    )
    run_recipe(recipe, tmp_path / "run")
    stage = plan(recipe)[1]
    run = RunDir(tmp_path / "run")
    kept = [r["task"]["provenance"]["qualname"] for r in run.iter_records(stage.name, stage.fingerprint)]
    assert kept == ["b", "c"]  # "b" has a given test, so it wins over the earlier "a"
    (drop,) = run.iter_drops(stage.name, stage.fingerprint)
    assert drop.reason == "near_duplicate" and drop.record["task"]["provenance"]["qualname"] == "a"
