"""The voting rule: thresholds, ties, errors, stated examples, CodeT choice and the holdout check."""

from __future__ import annotations

from codefoundry.verify.vote import ChoiceOutcome, VoteOutcome, VoteRule, choose, decide

RULE = VoteRule(min_votes=2, min_share=0.5, min_lead=2.0, max_error_share=0.5, min_tests=1)


def test_clear_majority_is_decided() -> None:
    d = decide([("a", 1), ("a", 1), ("a", 1), ("b", 1)], RULE)
    assert d.outcome is VoteOutcome.DECIDED and d.output == "a"
    assert (d.top, d.runner_up, d.valid, d.errors) == (3, 1, 4, 0)


def test_copies_count_as_votes() -> None:
    assert decide([("a", 3), ("b", 1)], RULE).output == "a"


def test_tie_is_never_broken_at_random() -> None:
    d = decide([("a", 2), ("b", 2)], RULE)
    assert d.outcome is VoteOutcome.TOO_CLOSE and d.output is None


def test_lead_threshold() -> None:
    assert decide([("a", 3), ("b", 2)], RULE).outcome is VoteOutcome.TOO_CLOSE
    assert decide([("a", 4), ("b", 2)], RULE).outcome is VoteOutcome.DECIDED


def test_share_threshold() -> None:
    d = decide([("a", 2), ("b", 1), ("c", 1), ("d", 1)], RULE)
    assert d.outcome is VoteOutcome.NO_MAJORITY


def test_single_candidate_cannot_decide() -> None:
    assert decide([("a", 1)], RULE).outcome is VoteOutcome.TOO_FEW_VOTES
    assert decide([("a", 1)], VoteRule(min_votes=1)).outcome is VoteOutcome.DECIDED


def test_all_errors_and_timeouts() -> None:
    d = decide([(None, 1), (None, 3)], RULE)
    assert d.outcome is VoteOutcome.MOSTLY_ERRORS and (d.valid, d.errors) == (0, 4)
    assert decide([], RULE).outcome is VoteOutcome.MOSTLY_ERRORS


def test_errors_are_not_votes_but_many_errors_make_an_input_suspect() -> None:
    assert decide([("a", 2), (None, 1)], RULE).outcome is VoteOutcome.DECIDED
    assert decide([("a", 2), (None, 3)], RULE).outcome is VoteOutcome.MOSTLY_ERRORS


def test_choose_takes_the_largest_agreeing_cluster() -> None:
    outputs = {"s1": ["1", "2", "3"], "s2": ["1", "2", "3"], "s3": ["1", "9", "3"]}
    choice = choose(outputs, {"s1": 1, "s2": 1, "s3": 1}, [False, False, False], RULE)
    assert choice.outcome is ChoiceOutcome.ACCEPTED
    assert choice.chosen == "s1" and choice.cluster == 2
    assert choice.passing == ["s1", "s2"]


def test_choose_is_deterministic_between_equal_scores() -> None:
    outputs = {"b": ["1", "2"], "a": ["1", "2"]}
    assert choose(outputs, {"a": 1, "b": 1}, [False, False], RULE).chosen == "a"


def test_holdout_confirms_the_choice() -> None:
    # two visible inputs choose cluster {s3, s4, s5}; the holdout input confirms it
    outputs = {"s1": ["1", "b", "x"], "s2": ["1", "b", "x"], "s3": ["1", "a", "y"], "s4": ["1", "a", "y"], "s5": ["1", "a", "y"], "s6": ["2", "a", "y"]}
    c = choose(outputs, dict.fromkeys(outputs, 1), [False, False, True], VoteRule(min_votes=2, min_share=0.5, min_lead=1.0, min_tests=1))
    assert [d.output for d in c.decisions] == ["1", "a", "y"]
    assert c.outcome is ChoiceOutcome.ACCEPTED and c.chosen == "s3" and c.cluster == 3
    assert (c.holdout_passed, c.holdout_total) == (1, 1)


def test_holdout_is_not_used_to_choose() -> None:
    # the visible input does not separate the samples: the choice is made without the holdout, which refuses it
    outputs = {"s1": ["1", "x"], "s2": ["1", "x"], "s3": ["1", "y"], "s4": ["1", "y"], "s5": ["1", "y"]}
    c = choose(outputs, dict.fromkeys(outputs, 1), [False, True], VoteRule(min_votes=2, min_share=0.5, min_lead=1.0, min_tests=1))
    assert c.chosen == "s1" and c.outcome is ChoiceOutcome.HOLDOUT_FAILED


def test_holdout_failure_is_reported() -> None:
    # visible input 0 favours cluster {s1,s2,s3} (x), holdout input 1 is decided for "q" by s4-s9
    outputs = {f"s{i}": ["x", "p"] for i in (1, 2, 3)} | {f"s{i}": ["z", "q"] for i in (4, 5)} | {f"s{i}": ["w", "q"] for i in (6, 7, 8, 9)}
    rule = VoteRule(min_votes=2, min_share=0.3, min_lead=1.0, min_tests=1)
    c = choose(outputs, dict.fromkeys(outputs, 1), [False, True], rule)
    assert c.decisions[0].output == "w"  # 4 votes beat 3
    rule2 = VoteRule(min_votes=3, min_share=0.3, min_lead=1.0, min_tests=1)
    outputs2 = {f"s{i}": ["x", "p"] for i in (1, 2, 3, 4)} | {f"s{i}": ["z", "q"] for i in (5, 6, 7)} | {f"s{i}": ["w", "q"] for i in (8, 9, 10)}
    c2 = choose(outputs2, dict.fromkeys(outputs2, 1), [False, True], rule2)
    assert c2.decisions[0].output == "x" and c2.decisions[1].output == "q"
    assert c2.outcome is ChoiceOutcome.HOLDOUT_FAILED and c2.holdout_passed == 0 and c2.holdout_total == 1


