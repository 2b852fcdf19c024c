"""``synth.evol_instruct`` end to end against the scripted teacher server answering with recorded answers:
operators, rounds, WizardLM's elimination rules, lineage, and the survivors implemented and verified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute
from codefoundry.synth.evol_instruct import (
    BUILT_IN,
    EvolInstructConfig,
    OperatorSpec,
    elimination,
    pick_operator,
)
from codefoundry.testing.teacher_server import ScriptedServer, load_replies

FIXTURE = Path(__file__).parent.parent / "fixtures" / "teacher" / "evol_instruct.json"
INSTRUCTIONS = [
    "Sum the digits of a non-negative integer given as an int.",
    "Reverse a list of integers and return the new list.",
    "Count the vowels in a word given as a lowercase string.",
    "Find the largest element of a non-empty list of integers.",
]


def _recipe(base_url: str, pool: Path) -> Any:
    return recipe_from_dict(
        {
            "name": "evol",
            "sandbox": {"workers": 2},
            "teachers": {"default": {"base_url": base_url, "model": "scripted", "max_retries": 0}},
            "stages": [
                {"kind": "read.instructions", "path": str(pool)},
                {"kind": "synth.evol_instruct", "rounds": 2},
                {"kind": "synth.implement"},
                {"kind": "verify.reference"},
            ],
        }
    )


def test_evolutions_survive_only_the_elimination_rules(tmp_path: Path) -> None:
    pool = tmp_path / "pool.jsonl"
    pool.write_text("\n".join(json.dumps({"instruction": text}) for text in INSTRUCTIONS))
    with ScriptedServer(replies=load_replies(str(FIXTURE)), tasks=True) as server:
        recipe = _recipe(server.base_url, pool)
        execute(recipe, tmp_path / "run")
        asked = [r.body["messages"][-1]["content"] for r in server.generations()]
    evolving = [p for p in asked if "#Given Question#" in p]
    judging = [p for p in asked if "Equal or Not Equal" in p]
    assert len(evolving) == 8  # 4 instructions x 2 rounds (after a failed round the last survivor again)
    assert len(judging) == 2  # round 1: the two that passed the rules (round 2 asks the same pair again: cached)
    run_dir = RunDir(tmp_path / "run")
    stages = plan(recipe)
    evolved = list(run_dir.iter_records(stages[1].name, stages[1].fingerprint))
    assert len(evolved) == 1
    task = evolved[0]["task"]
    assert task["prompt"].startswith("Sum the digits of a non-negative integer given as an int, then repeat")  # header gone
    parent = next(p for p in run_dir.iter_records(stages[0].name, stages[0].fingerprint) if p["task"]["prompt"] == INSTRUCTIONS[0])
    assert task["lineage"]["parent"] == parent["task"]["id"] and task["lineage"]["round"] == 1
    assert task["lineage"]["operator"] in BUILT_IN
    assert task["provenance"]["method"] == "evol_instruct" and "evol_instruct" in task["features"]
    drops = list(run_dir.iter_drops(stages[1].name, stages[1].fingerprint))
    reasons = sorted(d.reason for d in drops)
    assert reasons == sorted(["refusal"] * 2 + ["no_information_gain"] * 2 + ["only_stop_words"] * 2 + ["copied_prompt"])
    assert all(d.record is not None for d in drops)  # each keeps what it dropped
    judged_equal = [d for d in drops if d.reason == "no_information_gain"]
    assert all("judged equal to its parent" in d.detail for d in judged_equal)

    implemented = list(run_dir.iter_records(stages[3].name, stages[3].fingerprint))
    assert len(implemented) == 1
    done = implemented[0]["task"]
    assert done["provenance"]["method"] == "evol_instruct"
    assert done["lineage"]["operator"] == task["lineage"]["operator"] and done["lineage"]["parent"] == task["id"]


def test_rules_without_the_teacher() -> None:
    parent = "Reverse a list of integers."
    assert elimination(parent, "#Rewritten Prompt#: reverse a list of integers in place, in O(1) memory.", 8)[0] == "copied_prompt"  # type: ignore[index]
    assert elimination(parent, "Sorry, I cannot do that.", 8)[0] == "refusal"  # type: ignore[index]
    assert elimination(parent, "Reverse it fast.", 8)[0] == "too_short"  # type: ignore[index]
    assert elimination(parent, "It is what it is and this is what it was.", 8)[0] == "only_stop_words"  # type: ignore[index]
    assert elimination(parent, "Reverse a list of integers in place, using O(1) extra memory and no slicing.", 8) is None


def test_operators_are_pluggable_and_drawn_by_weight() -> None:
    custom = OperatorSpec(name="streaming", instruction="Require one pass over the input as a stream.", weight=3)
    config = EvolInstructConfig(operators=[OperatorSpec(name="misdirection"), custom])
    drawn = [pick_operator(config.operators, f"task|{i}").name for i in range(400)]
    assert 0.65 < drawn.count("streaming") / len(drawn) < 0.85  # weight 3 of 4
    assert drawn == [pick_operator(config.operators, f"task|{i}").name for i in range(400)]  # stable
    with pytest.raises(ValidationError, match="is not built in"):
        OperatorSpec(name="mystery")
