"""The novelty filter decides what Self-Instruct's all-pairs ROUGE-L loop decides, without all the pairs."""

from __future__ import annotations

import random

import pytest
from rouge_score import rouge_scorer

from codefoundry.synth.novelty import NoveltyFilter, exact_novelty, lcs_length, rouge_l, rouge_tokens

WORDS = [
    "write",
    "a",
    "function",
    "that",
    "returns",
    "the",
    "sum",
    "of",
    "all",
    "even",
    "numbers",
    "in",
    "list",
    "sort",
    "strings",
    "by",
    "length",
    "reverse",
    "each",
    "word",
    "count",
    "vowels",
    "given",
    "integer",
    "n",
    "find",
    "largest",
    "prime",
    "factor",
    "merge",
    "two",
    "sorted",
    "lists",
    "into",
    "one",
    "check",
    "whether",
    "string",
    "is",
    "palindrome",
    "ignoring",
    "case",
    "compute",
    "nth",
    "fibonacci",
    "number",
    "remove",
    "duplicates",
    "keeping",
    "order",
]


def _instructions(n: int, seed: int = 7) -> list[str]:
    """Random instructions, a third of them light rewordings of an earlier one (near-duplicates)."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(n):
        if out and rng.random() < 0.35:
            words = rng.choice(out).split()
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(len(words))
                words[i] = rng.choice(WORDS) if rng.random() < 0.5 else words[i].upper() + "!"
            out.append(" ".join(words))
        else:
            out.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))))
    return out


def test_rouge_l_is_rouge_scores_f_measure() -> None:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    texts = _instructions(60, seed=3) + ["", "Déjà vu: x_1, x-2!", "ALL CAPS and 123 numbers"]
    for a in texts:
        for b in texts[::7]:
            expected = scorer.score(a, b)["rougeL"].fmeasure
            assert rouge_l(rouge_tokens(a), rouge_tokens(b)) == pytest.approx(expected, abs=1e-12), (a, b)


def test_the_filter_makes_the_all_pairs_decisions() -> None:
    texts = _instructions(600)
    exact = exact_novelty(texts, threshold=0.7)
    novelty = NoveltyFilter(threshold=0.7)
    fast = [novelty.check(str(i), text).kept for i, text in enumerate(texts)]
    assert fast == exact
    assert 0 < exact.count(False) < len(texts)  # both kinds of decision occur
    assert len(novelty) == exact.count(True)


def test_a_rejected_instruction_names_the_kept_one_it_is_too_close_to() -> None:
    novelty = NoveltyFilter()
    assert novelty.check("a", "Write a function that returns the sum of all even numbers in a list.").kept
    verdict = novelty.check("b", "Write a function that returns the sum of the even numbers in a list")
    assert not verdict.kept and verdict.nearest == "a" and verdict.score >= 0.7
    assert novelty.check("c", "Merge two sorted linked lists into one sorted list.").kept
    assert len(novelty) == 2
    with pytest.raises(ValueError, match="already kept"):
        novelty.check("a", "anything new")


def test_bit_parallel_lcs_matches_the_dp_table() -> None:
    def dp(a: list[str], b: list[str]) -> int:
        table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
        return table[-1][-1]

    rng = random.Random(11)
    for _ in range(2000):
        a = [rng.choice("abcde") for _ in range(rng.randint(0, 30))]
        b = [rng.choice("abcde") for _ in range(rng.randint(0, 90))]
        assert lcs_length(a, b) == dp(a, b), (a, b)
