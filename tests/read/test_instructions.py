"""``read.instructions``: the built-in seed pool or a user's file, and a source that adds to a stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codefoundry.errors import UserError
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.runner import run_recipe
from codefoundry.read.instructions import ReadInstructionsConfig, builtin_pool, read_instructions
from codefoundry.recipe import RecipeError, recipe_from_dict


def test_the_builtin_pool_is_varied_and_recorded_with_its_licence() -> None:
    problems = read_instructions(ReadInstructionsConfig())
    assert len(problems) == len(builtin_pool()) >= 40
    assert len({p.task.features[0] for p in problems}) >= 12  # topics
    assert all(p.reference is None and not p.tests for p in problems)
    assert {p.task.provenance.licence for p in problems} == {"Apache-2.0"}
    assert {p.task.provenance.method for p in problems} == {"seed"}


def test_a_user_file_is_read_by_its_field_and_a_missing_field_is_one_line(tmp_path: Path) -> None:
    good = tmp_path / "pool.jsonl"
    good.write_text("\n".join(json.dumps({"text": f"Sort the list number {i} in place."}) for i in range(3)))
    problems = read_instructions(ReadInstructionsConfig(path=str(good), field="text", licence="CC0-1.0"))
    assert [p.task.prompt for p in problems] == [f"Sort the list number {i} in place." for i in range(3)]
    assert problems[0].task.provenance.path == "pool.jsonl"  # never the machine's path
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "fine"}) + "\n" + json.dumps({"other": 1}) + "\n")
    with pytest.raises(UserError, match=r"bad.jsonl:2: field 'text': expected a non-empty string"):
        read_instructions(ReadInstructionsConfig(path=str(bad), field="text"))


def test_a_source_after_the_first_adds_its_records_to_those_before_it(tmp_path: Path) -> None:
    pool = tmp_path / "mine.jsonl"
    pool.write_text("\n".join(json.dumps({"instruction": f"Count the vowels of word {i}."}) for i in range(5)))
    recipe = recipe_from_dict(
        {
            "name": "two-sources",
            "stages": [
                {"kind": "read.instructions", "limit": 4},
                {"kind": "read.instructions", "path": str(pool), "batch_size": 2},
            ],
        }
    )
    run_recipe(recipe, tmp_path / "run")
    stages = plan(recipe)
    kept = list(RunDir(tmp_path / "run").iter_records(stages[1].name, stages[1].fingerprint))
    assert len(kept) == 5 + 4  # its own five, then the four before it, unchanged
    assert [k["task"]["provenance"]["path"] for k in kept[:5]] == ["mine.jsonl"] * 5
    assert {k["task"]["provenance"]["path"] for k in kept[5:]} == {"seed_tasks.jsonl"}
    again = run_recipe(recipe, tmp_path / "run")  # resumes: nothing redone, nothing duplicated
    assert again.stages[1].records == 9 and again.stages[1].batches_run == 0


def test_a_source_after_the_first_must_give_what_the_stage_before_gives() -> None:
    with pytest.raises(RecipeError, match=r"adds Problem records to those of the stage before it"):
        recipe_from_dict(
            {
                "name": "bad",
                "stages": [{"kind": "mine.functions", "corpus": {"kind": "stdlib"}}, {"kind": "read.instructions"}],
            }
        )
