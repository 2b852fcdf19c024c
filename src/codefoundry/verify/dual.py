"""``verify.dual``: tasks without an oracle get their tests and their solution from the evidence of K samples.

Every distinct candidate runs on every input in collect mode (the child only returns outputs; nothing
expected reaches it), runs that time out are retried once (a loaded machine must not turn a slow correct
sample into a vote against it), and the voting rule (``verify.vote``) decides each input's output and the
chosen solution, which must pass the holdout inputs it was not chosen on. A task with a checker (several right outputs) has the checker judge each returned output
in the sandbox, once the checker has shown it accepts the stated examples and rejects outputs of other
inputs; every accepted output then counts as the same vote. The kept problem carries:

- ``reference``: the chosen sample (a reference the problem came with, e.g. a teacher's own solution, is just
  one more sample); ``candidates``: every sample (with copies), ``candidate_verdicts``: each
  one's verdict per test (the losing samples are realistic wrong solutions: preference pairs, suite checks);
- ``tests``: the decided inputs with the voted outputs, split visible / holdout by test id;
- ``reports.vote``: per-input vote counts and reasons, the cluster, the holdout check, pass rate and
  difficulty.

Inputs on which the vote was not decided are not tests; a task whose vote does not meet the rule is dropped
with the reason and the counts.

Votes are on function tasks' returned values (any language the sandbox calls functions in). A stdio task is
dropped ``unsupported_style``: its inputs would be stdin texts and its outputs stdout texts compared token by
token, which neither the inputs stage (``testgen.inputs``) nor the vote's keys handle; stdio tasks are verified
by agreement with the teacher's own tests (``synth.agreement``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field

from codefoundry.judge.codec import NotPlain, decode, dumps, encode
from codefoundry.judge.requests import collect_code_request
from codefoundry.judge.split import split
from codefoundry.pipeline.stage import Resources, StageConfig, StageResult, ThreadedStage
from codefoundry.records import (
    CandidateVerdicts,
    CheckerUse,
    Difficulty,
    InputVote,
    Problem,
    Solution,
    SolutionRole,
    Split,
    Style,
    TestCase,
    TestOrigin,
    VoteReport,
)
from codefoundry.sandbox.api import ExecRequest, ExecResult, Limits, TestInput
from codefoundry.verify.vote import Choice, ChoiceOutcome, VoteRule, choose

RETRIED = ("timeout", "sandbox_error")
VALID = "checker:valid"  # the key of every output a trusted checker accepts
STATED = (TestOrigin.PROMPT_EXAMPLE, TestOrigin.GIVEN)  # inputs whose ``expected`` the task itself states


class DualDrop(StrEnum):
    UNSUPPORTED_STYLE = "unsupported_style"
    NO_CANDIDATES = "no_candidates"
    NO_INPUTS = "no_inputs"
    FAILS_GIVEN = ChoiceOutcome.FAILS_GIVEN.value
    TOO_FEW_DECIDED = ChoiceOutcome.TOO_FEW_DECIDED.value
    SMALL_CLUSTER = ChoiceOutcome.SMALL_CLUSTER.value
    CHOSEN_DISAGREES = ChoiceOutcome.CHOSEN_DISAGREES.value
    HOLDOUT_FAILED = ChoiceOutcome.HOLDOUT_FAILED.value


class DualVerifyConfig(StageConfig):
    batch_size: int = 8
    min_votes: int = Field(2, ge=1, description="samples that must agree on an input's output")
    min_share: float = Field(0.5, gt=0, le=1, description="share of the returning samples the top output needs")
    min_lead: float = Field(2.0, ge=1, description="the top output needs this many times the runner-up's votes")
    max_error_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="inputs on which a larger share of the samples raise or time out are left undecided "
        "(likely outside the task's domain); lower lets a sample that crashes on a class of inputs escape",
    )
    min_tests: int = Field(3, ge=1, description="decided inputs a task needs")
    use_stated: bool = Field(True, description="only samples matching the prompt's stated example outputs vote")
    examples_vouch: int = Field(
        3,
        ge=0,
        description="with at least this many stated examples that ruled some samples out, one consistent sample "
        "may decide (0: never; agreement of min_votes samples is always needed)",
    )
    min_cluster_share: float = Field(
        0.0, ge=0, le=1, description="share of all samples that must agree with the chosen one on every decided input"
    )
    holdout_fraction: float = Field(0.3, ge=0, lt=1, description="decided inputs kept to confirm the choice")
    per_test_time_s: float = Field(2.0, gt=0)
    time_s: float = Field(20.0, gt=0)
    memory_mb: int = Field(512, gt=0)

    def rule(self) -> VoteRule:
        return VoteRule(
            min_votes=self.min_votes,
            min_share=self.min_share,
            min_lead=self.min_lead,
            max_error_share=self.max_error_share,
            min_tests=self.min_tests,
            use_stated=self.use_stated,
            min_cluster_share=self.min_cluster_share,
            examples_vouch=self.examples_vouch,
        )


def output_key(stored: Any) -> str:
    """The key outputs are compared by: the stored form, floats to 9 significant digits (two correct
    samples may sum floats in another order)."""
    return dumps(_rounded(stored))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def stored_output(output: Any) -> Any:
    """A collected output in the stored form (as labelling stores it); raises NotPlain."""
    return encode(decode(output))


class DualVerify(ThreadedStage[Problem, Problem]):
    """Run every sample on every input, vote, choose and confirm on the holdout."""

    kind = "verify.dual"
    version = 2  # 2: stdio tasks dropped unsupported_style
    Config = DualVerifyConfig
    input_type = Problem
    output_type = Problem
    drop_reasons = DualDrop
    config: DualVerifyConfig

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(sandbox_share=1.0, cpu_bound=True)

    def _limits(self) -> Limits:
        cfg = self.config
        return Limits(time_s=cfg.time_s, per_test_time_s=cfg.per_test_time_s, cpu_s=cfg.time_s, memory_mb=cfg.memory_mb)

    def _execute(self, jobs: list[tuple[Problem, list[Solution]]]) -> list[list[ExecResult]]:
        """Every candidate of every job on the job's inputs; timed-out runs once more."""
        limits = self._limits()
        flat = [
            collect_code_request(problem, candidate.code, [t.args or [] for t in problem.inputs], limits)
            for problem, candidates in jobs
            for candidate in candidates
        ]
        results = self.run_sandbox(flat)
        again = [i for i, r in enumerate(results) if r.status in RETRIED]
        for index, result in zip(again, self.run_sandbox([flat[i] for i in again]), strict=True):
            results[index] = result
        out, position = [], 0
        for _problem, candidates in jobs:
            out.append(results[position : position + len(candidates)])
            position += len(candidates)
        return out

    def process_batch(self, batch: list[Problem]) -> StageResult[Problem]:
        result: StageResult[Problem] = StageResult()
        jobs: list[tuple[Problem, list[Solution]]] = []
        for problem in batch:
            # a reference the problem already has (a teacher's own solution) is one more sample, not the truth
            samples = [*problem.candidates, *([problem.reference] if problem.reference is not None else [])]
            distinct = list({c.id: c for c in samples}.values())
            if problem.task.style == Style.STDIO:
                detail = f"verify.dual votes on function tasks' return values; this is a {problem.task.language} stdio task"
                result.drops.append(self.drop(problem, DualDrop.UNSUPPORTED_STYLE, detail))
            elif not distinct:
                result.drops.append(self.drop(problem, DualDrop.NO_CANDIDATES))
            elif not problem.inputs:
                result.drops.append(self.drop(problem, DualDrop.NO_INPUTS))
            else:
                jobs.append((problem, distinct))
        observed = [
            observe(problem, candidates, runs) for (problem, candidates), runs in zip(jobs, self._execute(jobs), strict=True)
        ]
        uses = self._apply_checkers(jobs, observed)
        for (problem, candidates), seen, use in zip(jobs, observed, uses, strict=True):
            kept = self._judge(problem, candidates, seen, use)
            if isinstance(kept, Problem):
                result.records.append(kept)
            else:
                reason, detail, scored = kept
                result.drops.append(self.drop(scored, reason, detail))
        return result

    def _apply_checkers(self, jobs: list[tuple[Problem, list[Solution]]], observed: list[Observed]) -> list[CheckerUse]:
        """For problems with a checker: test the checker, then let it judge every returned output (in the
        sandbox); an accepted output's key becomes ``VALID``, so all right answers vote together."""
        uses = [CheckerUse.NONE] * len(jobs)
        limits = self._limits()
        probes: list[tuple[int, list[bool]]] = []
        requests = []
        for index, ((problem, _candidates), seen) in enumerate(zip(jobs, observed, strict=True)):
            if problem.checker:
                expect, tests = trust_probes(problem, seen)
                probes.append((index, expect))
                requests.append(checker_request(problem.checker, tests, limits))
        trusted = []
        for (index, expect), result in zip(probes, self.run_sandbox(requests), strict=True):
            answers = [v.status == "ok" and v.output is True for v in result.verdicts]
            ok = (
                len(answers) == len(expect)
                and all(a for a, e in zip(answers, expect, strict=True) if e)  # every stated output accepted
                and not all(a for a, e in zip(answers, expect, strict=True) if not e)  # some other output refused
                and False in expect
            )
            uses[index] = CheckerUse.USED if ok else CheckerUse.DISTRUSTED
            if ok:
                trusted.append(index)
        requests, places = [], []
        for index in trusted:
            problem, candidates = jobs[index]
            seen = observed[index]
            for candidate in candidates:
                returned = [i for i, key in enumerate(seen.keys[candidate.id]) if key is not None]
                tests = [[problem.inputs[i].args or [], seen.stored[candidate.id][i]] for i in returned]
                requests.append(checker_request(problem.checker or "", tests, limits))
                places.append((index, candidate.id, returned))
        for (index, candidate_id, returned), result in zip(places, self.run_sandbox(requests), strict=True):
            keys = observed[index].keys[candidate_id]
            for i, verdict in zip(returned, result.verdicts, strict=False):
                if verdict.status == "ok" and verdict.output is True:
                    keys[i] = VALID
        return uses

    def _judge(
        self, problem: Problem, candidates: list[Solution], seen: Observed, use: CheckerUse
    ) -> Problem | tuple[DualDrop, str, Problem]:
        inputs = problem.inputs
        outputs, stored, statuses = seen.keys, seen.stored, seen.statuses
        stated = [
            (VALID if use is CheckerUse.USED else output_key(t.expected))
            if t.origin in STATED and t.expected is not None
            else None
            for t in inputs
        ]
        holdout = [t.split is Split.HOLDOUT for t in split(list(inputs), self.config.holdout_fraction)]
        copies = {c.id: c.copies for c in candidates}
        given = [t.origin is TestOrigin.GIVEN and t.expected is not None for t in inputs]
        choice = choose(outputs, copies, holdout, self.config.rule(), stated, given)
        report = self._report(problem, candidates, choice).model_copy(update={"checker": use})
        scored = problem.model_copy(update={"reports": problem.reports.model_copy(update={"vote": report})})
        if choice.outcome is not ChoiceOutcome.ACCEPTED:
            return DualDrop(choice.outcome.value), choice.detail, scored
        assert choice.chosen is not None
        tests = [
            TestCase(
                task_id=problem.task.id,
                args=test.args,
                expected=stored[choice.chosen][index],
                origin=test.origin,
                split=Split.HOLDOUT if holdout[index] else Split.VISIBLE,
            )
            for index, (test, decision) in enumerate(zip(inputs, choice.decisions, strict=True))
            if decision.decided
        ]
        verdicts = [
            CandidateVerdicts(
                solution_id=c.id,
                verdicts={
                    test.id: "pass" if outputs[c.id][i] == d.output else _failure(statuses[c.id][i])
                    for i, (test, d) in enumerate(zip(inputs, choice.decisions, strict=True))
                    if d.decided
                },
            )
            for c in candidates
        ]
        chosen = next(c for c in candidates if c.id == choice.chosen)
        return scored.model_copy(
            update={
                "reference": chosen.model_copy(update={"role": SolutionRole.REFERENCE}),
                "candidates": [c.model_copy(update={"role": SolutionRole.CANDIDATE}) for c in candidates],
                "candidate_verdicts": verdicts,
                "tests": tests,
                "inputs": [],
            }
        )

    def _report(self, problem: Problem, candidates: list[Solution], choice: Choice) -> VoteReport:
        samples = sum(c.copies for c in candidates)
        passing_ids, voter_ids = set(choice.passing), set(choice.voters)
        passing = sum(c.copies for c in candidates if c.id in passing_ids)
        voters = sum(c.copies for c in candidates if c.id in voter_ids)
        rate = passing / samples if samples else 0.0
        votes = [
            InputVote(
                test_id=test.id,
                top=d.top,
                runner_up=d.runner_up,
                valid=d.valid,
                errors=d.errors,
                decided=d.decided,
                reason="" if d.decided else d.outcome.value,
            )
            for test, d in zip(problem.inputs, choice.decisions, strict=False)  # none when nobody could vote
        ]
        return VoteReport(
            samples=samples,
            distinct=len(candidates),
            voters=voters,
            inputs=len(problem.inputs),
            decided=sum(v.decided for v in votes),
            chosen_cluster=choice.cluster,
            holdout_passed=choice.holdout_passed,
            holdout_total=choice.holdout_total,
            passing=passing,
            pass_rate=round(rate, 4),
            difficulty=Difficulty.of(rate),
            confidence=round(choice.cluster / voters, 4) if voters else 0.0,
            votes=votes,
        )


