"""Running one stage outside a run (tests, notebooks): a context with the run's services in a folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from codefoundry.pipeline.services import Services
from codefoundry.pipeline.stage import StageContext

if TYPE_CHECKING:
    from codefoundry.sandbox import Sandbox


def stage_context(run_dir: Path, sandbox: Sandbox | None = None, name: str = "test") -> StageContext:
    """A stage's context outside a run: services in ``run_dir``, sharing ``sandbox`` if one is given."""
    return StageContext(Services(run_dir, sandbox=sandbox), name)
