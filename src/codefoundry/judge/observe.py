"""What a function test observes: the return value, or also the arguments after the call.

A function that works in place (``heapify(items)``, ``insort(items, x)``) returns ``None``; its effect is in
its arguments. For such tasks (``Task.observe_args``) every run appends a small trusted wrapper to the code
under test and calls it instead of the entry point: it calls the entry point and returns
``[return value, [arguments after the call]]``, which the sandbox then converts and judges like any other
result. The wrapper is appended last, so a candidate cannot replace it.
"""

from __future__ import annotations

from codefoundry.records import Task

OBSERVED_ENTRY = "_cf_observed"
_WRAPPER = """

def _cf_observed(*args):
    result = {entry}(*args)
    return [result, list(args)]
"""


def call_target(task: Task, code: str) -> tuple[str, str]:
    """(code to run, entry point to call) for judging ``code`` as a solution of ``task``."""
    if not task.observe_args:
        return code, task.entry_point
    return code + _WRAPPER.format(entry=task.entry_point), OBSERVED_ENTRY
