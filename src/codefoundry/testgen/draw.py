"""Draw values from hypothesis strategies deterministically.

``strategy.example()`` is for interactive use and is not reproducible. Running a ``@given`` function under
``@seed(...)`` with the example database off and only the generate phase is: the same seed and strategy give
the same values in every process (checked by ``tests/testgen/test_draw.py`` across hash seeds).

One more source of variation: recent hypothesis versions sometimes inject "constants" harvested from every
*local* module loaded in the process, so what a draw returns would depend on which of our modules happen to be
imported (a resumed run imports fewer). ``draw`` switches that injection off while it runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

_SETTINGS = dict(
    database=None,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=False,
    verbosity=Verbosity.quiet,
    report_multiple_bugs=False,
)


def draw(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """Up to ``count`` values from ``strategy``, the same ones for the same seed (duplicates possible)."""
    if count <= 0:
        return []
    out: list[Any] = []

    @hypothesis.seed(seed)
    @settings(max_examples=count, **_SETTINGS)  # type: ignore[arg-type]
    @given(strategy)
    def collect(value: Any) -> None:
        out.append(value)

    with _no_injected_constants():
        collect()
    return out[:count]


@contextlib.contextmanager
def _no_injected_constants() -> Iterator[None]:
    """Turn off hypothesis' constant injection (process-dependent) for the duration of a draw."""
    try:
        from hypothesis.internal.conjecture.providers import HypothesisProvider
    except ImportError:  # pragma: no cover - older hypothesis without providers
        yield
        return
    if not hasattr(HypothesisProvider, "_maybe_draw_constant"):  # pragma: no cover
        yield
        return
    with mock.patch.object(HypothesisProvider, "_maybe_draw_constant", _never):
        yield


def _never(self: Any, *args: Any, **kwargs: Any) -> None:
    return None
