"""Memory reader: expected outputs on the stack it was forked on or in the heap it inherited.

A candidate program, read as text by the forgery tests (see ../forgeries_support.py); never imported.
The tests append the function or stdio entry point.
"""

import gc
import sys


def _leaks():
    holders = []
    frame = sys._getframe()
    while frame is not None:
        holders.extend(frame.f_locals.values())
        frame = frame.f_back
    holders.extend(
        o for o in gc.get_objects() if type(o).__name__ in ("RunRequest", "EarlyStop", "EarlyJudge")
    )
    pairs = []
    for h in holders:
        tests = getattr(h, "tests", None)
        for source in (h, getattr(h, "early_stop", None), getattr(h, "early", None)):
            expected = getattr(source, "expected", None)
            if isinstance(expected, list):
                pairs.append((tests if isinstance(tests, list) else None, expected))
    return pairs


def _lookup(matches):
    pairs = _leaks()
    for tests, expected in pairs:
        for i, test in enumerate(tests or []):
            try:
                if matches(test) and i < len(expected) and expected[i] is not None:
                    return expected[i], pairs
            except Exception:
                pass
    return None, pairs
