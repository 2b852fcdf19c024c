"""``filter.dedup``: one example per task, a dataset-scope stage.

The same prompt can come from two places (a function copied between modules, or ``ntpath.isabs`` and
``posixpath.isabs``, whose docstrings are the same while their tests are not): one task, one example. The
first problem of each task id (in the order the stage before gives them) is kept; every later one is dropped
``duplicate_task`` with the problem kept and both origins in the detail.
"""

from __future__ import annotations

from enum import StrEnum

from codefoundry.pipeline.stage import Scope, Stage, StageConfig, StageResult
from codefoundry.records import Problem


class DedupDrop(StrEnum):
    DUPLICATE_TASK = "duplicate_task"


class OnePerTaskConfig(StageConfig):
    """No settings: the rule is one problem per task id."""


def _origin(problem: Problem) -> str:
    provenance = problem.task.provenance
    return f"{provenance.source}:{provenance.path}:{provenance.qualname}"


class OnePerTask(Stage[Problem, Problem]):
    """Keep the first problem of each task; drop the others with the one kept."""

    kind = "filter.dedup"
    Config = OnePerTaskConfig
    input_type = Problem
    output_type = Problem
    scope = Scope.DATASET
    drop_reasons = DedupDrop

    async def process_all(self, records: list[Problem]) -> StageResult[Problem]:
        result: StageResult[Problem] = StageResult()
        kept: dict[str, Problem] = {}
        for problem in records:
            first = kept.setdefault(problem.task.id, problem)
            if first is problem:
                result.records.append(problem)
            else:
                detail = f"same task as {first.id} ({_origin(first)}); this one from {_origin(problem)}"
                result.drops.append(self.drop(problem, DedupDrop.DUPLICATE_TASK, detail))
        return result
