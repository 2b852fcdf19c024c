"""A recipe's stages as a run sees them: class, config, directory name and fingerprint, in order.

The runner, ``status``, ``export`` and the summary all read a run directory through this plan, so they agree
on which shards are current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codefoundry.pipeline.fingerprint import stage_fingerprint
from codefoundry.pipeline.registry import stage_classes

if TYPE_CHECKING:
    from codefoundry.pipeline.stage import Stage, StageConfig
    from codefoundry.recipe import Recipe


@dataclass(frozen=True)
class PlannedStage:
    index: int
    name: str  # position + kind: the stage's folder, so a kind may appear twice
    cls: type[Stage[Any, Any]]
    config: StageConfig
    fingerprint: str


def plan(recipe: Recipe) -> list[PlannedStage]:
    """Every stage of ``recipe`` with its name and fingerprint (each chained to the one before)."""
    from codefoundry.sandbox.cache import ENGINE_VERSION

    classes = stage_classes()
    planned: list[PlannedStage] = []
    upstream: str | None = None
    for index, config in enumerate(recipe.stages):
        cls = classes[config.kind]
        resources = cls.resources(config)
        teachers = {name: recipe.teachers[name] for name in resources.teachers if name in recipe.teachers}
        fingerprint = stage_fingerprint(
            cls,
            config,
            upstream,
            teachers=teachers,
            engine_version=ENGINE_VERSION if resources.sandbox_share > 0 else None,
        )
        planned.append(PlannedStage(index, f"{index:02d}-{config.kind}", cls, config, fingerprint))
        upstream = fingerprint
    return planned
