"""codefoundry's execution engine: the only path by which model-written code is run.

``Sandbox`` (warm fork-servers, layered isolation, verdicts decided outside the candidate) with
``SandboxConfig``; request/response types live in ``codefoundry.sandbox.api``.
"""

from codefoundry.sandbox.api import Compare, ExecRequest, ExecResult, Limits, TestInput, TestVerdict
from codefoundry.sandbox.config import LayerReport, SandboxConfig
from codefoundry.sandbox.supervisor import Sandbox, SandboxError

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
