"""``testgen.mined``: tests for mined problems, labelled by the reference itself in the sandbox.

Per batch, three rounds of sandbox requests, each sent with one ``run_many`` for the whole batch:
1. probing: type assignments for untyped parameters (``probe.py``);
2. labelling, first run: every candidate input (doctest calls, boundary values, hypothesis draws);
3. labelling, second run: the same inputs reversed in a perturbed child (``label.py``).
Inputs where the reference raises or times out are left out (the sandbox compares return values only, so an
expected exception cannot be judged); problems whose two runs disagree are dropped ``nondeterministic``.
The kept tests favour doctest inputs, then spread over distinct outputs (a suite of identical answers kills
no mutants), are capped, and split visible/holdout by test id.
"""

from __future__ import annotations

import ast
from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field

from codefoundry.judge.codec import dumps
from codefoundry.judge.requests import collect_request
from codefoundry.judge.split import split
from codefoundry.mine.checks import find_function
from codefoundry.pipeline.stage import Resources, StageConfig, StageResult, ThreadedStage
from codefoundry.records import Drop, Problem, TestCase, TestgenReport, TestOrigin
from codefoundry.sandbox.api import Limits
from codefoundry.testgen.doctests import doctest_calls
from codefoundry.testgen.inputs import (
    Candidate,
    Param,
    add,
    boundary_inputs,
    code_constants,
    hypothesis_inputs,
    parameters,
    shapes,
    unknown,
)
from codefoundry.testgen.label import compare_runs, outcomes
from codefoundry.testgen.probe import Assignment, assignments, best, probe_inputs, score

ORIGIN_RANK = {"doctest": 0, "boundary": 1, "probe": 2, "hypothesis": 3}


class MinedTestsDrop(StrEnum):
    NO_REFERENCE = "no_reference"
    SYNTAX_ERROR = "syntax_error"
    NO_FUNCTION = "no_function"
    NO_VALID_INPUTS = "no_valid_inputs"
    NONDETERMINISTIC = "nondeterministic"
    TOO_FEW_TESTS = "too_few_tests"
    CONSTANT_OUTPUT = "constant_output"
    TRIVIAL_OUTPUT = "trivial_output"


class BuildMinedTestsConfig(StageConfig):
    batch_size: int = 64
    min_tests: int = Field(5, ge=1, description="problems with fewer labelled tests are dropped")
    max_tests: int = Field(50, ge=1, description="cap on tests kept per problem")
    hypothesis_examples: int = Field(40, ge=0, description="hypothesis draws per argument shape")
    boundary_examples: int = Field(24, ge=0, description="boundary inputs per argument shape")
    max_probe_assignments: int = Field(10, ge=1, description="type assignments tried for untyped parameters")
    probe_examples: int = Field(12, ge=1, description="hypothesis draws per probed assignment")
    probe_min_ok: float = Field(
        0.1, ge=0, le=1, description="share of probe calls that must return plain data"
    )
    holdout_fraction: float = Field(1 / 3, ge=0, lt=1, description="share of tests held out (by test id)")
    max_input_chars: int = Field(400, gt=0, description="longest input (JSON text) kept as a test")
    max_output_chars: int = Field(2000, gt=0, description="longest expected output (JSON text) kept")
    per_test_time_s: float = Field(0.5, gt=0, description="per-input wall-clock limit while labelling")
    time_s: float = Field(20.0, gt=0, description="wall-clock limit for one labelling run")
    memory_mb: int = Field(512, gt=0)


@dataclass
class _Plan:
    """A problem ready for input generation: its parameters, doctest calls, function and code constants
    (computed once: probing and input generation both read them)."""

    problem: Problem
    params: list[Param]
    calls: list[list[Any]]
    function: ast.FunctionDef
    constants: dict[str, list[Any]]


