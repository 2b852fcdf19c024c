"""Verification stages on stdio tasks in every sandbox language, with real sandbox runs (a language whose
toolchain is missing here is skipped with the reason)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codefoundry.pipeline.plan import PlannedStage
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.stage import StageContext
from codefoundry.pipeline.summary import summarize
from codefoundry.records import CandidateVerdicts, Problem, Provenance, Solution, Split, Style, Task, TestCase
from codefoundry.sandbox import Sandbox
from codefoundry.sandbox.languages import get_language
from codefoundry.testing.stages import stage_context
from codefoundry.verify.candidates import VerifyCandidates
from codefoundry.verify.mutation import MutationGate
from codefoundry.verify.reduce import ReduceSuite
from codefoundry.verify.reference import VerifyReference

# Reads n, then n integers; prints their sum and their maximum on one line. WRONG prints the sum only.
SUM_MAX = {
    "python": (
        "import sys\n\ndef main():\n    data = sys.stdin.read().split()\n    n = int(data[0])\n"
        "    xs = [int(x) for x in data[1:1 + n]]\n    print(sum(xs), max(xs))\n\n"
        'if __name__ == "__main__":\n    main()\n'
    ),
    "javascript": (
        "const v = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
        "const xs = v.slice(1, 1 + v[0]);\nconsole.log(xs.reduce((a, b) => a + b, 0) + ' ' + Math.max(...xs));\n"
    ),
    "cpp": (
        "#include <iostream>\n#include <algorithm>\nint main() { long n, s = 0, m = -1000000000, x;\n"
        " std::cin >> n; for (long i = 0; i < n; i++) { std::cin >> x; s += x; m = std::max(m, x); }\n"
        ' std::cout << s << " " << m << std::endl; }\n'
    ),
    "java": (
        "import java.util.*;\npublic class Main { public static void main(String[] a) {\n"
        " Scanner in = new Scanner(System.in); int n = in.nextInt(); long s = 0, m = Long.MIN_VALUE;\n"
        " for (int i = 0; i < n; i++) { long x = in.nextLong(); s += x; m = Math.max(m, x); }\n"
        ' System.out.println(s + " " + m); } }\n'
    ),
    "rust": (
        "use std::io::Read;\nfn main() { let mut t = String::new(); std::io::stdin().read_to_string(&mut t).unwrap();\n"
        " let v: Vec<i64> = t.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        " let xs = &v[1..1 + v[0] as usize];\n"
        ' println!("{} {}", xs.iter().sum::<i64>(), xs.iter().max().unwrap()); }\n'
    ),
    "go": (
        'package main\nimport "fmt"\nfunc main() { var n int; fmt.Scan(&n); s, m := 0, -1000000000\n'
        " for i := 0; i < n; i++ { var x int; fmt.Scan(&x); s += x; if x > m { m = x } }\n"
        " fmt.Println(s, m) }\n"
    ),
}
WRONG = {
    "python": "import sys\ndata = sys.stdin.read().split()\nprint(sum(int(x) for x in data[1:]))\n",
    "javascript": SUM_MAX["javascript"].replace("+ ' ' + Math.max(...xs)", ""),
    "cpp": SUM_MAX["cpp"].replace('<< " " << m', ""),
    "java": SUM_MAX["java"].replace('s + " " + m', "s"),
    "rust": SUM_MAX["rust"].replace('"{} {}", xs.iter().sum::<i64>(), xs.iter().max().unwrap()', '"{}", xs.iter().sum::<i64>()'),
    "go": SUM_MAX["go"].replace("fmt.Println(s, m)", "fmt.Println(s)"),
}
CASES = [("3\n1 5 2\n", "8 5\n"), ("1\n-4\n", "-4 -4\n"), ("4\n7 7 0 1\n", "15 7\n")]


def need(language: str) -> None:
    found = get_language(language)
    assert found is not None
    ok, why = found.available()
    if not ok:
        pytest.skip(f"{language}: {why}")


def stdio_problem(language: str, code: str) -> Problem:
    task = Task(
        prompt="Read n and n integers; print their sum and their maximum.",
        style=Style.STDIO,
        language=language,
        provenance=Provenance(source="test", method="oss_instruct"),
    )
    tests = [
        TestCase(task_id=task.id, stdin=i, expected=o, split=Split.HOLDOUT if k == 2 else Split.VISIBLE)
        for k, (i, o) in enumerate(CASES)
    ]
    return Problem(task=task, reference=Solution(task_id=task.id, language=language, code=code), tests=tests)


@pytest.fixture(scope="module")
def context(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> StageContext:
    return stage_context(tmp_path_factory.mktemp("stdio"), sandbox)


@pytest.mark.parametrize("language", list(SUM_MAX))
def test_reference_judges_stdio_programs(context: StageContext, language: str) -> None:
    need(language)
    right, wrong = stdio_problem(language, SUM_MAX[language]), stdio_problem(language, WRONG[language])
    result = VerifyReference(VerifyReference.Config(), context).process_sync([right, wrong])
    assert [p.id for p in result.records] == [right.id]
    assert [(d.record_id, d.reason) for d in result.drops] == [(wrong.id, "reference_failed")]
    assert "wrong_answer" in result.drops[0].detail


def test_stdio_output_compared_by_tokens(context: StageContext) -> None:
    """Trailing spaces and a missing final newline are not wrong answers (stdio compares token by token)."""
    code = "import sys\nd = sys.stdin.read().split()\nxs = [int(x) for x in d[1:]]\nsys.stdout.write(f'{sum(xs)}  {max(xs)} ')\n"
    result = VerifyReference(VerifyReference.Config(), context).process_sync([stdio_problem("python", code)])
    assert len(result.records) == 1, [d.detail for d in result.drops]


def test_python_stdio_program_is_mutated_as_a_module(context: StageContext) -> None:
    problem = stdio_problem("python", SUM_MAX["python"])
    result = MutationGate(MutationGate.Config(min_score=0.0), context).process_sync([problem])
    (kept,) = result.records
    assert kept.mutants_total >= 3 and kept.mutation_score is not None
    assert kept.reports.mutation is not None and not kept.reports.mutation.skipped


@pytest.mark.parametrize("language", ["cpp", "go"])
def test_other_languages_pass_the_mutation_gate_unscored(context: StageContext, language: str) -> None:
    problem = stdio_problem(language, SUM_MAX[language])
    result = MutationGate(MutationGate.Config(min_score=0.99), context).process_sync([problem])
    assert not result.drops
    (kept,) = result.records
    assert kept.mutation_score is None and kept.mutants_total == 0
    assert kept.reports.mutation is not None
    assert kept.reports.mutation.skipped == f"no mutation operators for {language}"


def test_reduce_uses_wrong_candidates_for_other_languages(context: StageContext) -> None:
    need("cpp")
    problem = stdio_problem("cpp", SUM_MAX["cpp"])
    wrong = Solution(task_id=problem.task.id, language="cpp", code=WRONG["cpp"], role="candidate")
    verdicts = CandidateVerdicts(solution_id=wrong.id, verdicts={t.id: "wrong_answer" for t in problem.tests})
    problem = problem.model_copy(update={"candidates": [wrong], "candidate_verdicts": [verdicts]})
    (kept,) = ReduceSuite(ReduceSuite.Config(), context).process_sync([problem]).records
    suite = kept.reports.suite
    assert suite is not None and suite.mutants == 0
    assert suite.wrong_samples == 1 and suite.wrong_rejected == 1 and len(suite.reduced_test_ids) == 1


def test_summary_counts_unscored_problems_apart(context: StageContext, tmp_path: Path) -> None:
    problems = [stdio_problem(language, SUM_MAX[language]) for language in ("cpp", "go", "python")]
    result = MutationGate(MutationGate.Config(min_score=0.0), context).process_sync(problems)
    assert len(result.records) == 3
    final = PlannedStage(0, "00-verify.mutation", MutationGate, MutationGate.Config(kind="verify.mutation"), "f" * 16)
    run_dir = RunDir(tmp_path)
    run_dir.create()
    run_dir.commit_batch(final.name, 0, "k", result.records, [], 0.0, final.fingerprint)
    figures = summarize(run_dir, [final])["final"]
    assert figures["mutation_skipped"] == {"no mutation operators for cpp": 1, "no mutation operators for go": 1}
    assert len(figures["mutation_score"]["histogram"]) == 1  # the Python program's score alone


@pytest.mark.parametrize("language", ["cpp", "java"])
def test_candidates_of_a_stdio_task_are_judged_in_its_language(context: StageContext, language: str) -> None:
    need(language)
    problem = stdio_problem(language, SUM_MAX[language])
    right, wrong = (
        Solution(task_id=problem.task.id, language=language, code=code, role="candidate", copies=copies)
        for code, copies in ((SUM_MAX[language], 3), (WRONG[language], 1))
    )
    problem = problem.model_copy(update={"candidates": [right, wrong]})
    (kept,) = VerifyCandidates(VerifyCandidates.Config(), context).process_sync([problem]).records
    assert [c.id for c in kept.candidates] == [right.id]
    assert kept.reports.candidates is not None and kept.reports.candidates.pass_rate == 0.75
