"""The local runner: batches, drops with reasons, streaming, resume by fingerprint, dataset stages, chaining."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path

import pytest

from codefoundry.pipeline import registry
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.runner import run_recipe
from codefoundry.pipeline.stage import Scope, Stage, StageConfig, StageResult
from codefoundry.pipeline.summary import summarize
from codefoundry.recipe import RecipeError, recipe_from_dict
from codefoundry.records import Seed, SourceFile

CALLS: list[tuple[str, int]] = []


class ListFilesConfig(StageConfig):
    count: int = 10


class ListFiles(Stage[SourceFile, SourceFile]):
    kind = "toy.list"
    Config = ListFilesConfig
    input_type = None
    output_type = SourceFile

    def inputs(self) -> list[SourceFile]:
        return [SourceFile(path=f"{i}.py", root="/f", source="toy") for i in range(self.config.count)]

    async def process(self, batch: list[SourceFile]) -> StageResult[SourceFile]:
        return StageResult(records=list(batch))


class DropOddReason(StrEnum):
    ODD = "odd"
    NEVER = "never"


class DropOddConfig(StageConfig):
    modulus: int = 2
    delay_s: float = 0.0


class DropOdd(Stage[SourceFile, SourceFile]):
    """Drops numbers not divisible by ``modulus``; later batches finish first when ``delay_s`` is set."""

    kind = "toy.drop_odd"
    Config = DropOddConfig
    input_type = SourceFile
    output_type = SourceFile
    drop_reasons = DropOddReason
    config: DropOddConfig

    async def process(self, batch: list[SourceFile]) -> StageResult[SourceFile]:
        CALLS.append((self.name, len(batch)))
        numbers = [int(Path(r.path).stem) for r in batch]
        await asyncio.sleep(self.config.delay_s * (10 - min(numbers)) / 10)
        result: StageResult[SourceFile] = StageResult()
        for record, number in zip(batch, numbers, strict=True):
            if number % self.config.modulus:
                result.drops.append(self.drop(record, DropOddReason.ODD, f"{number} is odd"))
            else:
                result.records.append(record)
        return result


class CountAll(Stage[SourceFile, SourceFile]):
    """A dataset stage: sees every record at once and keeps the last three."""

    kind = "toy.last_three"
    Config = StageConfig
    input_type = SourceFile
    output_type = SourceFile
    scope = Scope.DATASET

    async def process_all(self, records: list[SourceFile]) -> StageResult[SourceFile]:
        CALLS.append((self.name, len(records)))
        return StageResult(records=records[-3:])


class ToSeed(Stage[Seed, Seed]):
    kind = "toy.seeds"
    Config = StageConfig
    input_type = Seed
    output_type = Seed


@pytest.fixture(autouse=True)
def toy_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    toys = tuple(f"{__name__}:{name}" for name in ("ListFiles", "DropOdd", "CountAll", "ToSeed"))
    monkeypatch.setattr(registry, "STAGES", registry.STAGES + toys)
    CALLS.clear()


def _recipe(count: int = 10, modulus: int = 2, batch: int = 3, **extra: object):
    return recipe_from_dict(
        {
            "name": "toy",
            "stages": [
                {"kind": "toy.list", "count": count, "batch_size": 4},
                {"kind": "toy.drop_odd", "batch_size": batch, "modulus": modulus, **extra},
                {"kind": "toy.last_three"},
            ],
        }
    )


def _records(run_dir: Path, recipe, index: int) -> list[str]:
    stage = plan(recipe)[index]
    return [Path(r["path"]).stem for r in RunDir(run_dir).iter_records(stage.name, stage.fingerprint)]


def test_run_keeps_evens_and_records_why_odds_were_dropped(tmp_path: Path) -> None:
    recipe = _recipe()
    report = run_recipe(recipe, tmp_path)
    middle = report.stages[1]
    assert (middle.records, middle.drops, middle.batches_run) == (5, 5, 4)
    assert _records(tmp_path, recipe, 1) == ["0", "2", "4", "6", "8"]
    assert _records(tmp_path, recipe, 2) == ["4", "6", "8"]
    stage = plan(recipe)[1]
    drops = list(RunDir(tmp_path).iter_drops(stage.name, stage.fingerprint))
    assert {d.reason for d in drops} == {"odd"} and drops[0].record is not None
    assert drops[0].stage == "01-toy.drop_odd"


def test_summary_lists_every_declared_drop_reason_with_zeros(tmp_path: Path) -> None:
    recipe = _recipe()
    run_recipe(recipe, tmp_path)
    summary = summarize(RunDir(tmp_path), plan(recipe))
    assert summary["stages"][1]["drop_reasons"] == {"odd": 5, "never": 0}


def test_batches_finishing_out_of_order_give_the_records_of_an_ordered_run(tmp_path: Path) -> None:
    ordered = _recipe(max_batches_in_flight=1)
    run_recipe(ordered, tmp_path / "ordered")
    shuffled = _recipe(delay_s=0.05, max_batches_in_flight=4)
    run_recipe(shuffled, tmp_path / "shuffled")
    for index in (1, 2):
        assert _records(tmp_path / "ordered", ordered, index) == _records(
            tmp_path / "shuffled", shuffled, index
        )


def test_second_run_skips_every_committed_batch(tmp_path: Path) -> None:
    recipe = _recipe()
    run_recipe(recipe, tmp_path)
    CALLS.clear()
    report = run_recipe(recipe, tmp_path)
    assert CALLS == []
    assert report.stages[1].records == 5


def test_interrupted_stage_resumes_from_its_last_committed_batch(tmp_path: Path) -> None:
    recipe = _recipe()
    run_recipe(recipe, tmp_path)
    run_dir = RunDir(tmp_path)
    name = plan(recipe)[1].name
    # forget the stage's end marker, its last two batches and everything after, as if killed there
    lines = run_dir.manifest_path.read_text().splitlines(keepends=True)
    forgotten = ('"done"', '"batch":2', '"batch":3')
    kept = [line for line in lines if not (f'"{name}"' in line and any(f in line for f in forgotten))]
    kept = [line for line in kept if '"02-toy.last_three"' not in line]
    run_dir.manifest_path.write_text("".join(kept))
    CALLS.clear()
    report = run_recipe(recipe, tmp_path)
    assert [(name, 3), (name, 1), ("02-toy.last_three", 5)] == CALLS
    assert (report.stages[1].records, report.stages[1].drops) == (5, 5)


def test_a_runtime_knob_changes_nothing_and_resumes(tmp_path: Path) -> None:
    run_recipe(_recipe(), tmp_path)
    CALLS.clear()
    faster = _recipe(max_batches_in_flight=3)
    assert [p.fingerprint for p in plan(faster)] == [p.fingerprint for p in plan(_recipe())]
    run_recipe(faster, tmp_path)
    assert CALLS == []


def test_a_changed_config_reruns_that_stage_and_its_descendants_only(tmp_path: Path) -> None:
    run_recipe(_recipe(), tmp_path)
    CALLS.clear()
    changed = _recipe(modulus=3)
    before, after = plan(_recipe()), plan(changed)
    assert before[0].fingerprint == after[0].fingerprint
    assert before[1].fingerprint != after[1].fingerprint and before[2].fingerprint != after[2].fingerprint
    report = run_recipe(changed, tmp_path)
    assert report.stages[0].batches_skipped == 3 and report.stages[0].batches_run == 0
    assert [name for name, _n in CALLS].count("01-toy.drop_odd") == 4
    assert _records(tmp_path, changed, 1) == ["0", "3", "6", "9"]
    CALLS.clear()
    run_recipe(_recipe(), tmp_path)  # back to the first config: its work is still there
    assert CALLS == []


def test_preview_limits_records_entering_each_stage(tmp_path: Path) -> None:
    report = run_recipe(_recipe(), tmp_path, preview_limit=3)
    assert report.stages[0].records == 3


def test_stages_that_do_not_chain_are_refused_at_load() -> None:
    with pytest.raises(
        RecipeError,
        match=r"stages\[1\] \(toy.seeds\): takes Seed records, but stages\[0\] \(toy.list\) gives SourceFile",
    ):
        recipe_from_dict({"name": "bad", "stages": [{"kind": "toy.list"}, {"kind": "toy.seeds"}]})
    with pytest.raises(RecipeError, match="first stage must be a source"):
        recipe_from_dict({"name": "bad", "stages": [{"kind": "toy.drop_odd"}]})


def test_a_drop_reason_outside_the_stage_enum_is_a_bug() -> None:
    from codefoundry.pipeline.services import Services
    from codefoundry.pipeline.stage import StageContext

    class Other(StrEnum):
        ELSE = "else"

    stage = DropOdd(DropOddConfig(), StageContext(Services(Path("/nonexistent")), "01-toy.drop_odd"))
    with pytest.raises(TypeError, match="not one of its drop reasons"):
        stage.drop(SourceFile(path="1.py", root="/", source="t"), Other.ELSE)


def test_a_new_stage_version_reruns_it_and_what_follows(monkeypatch: pytest.MonkeyPatch) -> None:
    before = [p.fingerprint for p in plan(_recipe())]
    monkeypatch.setattr(DropOdd, "version", 2)
    after = [p.fingerprint for p in plan(_recipe())]
    assert before[0] == after[0] and before[1] != after[1] and before[2] != after[2]


def test_a_stage_that_needs_a_gpu_is_refused_where_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from codefoundry.errors import UserError
    from codefoundry.pipeline.stage import Resources

    monkeypatch.setattr(DropOdd, "resources", classmethod(lambda cls, config: Resources(gpu=True)))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(UserError, match=r"01-toy.drop_odd needs a GPU"):
        run_recipe(_recipe(), tmp_path)
    assert not (tmp_path / "manifest.jsonl").exists()
