"""Stdio tasks and tasks in other languages export as they were judged: stdin and stdout texts, fences named
by the canonical language, and how the reward compares outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codefoundry.export import export_run
from codefoundry.export.preference import preference_rows
from codefoundry.export.rl import rl_row
from codefoundry.export.sft import sft_row
from codefoundry.filter.dedup import OnePerTask, OnePerTaskConfig
from codefoundry.pipeline.plan import PlannedStage
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import ExportConfig
from codefoundry.records import (
    CandidateVerdicts,
    MutationReport,
    Problem,
    ProblemReports,
    Provenance,
    Solution,
    SolutionRole,
    Style,
    Task,
    TestCase,
)

FINAL = PlannedStage(0, "00-x", OnePerTask, OnePerTaskConfig(kind="filter.dedup"), "f" * 16)
CODE = {
    "python": "print(sum(map(int, input().split())))",
    "javascript": "console.log(1)",
    "c++": "int main() {}",
    "java": "public class Main { public static void main(String[] a) {} }",
    "rs": "fn main() {}",
    "golang": "package main\nfunc main() {}",
}
FENCES = {"python": "python", "javascript": "javascript", "c++": "cpp", "java": "java", "rs": "rust", "golang": "go"}


def _stdio(language: str, code: str) -> Problem:
    task = Task(prompt=f"Add two numbers ({language}).", style=Style.STDIO, language=language, provenance=Provenance(source="test"))
    tests = [TestCase(task_id=task.id, stdin="1 2\n", expected="3\n"), TestCase(task_id=task.id, stdin="", expected="0\n")]
    wrong = Solution(task_id=task.id, language=language, code=code + "\n// wrong", role=SolutionRole.CANDIDATE)
    return Problem(
        task=task,
        reference=Solution(task_id=task.id, language=language, code=code),
        candidates=[wrong],
        candidate_verdicts=[CandidateVerdicts(solution_id=wrong.id, verdicts={tests[0].id: "wrong_answer"})],
        tests=tests,
        reports=ProblemReports(mutation=MutationReport(skipped=f"no mutation operators for {language}")),
    )  # fmt: skip


@pytest.mark.parametrize("language", list(CODE))
def test_answers_are_fenced_in_the_tasks_language(language: str) -> None:
    problem = _stdio(language, CODE[language])
    fence = FENCES[language]
    sft = sft_row(problem)
    assert sft["messages"][1]["content"] == f"```{fence}\n{CODE[language]}\n```"
    assert (sft["language"], sft["style"], sft["mutation_score"]) == (fence, "stdio", None)
    (pair,) = preference_rows(problem, max_pairs=1)
    assert pair["chosen"].startswith(f"```{fence}\n") and pair["rejected"].startswith(f"```{fence}\n")
    assert pair["language"] == fence


def test_rl_tests_of_a_stdio_task_are_stdin_and_stdout_texts() -> None:
    row = rl_row(_stdio("c++", CODE["c++"]))
    assert (row["language"], row["style"], row["entry_point"], row["compare"]) == ("cpp", "stdio", "", "float")
    assert [(json.loads(t["input"]), json.loads(t["expected"])) for t in row["tests"]] == [("1 2\n", "3\n"), ("", "0\n")]


def test_rl_compare_of_function_and_checker_tasks() -> None:
    task = Task(prompt="def f(x): ...", entry_point="f", provenance=Provenance(source="test"))
    problem = Problem(task=task, tests=[TestCase(task_id=task.id, args=[1], expected=2)])
    assert rl_row(problem)["compare"] == "exact"
    assert json.loads(rl_row(problem)["tests"][0]["input"]) == [1]
    assert rl_row(problem.model_copy(update={"checker": "def check(i, o, e): return True"}))["compare"] == "checker"


def test_stdio_tasks_load_from_both_formats(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    run_dir = RunDir(tmp_path)
    run_dir.create()
    problems = [_stdio(language, code) for language, code in CODE.items()]
    run_dir.commit_batch(FINAL.name, 0, "k", problems, [], 0.0, FINAL.fingerprint)
    export_run(run_dir, FINAL, ExportConfig())
    for name in ("sft", "rl", "preference"):
        from_json = datasets.load_dataset("json", data_files=str(run_dir.export_dir / f"{name}.jsonl"), split="train")
        from_parquet = datasets.load_dataset("parquet", data_files=str(run_dir.export_dir / f"{name}.parquet"), split="train")
        assert len(from_json) == len(from_parquet) == len(CODE)
    rl = datasets.load_dataset("parquet", data_files=str(run_dir.export_dir / "rl.parquet"), split="train")
    assert sorted(rl["language"]) == sorted(FENCES.values())
    assert json.loads(rl[0]["tests"][0]["input"]) == "1 2\n" and rl[0]["style"] == "stdio"