class BuildMinedTests(ThreadedStage[Problem, Problem]):
    """Doctest, boundary and hypothesis inputs (types probed when unknown), labelled twice by the reference."""

    kind = "testgen.mined"
    Config = BuildMinedTestsConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = MinedTestsDrop
    config: BuildMinedTestsConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(sandbox_share=1.0, cpu_bound=True)

    def _limits(self) -> Limits:
        cfg = self.config
        return Limits(
            time_s=cfg.time_s, per_test_time_s=cfg.per_test_time_s, cpu_s=cfg.time_s, memory_mb=cfg.memory_mb
        )

    def process_batch(self, batch: list[Problem]) -> StageResult[Problem]:
        result: StageResult[Problem] = StageResult()
        plans: list[_Plan] = []
        for problem in batch:
            plan = self._plan(problem)
            if isinstance(plan, Drop):
                result.drops.append(plan)
            else:
                plans.append(plan)
        chosen, probe_errors = self._probe(plans)
        labelled_inputs: list[tuple[Problem, list[Candidate], dict[str, int], str]] = []
        for index, (plan, assignment) in enumerate(zip(plans, chosen, strict=True)):
            problem = plan.problem
            if assignment is None:
                names = ", ".join(p.name for p in unknown(plan.params))
                errors = ", ".join(f"{k} x{v}" for k, v in probe_errors[index].most_common(3))
                detail = f"no probed types work for: {names}; errors: {errors}"
                result.drops.append(self.drop(problem, MinedTestsDrop.NO_VALID_INPUTS, detail))
                continue
            typed = assignment.apply(plan.params) if assignment.types else plan.params
            candidates, counts = self._candidates(plan, typed)
            if not candidates:
                result.drops.append(
                    self.drop(problem, MinedTestsDrop.NO_VALID_INPUTS, "no plain-data inputs")
                )
                continue
            probed = ", ".join(f"{k}: {v}" for k, v in sorted(assignment.types.items()))
            labelled_inputs.append((problem, candidates, counts, probed))
        limits = self._limits()
        requests = []
        for problem, candidates, _counts, _probed in labelled_inputs:
            requests.append(collect_request(problem, [c.args for c in candidates], limits))
            requests.append(collect_request(problem, [c.args for c in candidates], limits, perturb=True))
        results = self.run_sandbox(requests)
        for index, (problem, candidates, counts, probed) in enumerate(labelled_inputs):
            first = outcomes(results[2 * index], len(candidates))
            second = outcomes(results[2 * index + 1], len(candidates), reversed_order=True)
            kept = self._finish(problem, candidates, counts, probed, first, second)
            if isinstance(kept, Drop):
                result.drops.append(kept)
            else:
                result.records.append(kept)
        return result

    # ------------------------------------------------------------------------------------------ steps
    def _plan(self, problem: Problem) -> _Plan | Drop:
        if problem.reference is None:
            return self.drop(problem, MinedTestsDrop.NO_REFERENCE)
        try:
            tree = ast.parse(problem.reference.code)
        except SyntaxError as exc:
            return self.drop(problem, MinedTestsDrop.SYNTAX_ERROR, str(exc))
        function = find_function(tree, problem.task.entry_point)
        if not isinstance(function, ast.FunctionDef):
            return self.drop(problem, MinedTestsDrop.NO_FUNCTION, problem.task.entry_point)
        docstring = ast.get_docstring(function) or ""
        calls = doctest_calls(docstring, function)
        return _Plan(problem, parameters(function, calls), calls, function, code_constants(function, tree))

    def _probe(self, plans: list[_Plan]) -> tuple[list[Assignment | None], list[Counter[str]]]:
        """The chosen assignment per problem (empty when nothing needs probing), and the errors the probes
        met (by exception type); one run_many for all."""
        cfg = self.config
        chosen: list[Assignment | None] = []
        errors: list[Counter[str]] = [Counter() for _ in plans]
        jobs: list[tuple[int, Assignment, list[Candidate]]] = []
        for index, plan in enumerate(plans):
            missing = unknown(plan.params)
            chosen.append(Assignment({}))
            if not missing:
                continue
            docstring = ast.get_docstring(plan.function) or ""
            for number, assignment in enumerate(assignments(missing, cfg.max_probe_assignments, docstring)):
                seed = _seed(plan.problem.id, 1000 + number)
                inputs = probe_inputs(
                    assignment.apply(plan.params),
                    seed,
                    cfg.probe_examples,
                    cfg.max_input_chars,
                    plan.constants,
                )
                if inputs:
                    jobs.append((index, assignment, inputs))
        if not jobs:
            return chosen, errors
        # one request per problem carries every assignment's inputs (one child, one load of the code, instead
        # of one per assignment); the whole-run limit grows with the number of assignments
        by_problem: dict[int, list[tuple[Assignment, list[Candidate]]]] = defaultdict(list)
        for index, assignment, inputs in jobs:
            by_problem[index].append((assignment, inputs))
        base = self._limits()
        requests = []
        for index, parts in by_problem.items():
            budget = base.time_s * len(parts)
            limits = base.model_copy(update={"time_s": budget, "cpu_s": budget})
            requests.append(
                collect_request(
                    plans[index].problem, [c.args for _a, inputs in parts for c in inputs], limits
                )
            )
        results = self.run_sandbox(requests)
        scored: dict[int, list[tuple[Assignment, float, int]]] = defaultdict(list)
        for (index, parts), res in zip(by_problem.items(), results, strict=True):
            seen_all = outcomes(res, sum(len(inputs) for _a, inputs in parts))
            start = 0
            for assignment, inputs in parts:  # each assignment's share of the one request, in order
                seen = seen_all[start : start + len(inputs)]
                start += len(inputs)
                ok, distinct = score(seen)
                scored[index].append((assignment, ok, distinct))
                errors[index].update(
                    o.error.split(":", 1)[0][:40] or o.status for o in seen if o.status != "ok"
                )
        for index, plan in enumerate(plans):
            if unknown(plan.params):
                chosen[index] = best(scored.get(index, []), cfg.probe_min_ok)
        return chosen, errors

    def _candidates(self, plan: _Plan, params: list[Param]) -> tuple[list[Candidate], dict[str, int]]:
        cfg = self.config
        constants = plan.constants
        found: dict[str, Candidate] = {}
        for args in plan.calls:
            add(found, args, "doctest", cfg.max_input_chars)
        generated_origin = "probe" if any(p.source == "probe" for p in params) else "hypothesis"
        for number, shape in enumerate(shapes(params)):
            for args in boundary_inputs(shape, cfg.boundary_examples, constants):
                add(found, args, "boundary", cfg.max_input_chars)
            for args in hypothesis_inputs(
                shape, cfg.hypothesis_examples, _seed(plan.problem.id, number), constants
            ):
                add(found, args, generated_origin, cfg.max_input_chars)
        candidates = list(found.values())
        counts: dict[str, int] = defaultdict(int)
        for candidate in candidates:
            counts[candidate.origin] += 1
        return candidates, dict(counts)

    def _finish(
        self,
        problem: Problem,
        candidates: list[Candidate],
        counts: dict[str, int],
        probed: str,
        first: list,
        second: list,
    ) -> Problem | Drop:
        cfg = self.config
        labelled = compare_runs(candidates, first, second)
        if labelled.disagreement:
            return self.drop(problem, MinedTestsDrop.NONDETERMINISTIC, labelled.disagreement)
        usable = [(c, out, t) for c, out, t in labelled.tests if len(dumps(out)) <= cfg.max_output_chars]
        errors = ", ".join(f"{k} x{v}" for k, v in sorted(labelled.errors.items(), key=lambda kv: -kv[1])[:3])
        summary = f"{len(usable)} usable of {len(candidates)} inputs; statuses {labelled.statuses}; errors: {errors}"
        if len(usable) < cfg.min_tests:
            return self.drop(problem, MinedTestsDrop.TOO_FEW_TESTS, summary)
        if problem.task.observe_args and all(
            type(out) is list and len(out) == 2 and dumps(out[1]) == dumps(c.args) for c, out, _t in usable
        ):
            return self.drop(
                problem, MinedTestsDrop.CONSTANT_OUTPUT, "returns nothing and leaves its arguments unchanged"
            )
        if len({dumps(out) for _c, out, _t in usable}) == 1:
            return self.drop(
                problem, MinedTestsDrop.CONSTANT_OUTPUT, f"every input gives {dumps(usable[0][1])[:200]}"
            )
        echo = _echoed_argument(usable)
        if echo is not None:
            return self.drop(problem, MinedTestsDrop.TRIVIAL_OUTPUT, f"every output equals argument {echo}")
        picked = select(usable, cfg.max_tests)
        tests = split(
            [
                TestCase(task_id=problem.task.id, args=c.args, expected=out, origin=TestOrigin(c.origin))
                for c, out, _t in picked
            ],
            cfg.holdout_fraction,
        )
        report = TestgenReport(
            candidates=counts,
            labelled=len(usable),
            statuses=labelled.statuses,
            doctest_tests=sum(1 for t in tests if t.origin is TestOrigin.DOCTEST),
            probed_types=probed,
        )
        reports = problem.reports.model_copy(update={"testgen": report})
        return problem.model_copy(update={"tests": tests, "reports": reports})


