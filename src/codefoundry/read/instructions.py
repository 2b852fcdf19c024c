"""``read.instructions``: a pool of instructions to grow from (Self-Instruct) or to evolve (Evol-Instruct).

The pool is the built-in one (48 varied programming tasks written for codefoundry, over 16 topics, in
``synth/pools/seed_tasks.jsonl``) or the user's JSONL (optionally gzipped) or Parquet file, one instruction
per row in the field ``field``. Each becomes a problem holding only a task (an instruction: no solution,
no tests yet). A row without the field stops the run with one line naming the file, the row and the field.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import Field

from codefoundry.pipeline.stage import NoDrops, Stage, StageConfig, StageResult
from codefoundry.read.tasks import TasksFileError, _rows
from codefoundry.records import Problem, Provenance, Task

BUILTIN = "builtin"


class ReadInstructionsConfig(StageConfig):
    path: str = Field(BUILTIN, description="'builtin' (the project's seed pool) or a JSONL / JSONL.gz / Parquet file")
    field: str = Field("instruction", description="the field holding each row's instruction")
    source: str = Field("", description="the provenance source name (default: the file's name)")
    licence: str = Field("", description="the pool's licence, recorded with every instruction")
    batch_size: int = 64


def builtin_pool() -> list[dict[str, str]]:
    """The project's own seed instructions (id, topic, instruction)."""
    import json

    text = resources.files("codefoundry.synth").joinpath("pools/seed_tasks.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_instructions(config: ReadInstructionsConfig) -> list[Problem]:
    """Every instruction of the pool as a task-only problem, in file order (duplicates once)."""
    problems: dict[str, Problem] = {}
    if config.path == BUILTIN:
        for number, row in enumerate(builtin_pool(), 1):
            provenance = Provenance(
                source="codefoundry:seed_tasks", path="seed_tasks.jsonl", qualname=row["id"], line=number,
                method="seed", package="codefoundry", licence="Apache-2.0",
            )
            task = Task(prompt=row["instruction"], provenance=provenance, features=[row["topic"]])
            problems.setdefault(task.id, Problem(task=task))
        return list(problems.values())
    path = Path(config.path).expanduser()
    for number, row in _rows(path):
        value = row.get(config.field)
        if not isinstance(value, str) or not value.strip():
            raise TasksFileError(f"{path}:{number}: field {config.field!r}: expected a non-empty string, got {value!r:.60}")
        provenance = Provenance(
            source=config.source or path.name, path=path.name, line=number, method="seed", licence=config.licence
        )
        task = Task(prompt=value.strip(), provenance=provenance)
        problems.setdefault(task.id, Problem(task=task))
    return list(problems.values())


class ReadInstructions(Stage[Problem, Problem]):
    """Lists the pool's instructions; the records are complete when listed."""

    kind = "read.instructions"
    Config = ReadInstructionsConfig
    input_type = None
    output_type = Problem
    drop_reasons = NoDrops
    config: ReadInstructionsConfig

    def inputs(self) -> list[Problem]:
        return read_instructions(self.config)

    async def process(self, batch: list[Problem]) -> StageResult[Problem]:
        return StageResult(records=list(batch))