def test_stated_examples_decide_who_votes() -> None:
    # four samples agree on a wrong answer that contradicts the prompt's example; two get it right
    outputs = {"w1": ["5", "7"], "w2": ["5", "7"], "w3": ["5", "7"], "w4": ["5", "7"], "r1": ["6", "8"], "r2": ["6", "8"]}
    stated = ["6", None]
    choice = choose(outputs, dict.fromkeys(outputs, 1), [False, False], RULE, stated)
    assert choice.voters == ["r1", "r2"] and choice.chosen == "r1"
    assert choice.decisions[1].output == "8"
    # nobody matches the stated example: it is ignored, and the majority wins
    nobody = choose(outputs, dict.fromkeys(outputs, 1), [False, False], RULE, ["0", None])
    assert nobody.voters == sorted(outputs) and nobody.chosen == "w1"


def test_too_few_decided_and_small_cluster() -> None:
    outputs = {"s1": ["1", "2"], "s2": ["3", "4"]}
    c = choose(outputs, {"s1": 1, "s2": 1}, [False, False], VoteRule(min_tests=1))
    assert c.outcome is ChoiceOutcome.TOO_FEW_DECIDED
    c1 = choose({"s1": ["1", "2"]}, {"s1": 1}, [False, False], VoteRule(min_votes=1, min_tests=1))
    assert c1.outcome is ChoiceOutcome.ACCEPTED
    c2 = choose({"s1": ["1"]}, {"s1": 3}, [False], VoteRule(min_votes=2, min_tests=1))
    assert c2.outcome is ChoiceOutcome.ACCEPTED and c2.cluster == 3
    assert choose({}, {}, [], RULE).outcome is ChoiceOutcome.NO_CANDIDATES


def test_min_cluster_share_counts_every_sample() -> None:
    outputs = {"a": ["1", "2", "3"], "b": ["9", "9", "9"], "c": ["8", "8", "8"]}
    copies = {"a": 3, "b": 2, "c": 2}
    rule = VoteRule(min_votes=2, min_share=0.4, min_lead=1.0, min_tests=1)
    assert choose(outputs, copies, [False] * 3, rule).outcome is ChoiceOutcome.ACCEPTED
    strict = VoteRule(min_votes=2, min_share=0.4, min_lead=1.0, min_tests=1, min_cluster_share=0.5)
    c = choose(outputs, copies, [False] * 3, strict)
    assert c.outcome is ChoiceOutcome.SMALL_CLUSTER and "3 of 7 samples" in c.detail


def test_stated_examples_can_vouch_for_a_lone_consistent_sample() -> None:
    outputs = {"w1": ["5", "7", "9", "1"], "w2": ["5", "7", "9", "2"], "r": ["6", "8", "10", "3"]}
    stated = ["6", "8", "10", None]
    strict = choose(outputs, dict.fromkeys(outputs, 1), [False] * 4, VoteRule(min_tests=1), stated)
    assert strict.voters == ["r"] and strict.outcome is ChoiceOutcome.TOO_FEW_DECIDED
    vouched = choose(outputs, dict.fromkeys(outputs, 1), [False] * 4, VoteRule(min_tests=1, examples_vouch=3), stated)
    assert vouched.outcome is ChoiceOutcome.ACCEPTED and vouched.chosen == "r"
    too_few = choose(outputs, dict.fromkeys(outputs, 1), [False] * 4, VoteRule(min_tests=1, examples_vouch=4), stated)
    assert too_few.outcome is ChoiceOutcome.TOO_FEW_DECIDED


def test_given_tests_bind_where_prompt_examples_only_filter() -> None:
    outputs = {"w1": ["5", "7"], "w2": ["5", "7"], "w3": ["5", "7"]}
    stated = ["6", None]
    # a prompt example nobody reproduces may be misparsed: ignored
    assert choose(outputs, dict.fromkeys(outputs, 1), [False, False], RULE, stated).outcome is ChoiceOutcome.ACCEPTED
    # a test the user gave is not: no sample passes it, so there is no solution
    c = choose(outputs, dict.fromkeys(outputs, 1), [False, False], RULE, stated, [True, False])
    assert c.outcome is ChoiceOutcome.FAILS_GIVEN and "1 given tests" in c.detail


def test_given_tests_vouch_for_the_one_sample_that_passes_them() -> None:
    outputs = {"w1": ["5", "7", "9", "1"], "w2": ["5", "7", "9", "2"], "r": ["6", "8", "10", "3"]}
    stated = ["6", "8", "10", None]
    c = choose(outputs, dict.fromkeys(outputs, 1), [False] * 4, VoteRule(min_tests=1, examples_vouch=3), stated, [True, True, True, False])
    assert c.outcome is ChoiceOutcome.ACCEPTED and c.chosen == "r"
