"""Output comparison, done by trusted code outside the candidate's process.

Stdlib only so the fork-server can reuse it to stop early (``stop_on_first_failure``); the supervisor always
recomputes the verdict itself.

Function style compares decoded plain data structurally: ``bool`` only equals ``bool``; ``int`` and ``float``
compare numerically (as Python's ``==``), NaN equals NaN; ``Decimal``, ``Fraction`` and ``complex`` only
equal their own type; lists, dicts, bytes and sets compare element-wise.
``float`` mode applies ``math.isclose`` to every number. Stdio style compares text: ``exact``, ``whitespace``
(lines compared with runs of whitespace collapsed, leading/trailing blank lines ignored) or ``float``
(whitespace tokens, numbers within tolerance).
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any


def _num(x: Any) -> bool:
    return type(x) is int or type(x) is float


def plain_equal(a: Any, b: Any, rel_tol: float | None = None, abs_tol: float = 0.0) -> bool:
    """Structural equality of decoded plain data (see module docstring)."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if _num(a) and _num(b):
        if ta is float or tb is float:
            try:
                fa, fb = float(a), float(b)
            except OverflowError:  # an int beyond float range never equals a float
                return False
            if math.isnan(fa) or math.isnan(fb):
                return math.isnan(fa) and math.isnan(fb)
            if rel_tol is not None:
                return math.isclose(fa, fb, rel_tol=rel_tol, abs_tol=abs_tol)
        return a == b
    if ta is not tb:
        return False
    if ta is list:
        return len(a) == len(b) and all(
            plain_equal(x, y, rel_tol, abs_tol) for x, y in zip(a, b, strict=True)
        )
    if ta is dict:
        if a.keys() != b.keys():
            return False
        return all(plain_equal(a[k], b[k], rel_tol, abs_tol) for k in a)
    if ta is Decimal:
        if a.is_nan() or b.is_nan():  # NaN equals NaN (and a signalling NaN would raise on ==)
            return a.is_nan() and b.is_nan() and a.is_snan() == b.is_snan()
        return a == b
    if ta in (str, bytes, frozenset, tuple, Fraction, complex) or a is None:
        return a == b
    return False


def _ws_lines(s: str) -> list[str]:
    return [" ".join(line.split()) for line in s.strip().splitlines()]


def _float_tokens_equal(a: str, b: str, rel_tol: float, abs_tol: float) -> bool:
    ta, tb = a.split(), b.split()
    if len(ta) != len(tb):
        return False
    for x, y in zip(ta, tb, strict=True):
        if x == y:
            continue
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            return False
        if math.isnan(fx) and math.isnan(fy):
            continue
        if not math.isclose(fx, fy, rel_tol=rel_tol, abs_tol=abs_tol):
            return False
    return True


def text_equal(out: str, expected: str, mode: str, rel_tol: float, abs_tol: float) -> bool:
    """Compare stdio outputs."""
    if mode == "exact":
        return out == expected
    if mode == "whitespace":
        return _ws_lines(out) == _ws_lines(expected)
    if mode == "float":
        return _float_tokens_equal(out, expected, rel_tol, abs_tol)
    raise ValueError(f"text comparison mode {mode!r} needs a checker run")


def outputs_equal(style: str, out: Any, expected: Any, mode: str, rel_tol: float, abs_tol: float) -> bool:
    """One entry point for both styles (``out`` and ``expected`` already decoded/normalised)."""
    if style == "stdio":
        if type(out) is not str or type(expected) is not str:
            return False
        return text_equal(out, expected, mode, rel_tol, abs_tol)
    if mode == "float":
        return plain_equal(out, expected, rel_tol, abs_tol)
    if mode == "whitespace" and type(out) is str and type(expected) is str:
        return _ws_lines(out) == _ws_lines(expected)
    return plain_equal(out, expected)
