"""The visible/holdout split of a problem's tests: chosen by test id, so it is stable across runs and machines.

Visible tests may be shown to a model or used to choose among candidates; holdout tests confirm a choice and
are never used to make it.
"""

from __future__ import annotations

from codefoundry.records import Split, TestCase


def split(tests: list[TestCase], holdout_fraction: float) -> list[TestCase]:
    """Mark a share of tests ``holdout``, chosen by test id (stable); keep at least one on each side."""
    if not tests:
        return tests
    out = []
    for test in tests:
        held = int(test.id[:8], 16) / 0xFFFFFFFF < holdout_fraction
        out.append(test.model_copy(update={"split": Split.HOLDOUT if held else Split.VISIBLE}))
    if holdout_fraction > 0 and len(out) >= 2:
        if all(t.split is Split.HOLDOUT for t in out):
            out[0] = out[0].model_copy(update={"split": Split.VISIBLE})
        if all(t.split is Split.VISIBLE for t in out):
            out[-1] = out[-1].model_copy(update={"split": Split.HOLDOUT})
    return out