def select(
    usable: list[tuple[Candidate, object, float]], limit: int
) -> list[tuple[Candidate, object, float]]:
    """Doctest inputs first, then round-robin over distinct outputs so the suite tells answers apart."""
    doctests = [row for row in usable if row[0].origin == "doctest"][:limit]
    rest = [row for row in usable if row[0].origin != "doctest"]
    groups: dict[str, list[tuple[Candidate, object, float]]] = defaultdict(list)
    for row in sorted(rest, key=lambda r: (ORIGIN_RANK.get(r[0].origin, 9), len(r[0].key), r[0].key)):
        groups[dumps(row[1])].append(row)
    ordered_groups = sorted(
        groups.values(), key=lambda g: (ORIGIN_RANK.get(g[0][0].origin, 9), len(g[0][0].key), g[0][0].key)
    )
    picked = list(doctests)
    depth = 0
    while len(picked) < limit and any(depth < len(g) for g in ordered_groups):
        for group in ordered_groups:
            if depth < len(group) and len(picked) < limit:
                picked.append(group[depth])
        depth += 1
    return picked


def _echoed_argument(usable: list[tuple[Candidate, object, float]]) -> int | None:
    """The position of an argument that every output merely repeats (an identity on these inputs)."""
    arity = min(len(c.args) for c, _o, _t in usable)
    for position in range(arity):
        if all(dumps(c.args[position]) == dumps(out) for c, out, _t in usable):
            return position
    return None


def _seed(problem_id: str, salt: int) -> int:
    return (int(problem_id[:12], 16) * 1_000_003 + salt) % (2**32)