@dataclass
class Observed:
    """What every candidate returned on every input: comparison keys, stored outputs, statuses."""

    keys: dict[str, list[str | None]]
    stored: dict[str, list[Any]]
    statuses: dict[str, list[str]]


def observe(problem: Problem, candidates: list[Solution], runs: list[ExecResult]) -> Observed:
    """Each candidate's outputs as keys (None where it did not return plain data)."""
    seen = Observed({}, {}, {})
    for candidate, run in zip(candidates, runs, strict=True):
        keys: list[str | None] = []
        values: list[Any] = []
        marks: list[str] = []
        for index in range(len(problem.inputs)):
            verdict = run.verdicts[index] if index < len(run.verdicts) else None
            key, value, mark = None, None, str(verdict.status) if verdict else str(run.status)
            if verdict is not None and verdict.status == "ok":
                try:
                    value = stored_output(verdict.output)
                    key = output_key(value)
                except (NotPlain, ValueError, TypeError):
                    mark = "unplain_output"
            keys.append(key)
            values.append(value)
            marks.append(mark)
        seen.keys[candidate.id], seen.stored[candidate.id], seen.statuses[candidate.id] = keys, values, marks
    return seen


def checker_request(checker: str, pairs: list[list[Any]], limits: Limits) -> ExecRequest:
    """Run ``check(input, output, expected)`` on (stored args, stored output) pairs; expected is None."""
    return ExecRequest(
        code=checker,
        entry_point="check",
        tests=[TestInput(args=[decode(args), decode(output), None]) for args, output in pairs],
        limits=limits,
        mode="collect",
    )


def trust_probes(problem: Problem, seen: Observed) -> tuple[list[bool], list[list[Any]]]:
    """Pairs that test a checker: each stated example with its stated output (True: it must accept them all),
    and inputs paired with another input's different output (False: it must refuse at least one; with
    several right answers some of these may be right too)."""
    expect: list[bool] = []
    pairs: list[list[Any]] = []
    for test in problem.inputs:
        if test.origin in STATED and test.expected is not None:
            expect.append(True)
            pairs.append([test.args or [], test.expected])
    outputs = next(iter(seen.stored.values()), [])
    returned = [i for i, value in enumerate(outputs) if value is not None]
    for a, b in zip(returned, returned[1:], strict=False):
        if output_key(outputs[a]) != output_key(outputs[b]) and len(expect) < 12:
            expect.append(False)
            pairs.append([problem.inputs[a].args or [], outputs[b]])
    return expect, pairs


def _failure(status: str) -> str:
    """A candidate's verdict on a decided input it did not match: a returned output is a wrong answer."""
    return "wrong_answer" if status == "ok" else status
