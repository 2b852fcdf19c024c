"""Preference pairs (TRL's standard DPO format) and the reduced suite in the RL export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codefoundry.export import export_run
from codefoundry.export.preference import preference_pairs, preference_rows
from codefoundry.export.rl import rl_row
from codefoundry.filter.dedup import OnePerTask, OnePerTaskConfig
from codefoundry.pipeline.plan import PlannedStage
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import ExportConfig
from codefoundry.records import (
    CandidateVerdicts,
    Difficulty,
    Problem,
    ProblemReports,
    Provenance,
    Solution,
    SolutionRole,
    SuiteReport,
    Task,
    TestCase,
    VoteReport,
)

FINAL = PlannedStage(0, "00-x", OnePerTask, OnePerTaskConfig(kind="filter.dedup"), "f" * 16)


def _problem(name: str = "inc", wrong: int = 2, right: int = 1) -> Problem:
    task = Task(
        prompt=f'def {name}(x: int) -> int:\n    """x plus one."""\n',
        entry_point=name,
        provenance=Provenance(source="package:demo", path="demo/m.py", qualname=name, package="demo", version="1.0", licence="MIT"),
    )  # fmt: skip
    tests = [TestCase(task_id=task.id, args=[i], expected=i + 1) for i in range(3)]
    reference = Solution(task_id=task.id, code=f"def {name}(x):\n    return x + 1\n")
    candidates, verdicts = [], []
    for i in range(right):
        solution = Solution(task_id=task.id, code=f"def {name}(x):\n    return {i} + x + 1\n" if i else f"def {name}(x):\n    return 1 + x\n", role=SolutionRole.CANDIDATE)  # fmt: skip
        candidates.append(solution)
        verdicts.append(CandidateVerdicts(solution_id=solution.id, verdicts={t.id: "pass" for t in tests}))
    for i in range(wrong):
        solution = Solution(task_id=task.id, code=f"def {name}(x):\n    return x + {i + 2}\n", role=SolutionRole.CANDIDATE, copies=i + 1)  # fmt: skip
        candidates.append(solution)
        outcome = {
            tests[0].id: "pass",
            tests[1].id: "wrong_answer",
            tests[2].id: "timeout" if i else "wrong_answer",
        }
        verdicts.append(CandidateVerdicts(solution_id=solution.id, verdicts=outcome))
    return Problem(
        task=task, reference=reference, tests=tests, candidates=candidates, candidate_verdicts=verdicts
    )


def test_pairs_put_passing_against_failing() -> None:
    problem = _problem(wrong=2, right=1)
    pairs = preference_pairs(problem)
    assert len(pairs) == 4  # 2 chosen (reference, passing candidate) x 2 rejected
    assert len({(c.id, r.id) for c, r in pairs}) == 4
    assert pairs[0][0] == problem.reference
    assert all("x + 1" in c.code or "1 + x" in c.code for c, _ in pairs)
    assert all(r.code.split("return ")[1].strip() in ("x + 2", "x + 3") for _, r in pairs)
    assert pairs[0][1].copies == 2  # the commonest mistake first
    assert len(preference_pairs(problem, max_pairs=3)) == 3
    assert preference_pairs(problem) == preference_pairs(problem.model_copy(deep=True))


def test_no_pair_without_a_failing_candidate() -> None:
    assert preference_pairs(_problem(wrong=0, right=2)) == []
    assert preference_rows(_problem(wrong=0, right=0)) == []


def test_reference_only_as_chosen_side() -> None:
    problem = _problem(wrong=1, right=0)
    ((chosen, rejected),) = preference_pairs(problem)
    assert chosen.role == SolutionRole.REFERENCE and rejected.role == SolutionRole.CANDIDATE


def test_rows_carry_metadata() -> None:
    problem = _problem().model_copy(
        update={"reports": ProblemReports(vote=VoteReport(
            samples=4, distinct=3, voters=4, inputs=3, decided=3, chosen_cluster=2, holdout_passed=1, holdout_total=1,
            passing=2, pass_rate=0.5, difficulty=Difficulty.MEDIUM, confidence=0.5,
        ))}
    )  # fmt: skip
    row = preference_rows(problem)[0]
    assert row["prompt"] == problem.task.prompt
    assert row["chosen"].startswith("```python\n") and row["chosen"].endswith("\n```")
    assert row["difficulty"] == "medium"
    assert row["rejected_failure"] in ("wrong_answer", "timeout")
    assert (row["source"], row["package"], row["licence"]) == ("package:demo", "demo", "MIT")


def test_rl_export_carries_the_reduced_suite() -> None:
    problem = _problem()
    assert rl_row(problem)["reduced_test_ids"] == []
    reduced = problem.model_copy(
        update={"reports": ProblemReports(suite=SuiteReport(reduced_test_ids=[problem.tests[1].id]))}
    )
    assert rl_row(reduced)["reduced_test_ids"] == [problem.tests[1].id]


def _export(tmp_path: Path, config: ExportConfig) -> Path:
    run_dir = RunDir(tmp_path)
    run_dir.create()
    problems = [_problem("inc"), _problem("succ", wrong=1, right=0), _problem("plus", wrong=0)]
    run_dir.commit_batch(FINAL.name, 0, "k", problems, [], 0.0, FINAL.fingerprint)
    export_run(run_dir, FINAL, config)
    return run_dir.export_dir


def test_file_reads_back_without_absolute_paths(tmp_path: Path) -> None:
    exported = _export(tmp_path, ExportConfig())
    text = (exported / "preference.jsonl").read_text()
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 4 + 1  # inc: 4 pairs, succ: 1, plus: none
    assert all({"prompt", "chosen", "rejected"} <= set(row) for row in rows)
    assert all(isinstance(row[k], str) for row in rows for k in ("prompt", "chosen", "rejected"))
    assert str(tmp_path) not in text and "/root" not in text and "/home" not in text
    assert not any(str(value).startswith("/") for row in rows for value in row.values())
    datasets = pytest.importorskip("datasets")
    table = datasets.load_dataset("parquet", data_files=str(exported / "preference.parquet"), split="train")
    assert len(table) == 5 and table[0]["chosen"] == rows[0]["chosen"]


def test_preference_export_can_be_switched_off(tmp_path: Path) -> None:
    exported = _export(tmp_path, ExportConfig(preference=False))
    assert not (exported / "preference.jsonl").exists() and (exported / "sft.jsonl").exists()
