"""The one status vocabulary: every verdict, wire message and stored record spells statuses from here.

A ``StrEnum`` so a member is its string: the serialized values (``"pass"``, ``"wrong_answer"``...) are
what caches and records hold, and must never change. Stdlib only: the fork-server imports it too.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How one test (or a whole candidate) ended."""

    OK = "ok"  # collect mode: the test ran and produced an output (no expectation to compare against)
    PASS = "pass"
    WRONG_ANSWER = "wrong_answer"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    COMPILE_ERROR = "compile_error"
    SKIPPED = "skipped"  # not run because an earlier test failed and stop_on_first_failure was set
    SANDBOX_ERROR = "sandbox_error"  # the sandbox itself failed (never the candidate's fault); logged loudly


# What a child may claim for one test (anything else it claims is read as a runtime error).
CHILD_CLAIMS = frozenset({Status.OK, Status.RUNTIME_ERROR, Status.MEMORY_LIMIT, Status.OUTPUT_LIMIT})

# What a child may claim for its program as a whole when it ends abnormally (stdio style).
CHILD_EXIT_CLAIMS = frozenset({Status.RUNTIME_ERROR, Status.MEMORY_LIMIT, Status.OUTPUT_LIMIT})

# What a single test can end with; compile and sandbox errors concern the whole request.
PER_TEST = frozenset(Status) - {Status.COMPILE_ERROR, Status.SANDBOX_ERROR}

# A test that ended like this counts as passed.
SUCCESSES = frozenset({Status.PASS, Status.OK})

# A test that ended like this stops the rest under stop_on_first_failure.
FAILURES = frozenset(Status) - SUCCESSES - {Status.SKIPPED}
