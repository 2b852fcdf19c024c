"""The local runner: batches, drops with reasons, resume skipping committed batches, preview limits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.runner import run_recipe, stage_names
from codefoundry.pipeline.stage import Stage, StageConfig, StageResult
from codefoundry.recipe import STAGE_REGISTRY, RecipeError, recipe_from_dict
from codefoundry.records import SourceFile

CALLS: list[int] = []


class ListFilesConfig(StageConfig):
    kind: Literal["toy.list"] = "toy.list"
    count: int = 10


class ListFiles(Stage[SourceFile, SourceFile]):
    kind = "toy.list"
    Config = ListFilesConfig
    input_type = None
    output_type = SourceFile

    def inputs(self) -> list[SourceFile]:
        return [SourceFile(path=f"/f/{i}.py", source="toy") for i in range(self.config.count)]

    def process(self, batch: list[SourceFile]) -> StageResult[SourceFile]:
        return StageResult(records=list(batch))


class DropOddConfig(StageConfig):
    kind: Literal["toy.drop_odd"] = "toy.drop_odd"


class DropOdd(Stage[SourceFile, SourceFile]):
    kind = "toy.drop_odd"
    Config = DropOddConfig
    input_type = SourceFile
    output_type = SourceFile

    def process(self, batch: list[SourceFile]) -> StageResult[SourceFile]:
        CALLS.append(len(batch))
        result: StageResult[SourceFile] = StageResult()
        for record in batch:
            number = int(Path(record.path).stem)
            if number % 2:
                result.drops.append(self.drop(record, "odd", f"{number} is odd"))
            else:
                result.records.append(record)
        return result


@pytest.fixture()
def toy_recipe(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(STAGE_REGISTRY, "toy.list", f"{__name__}:ListFiles")
    monkeypatch.setitem(STAGE_REGISTRY, "toy.drop_odd", f"{__name__}:DropOdd")
    CALLS.clear()
    return recipe_from_dict(
        {
            "name": "toy",
            "stages": [{"kind": "toy.list", "count": 10, "batch_size": 4}, {"kind": "toy.drop_odd", "batch_size": 3}],
        }
    )


def test_run_keeps_evens_and_records_why_odds_were_dropped(tmp_path: Path, toy_recipe) -> None:
    report = run_recipe(toy_recipe, tmp_path)
    last = report.stages[-1]
    assert (last.records, last.drops, last.batches_run) == (5, 5, 4)
    run_dir = RunDir(tmp_path)
    name = stage_names(toy_recipe)[-1]
    assert [Path(r["path"]).stem for r in run_dir.iter_records(name)] == ["0", "2", "4", "6", "8"]
    drops = list(run_dir.iter_drops(name))
    assert {d.reason for d in drops} == {"odd"} and drops[0].record is not None


def test_second_run_skips_every_committed_batch(tmp_path: Path, toy_recipe) -> None:
    run_recipe(toy_recipe, tmp_path)
    CALLS.clear()
    report = run_recipe(toy_recipe, tmp_path)
    assert CALLS == []
    assert report.stages[-1].records == 5


def test_interrupted_stage_resumes_from_its_last_committed_batch(tmp_path: Path, toy_recipe) -> None:
    run_recipe(toy_recipe, tmp_path)
    run_dir = RunDir(tmp_path)
    name = stage_names(toy_recipe)[-1]
    # forget the stage's end marker and its last two batches, as if the run had been killed there
    lines = run_dir.manifest_path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not (f'"{name}"' in line and ('"done"' in line or '"batch":2' in line or '"batch":3' in line))]
    run_dir.manifest_path.write_text("".join(kept))
    CALLS.clear()
    report = run_recipe(toy_recipe, tmp_path)
    assert CALLS == [3, 1]
    assert (report.stages[-1].records, report.stages[-1].drops) == (5, 5)


def test_preview_limits_records_entering_each_stage(tmp_path: Path, toy_recipe) -> None:
    report = run_recipe(toy_recipe, tmp_path, preview_limit=3)
    assert report.stages[0].records == 3


def test_resume_with_a_changed_recipe_is_refused(tmp_path: Path, toy_recipe) -> None:
    run_recipe(toy_recipe, tmp_path)
    changed = toy_recipe.model_copy(deep=True)
    changed.stages[0].count = 11
    with pytest.raises(RecipeError, match="different recipe"):
        run_recipe(changed, tmp_path)
