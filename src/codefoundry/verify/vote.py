"""The voting rule of dual verification: which output an input has, and which candidate solves the task.

With no oracle, truth comes from agreement among independently sampled solutions (X-Coder's majority vote,
CodeT's dual agreement), made stricter than the published versions:

- an input's output is **decided** only when at least ``min_votes`` samples give it, they are at least
  ``min_share`` of the samples that returned at all, and they lead the runner-up by ``min_lead`` times;
  otherwise the input is left undecided with its reason (never a random tie-break);
- errors and timeouts are not votes; an input on which most samples fail is probably outside the task's
  domain and is left undecided (``mostly_errors``);
- when the prompt states outputs for its examples, only samples consistent with all of them vote (a sample
  that contradicts the task's own examples is wrong by the task's definition); if none is consistent, the
  examples are not used (they may be misparsed or wrong) and everybody votes. With ``examples_vouch`` set,
  enough stated examples that excluded other samples stand in for agreement: one consistent sample may decide;
- the chosen sample maximises CodeT's score (the samples sharing its outputs on the visible decided inputs x
  the visible decided inputs it passes), ties going to the smaller solution id (deterministic), and it must
  then pass every **holdout** input, which played no part in choosing it.

Everything here is pure: outputs arrive as keys (``None`` for a run that did not return), so the rule is
tested without a sandbox.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class VoteOutcome(StrEnum):
    """What became of one input's vote."""

    DECIDED = "decided"
    TOO_FEW_VOTES = "too_few_votes"  # fewer than min_votes samples agree on any output
    NO_MAJORITY = "no_majority"  # the top output has less than min_share of the valid runs
    TOO_CLOSE = "too_close"  # the runner-up is within min_lead of the top output
    MOSTLY_ERRORS = "mostly_errors"  # most samples raised or timed out on it


class ChoiceOutcome(StrEnum):
    """Whether a solution was accepted, or why not."""

    ACCEPTED = "accepted"
    NO_CANDIDATES = "no_candidates"
    FAILS_GIVEN = "fails_given_tests"  # no sample passes the tests the user gave with the task
    TOO_FEW_DECIDED = "too_few_decided"  # fewer decided inputs than the task needs as tests
    SMALL_CLUSTER = "small_cluster"  # the chosen cluster is below min_votes samples or min_cluster_share
    CHOSEN_DISAGREES = "chosen_disagrees"  # the best candidate fails a decided visible input
    HOLDOUT_FAILED = "holdout_failed"  # the best candidate fails a holdout input


@dataclass(frozen=True)
class VoteRule:
    """The thresholds of the vote (defaults: see docs/verification.md for how they were measured)."""

    min_votes: int = 2
    min_share: float = 0.5
    min_lead: float = 2.0
    max_error_share: float = 0.5
    min_tests: int = 3
    use_stated: bool = True
    min_cluster_share: float = 0.0  # the chosen cluster's share of all samples (voters or not)
    # when the stated examples excluded some samples from the vote and at least this many examples are
    # stated, they stand in for the agreement a lone consistent sample lacks (0: never)
    examples_vouch: int = 0


@dataclass(frozen=True)
class Decision:
    """One input's vote: the winning output key when decided, and the counts behind it."""

    outcome: VoteOutcome
    output: str | None
    top: int
    runner_up: int
    valid: int
    errors: int

    @property
    def decided(self) -> bool:
        return self.outcome is VoteOutcome.DECIDED


@dataclass
class Choice:
    """The result of the vote for one task."""

    outcome: ChoiceOutcome
    decisions: list[Decision]
    voters: list[str]
    chosen: str | None = None
    cluster: int = 0  # samples (with copies) sharing the chosen one's outputs on the decided inputs
    holdout_passed: int = 0
    holdout_total: int = 0
    passing: list[str] = field(default_factory=list)  # candidates passing every decided input
    detail: str = ""


def decide(outputs: list[tuple[str | None, int]], rule: VoteRule) -> Decision:
    """The vote on one input: ``outputs`` holds each voter's output key (None: no output) and its copies."""
    counts: Counter[str] = Counter()
    errors = 0
    for key, copies in outputs:
        if key is None:
            errors += copies
        else:
            counts[key] += copies
    valid = sum(counts.values())
    ranked = counts.most_common()
    top_key, top = ranked[0] if ranked else (None, 0)
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    total = valid + errors
    if total == 0 or errors / total > rule.max_error_share:
        outcome = VoteOutcome.MOSTLY_ERRORS
    elif top < rule.min_votes:
        outcome = VoteOutcome.TOO_FEW_VOTES
    elif top < rule.min_share * valid:
        outcome = VoteOutcome.NO_MAJORITY
    elif runner_up and top < rule.min_lead * runner_up:
        outcome = VoteOutcome.TOO_CLOSE
    else:
        outcome = VoteOutcome.DECIDED
    return Decision(outcome, top_key if outcome is VoteOutcome.DECIDED else None, top, runner_up, valid, errors)


