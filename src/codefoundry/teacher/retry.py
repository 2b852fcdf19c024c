"""Retry policy: which answers are worth another attempt, and how long to wait before it.

429, 408/409/425, every 5xx, timeouts, connection errors and garbled bodies are transient (``Retryable``);
any other 4xx is final (``TeacherFailure``). Waits grow exponentially with "equal jitter" and honour
``Retry-After``, capped, so a busy server is given room without a client stalling on a silly header.
"""

from __future__ import annotations

import email.utils
import random
import time

from codefoundry.teacher.types import TeacherFailure

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class Retryable(Exception):
    """A transient fault of one attempt; ``reason`` is the label counted in the accounting's retries."""

    def __init__(self, reason: str, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(
    attempt: int,
    retry_after: float | None,
    *,
    base_s: float,
    max_s: float,
    retry_after_max_s: float,
    rng: random.Random,
) -> float:
    """Seconds to sleep before retry ``attempt + 1``: between half and all of ``base * 2^attempt`` (capped),
    and at least the server's Retry-After (capped at ``retry_after_max_s``)."""
    ceiling = min(max_s, base_s * (2**attempt))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)  # "equal jitter": spread, never zero
    if retry_after is not None:
        delay = max(delay, min(retry_after, retry_after_max_s))
    return delay


def raise_for_status(status: int, raw: bytes, retry_after: str | None, *, sent_format: bool) -> None:
    """Raise Retryable or TeacherFailure for a non-200 answer; ``sent_format``: the body had response_format.

    A 400/422 about structured output becomes ``response_format_rejected`` (the client then asks in words).
    """
    if status == 200:
        return
    detail = raw[:300].decode("utf-8", "replace")
    if status in RETRY_STATUS or status >= 500:
        reason = "rate_limited" if status == 429 else f"http_{status}"
        raise Retryable(reason, detail, parse_retry_after(retry_after))
    if status in (400, 422) and sent_format and _about_format(detail):
        raise Retryable("response_format_rejected", detail)
    raise TeacherFailure(f"http_{status}", detail)


def _about_format(error: str) -> bool:
    """Does a 400/422 complain about structured output (not, say, a prompt too long for the context)?"""
    error = error.lower()
    return any(
        word in error for word in ("response_format", "json_schema", "json_object", "schema", "guided")
    )
