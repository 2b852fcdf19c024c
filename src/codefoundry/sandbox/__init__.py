"""codefoundry's execution engine: the only path by which model-written code is run.

``Sandbox`` (warm fork-servers, layered isolation, verdicts decided outside the candidate) with
``SandboxConfig``; request/response types live in ``codefoundry.sandbox.api``.

The names below load on first use: the fork-server imports modules of this package too, and importing the
public API (pydantic and its models) there would triple its heap, and with it the cost of every fork.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codefoundry.sandbox.api import Compare, ExecRequest, ExecResult, Limits, TestInput, TestVerdict
    from codefoundry.sandbox.config import LayerReport, SandboxConfig
    from codefoundry.sandbox.supervisor import Sandbox, SandboxError

_HOME = {
    "Compare": "api",
    "ExecRequest": "api",
    "ExecResult": "api",
    "Limits": "api",
    "TestInput": "api",
    "TestVerdict": "api",
    "LayerReport": "config",
    "SandboxConfig": "config",
    "Sandbox": "supervisor",
    "SandboxError": "supervisor",
}

__all__ = [
    "Compare",
    "ExecRequest",
    "ExecResult",
    "LayerReport",
    "Limits",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "TestInput",
    "TestVerdict",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'codefoundry.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(f"codefoundry.sandbox.{module}"), name)