def consistent_with_stated(keys: list[str | None], stated: list[str | None]) -> bool:
    """True when a candidate's outputs equal every stated example output (``stated[i]`` None: none stated)."""
    return all(s is None or k == s for k, s in zip(keys, stated, strict=True))


def choose(
    outputs: dict[str, list[str | None]],
    copies: dict[str, int],
    holdout: list[bool],
    rule: VoteRule,
    stated: list[str | None] | None = None,
    given: list[bool] | None = None,
) -> Choice:
    """Vote on every input and choose a solution.

    ``outputs``: candidate id -> its output key per input (None where it did not return); ``copies``: how
    many samples each candidate stands for; ``holdout``: per input, True if it only confirms the choice;
    ``stated``: per input, the output the prompt states for it (a key), or None; ``given``: per input, True
    when its stated output is a test the user gave (binding: a sample failing one never votes, and if every
    sample fails one there is no solution), not an example read from the prompt's prose (which may be
    misparsed: if no sample reproduces them all, everybody votes).
    """
    if not outputs:
        return Choice(ChoiceOutcome.NO_CANDIDATES, [], [])
    size = len(holdout)
    stated = stated if stated is not None and rule.use_stated else [None] * size
    ids = everyone = sorted(outputs)
    given = given or [False] * size
    if any(given):
        binding = [k if g else None for k, g in zip(stated, given, strict=True)]
        ids = [c for c in ids if consistent_with_stated(outputs[c], binding)]
        if not ids:
            return Choice(ChoiceOutcome.FAILS_GIVEN, [], [], detail=f"no sample passes the {sum(given)} given tests")
    voters = ids
    if any(s is not None for s in stated):
        consistent = [c for c in ids if consistent_with_stated(outputs[c], stated)]
        voters = consistent or ids
        vouched = (
            rule.examples_vouch
            and len(voters) < len(everyone)
            and sum(s is not None for s in stated) >= rule.examples_vouch
        )
        if vouched:
            rule = dataclasses.replace(rule, min_votes=1)
    decisions = [decide([(outputs[c][i], copies[c]) for c in voters], rule) for i in range(size)]
    decided = [i for i, d in enumerate(decisions) if d.decided]

    def passes(candidate: str, indices: list[int]) -> list[int]:
        return [i for i in indices if outputs[candidate][i] == decisions[i].output]

    passing = [c for c in ids if len(passes(c, decided)) == len(decided)] if decided else []
    choice = Choice(ChoiceOutcome.ACCEPTED, decisions, voters, passing=passing)
    if len(decided) < rule.min_tests:
        choice.outcome = ChoiceOutcome.TOO_FEW_DECIDED
        choice.detail = f"{len(decided)} of {size} inputs decided (need {rule.min_tests})"
        return choice
    visible = [i for i in decided if not holdout[i]]
    held = [i for i in decided if holdout[i]]

    def signature(candidate: str) -> tuple[str | None, ...]:
        return tuple(outputs[candidate][i] for i in visible)

    cluster_size: Counter[tuple[str | None, ...]] = Counter()
    for c in voters:
        cluster_size[signature(c)] += copies[c]
    scored = sorted(voters, key=lambda c: (-cluster_size[signature(c)] * len(passes(c, visible)), c))
    best = scored[0]
    choice.chosen = best
    choice.cluster = sum(copies[c] for c in voters if passes(c, decided) == decided)
    choice.holdout_total = len(held)
    choice.holdout_passed = len(passes(best, held))
    if len(passes(best, visible)) < len(visible):
        choice.outcome = ChoiceOutcome.CHOSEN_DISAGREES
        choice.detail = f"the best-scoring sample passes {len(passes(best, visible))} of {len(visible)} visible decided inputs"
    elif choice.holdout_passed < len(held):
        choice.outcome = ChoiceOutcome.HOLDOUT_FAILED
        choice.detail = f"the chosen sample passes {choice.holdout_passed} of {len(held)} holdout inputs"
    elif choice.cluster < rule.min_votes or choice.cluster < rule.min_cluster_share * sum(copies.values()):
        choice.outcome = ChoiceOutcome.SMALL_CLUSTER
        choice.detail = (
            f"{choice.cluster} of {sum(copies.values())} samples agree with the chosen one on every decided input "
            f"(need {rule.min_votes} and a share of {rule.min_cluster_share})"
        )
    return choice
