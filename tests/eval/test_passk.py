"""The unbiased pass@k estimator against values worked out by hand."""

from __future__ import annotations

from math import comb

import pytest

from codefoundry.eval.passk import PassKError, mean_pass_at_k, pass_at_k, published


@pytest.mark.parametrize(
    ("n", "c", "k", "want"),
    [
        (10, 3, 1, 0.3),
        (5, 0, 1, 0.0),
        (5, 0, 5, 0.0),
        (5, 5, 1, 1.0),
        (5, 5, 5, 1.0),
        (10, 2, 5, 7 / 9),
        (10, 9, 2, 1.0),  # fewer failures than k: every draw holds a pass
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
    ],
)
def test_known_values(n: int, c: int, k: int, want: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)


def test_matches_the_binomial_formula() -> None:
    for n in range(1, 16):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k), abs=1e-12)


def test_large_n_is_stable() -> None:
    assert pass_at_k(1000, 1, 1) == pytest.approx(0.001)
    assert 0.0 < pass_at_k(200, 3, 100) < 1.0


def test_k_larger_than_n_is_an_error() -> None:
    with pytest.raises(PassKError, match="at least 10 samples"):
        pass_at_k(5, 2, 10)
    with pytest.raises(PassKError, match="t2 has 3"):
        mean_pass_at_k({"t1": (10, 1), "t2": (3, 1)}, [1, 10])


def test_mean_over_tasks() -> None:
    result = mean_pass_at_k({"a": (10, 3), "b": (10, 0), "c": (10, 10)}, [1, 5])
    assert result[1] == pytest.approx((0.3 + 0 + 1) / 3)
    assert result[5] == pytest.approx((1 - comb(7, 5) / comb(10, 5) + 0 + 1) / 3)
    assert list(result) == [1, 5]


def test_published_figure() -> None:
    figure = published("humaneval", "local:qwen2.5-coder-1.5b")
    assert figure is not None and figure.pass_at_1 == 70.7 and "Qwen2.5-Coder" in figure.source
    assert published("humaneval", "some-other-model") is None
