"""Figures per synthesis method, on a recipe that mixes methods (a source after the first adds its records)."""

from __future__ import annotations

import json
from pathlib import Path

from codefoundry.pipeline.methods import method_figures
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.summary import summarize
from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute
from codefoundry.testing.teacher_server import ScriptedServer, load_replies

FIXTURES = Path(__file__).parent.parent / "fixtures" / "teacher"
INSTRUCTIONS = [
    "Sum the digits of a non-negative integer given as an int.",
    "Count the vowels in a word given as a lowercase string.",
]


def test_a_mixed_recipe_reports_each_method(tmp_path: Path) -> None:
    pool = tmp_path / "pool.jsonl"
    pool.write_text("\n".join(json.dumps({"instruction": text}) for text in INSTRUCTIONS))
    replies = load_replies(str(FIXTURES / "evol_instruct.json")) + load_replies(str(FIXTURES / "textbook.json"))
    with ScriptedServer(replies=replies, tasks=True) as server:
        recipe = recipe_from_dict(
            {
                "name": "mix",
                "sandbox": {"workers": 2},
                "teachers": {"default": {"base_url": server.base_url, "model": "scripted", "max_retries": 0}},
                "stages": [
                    {"kind": "read.instructions", "path": str(pool)},
                    {"kind": "synth.evol_instruct", "rounds": 1, "keep_inputs": True},
                    {"kind": "synth.textbook", "topics": ["recursion", "binary search", "prefix sums"], "limit": 3},
                    {"kind": "synth.implement"},
                    {"kind": "verify.reference"},
                ],
            }
        )
        execute(recipe, tmp_path / "run")
    figures = method_figures(RunDir(tmp_path / "run"), plan(recipe))
    assert set(figures) == {"evol_instruct", "seed", "textbook"}
    evol, seed, textbook = figures["evol_instruct"], figures["seed"], figures["textbook"]
    assert evol["instructions"] == 1  # one evolution survived (the vowels one was judged equal)
    assert (textbook["generated"], textbook["verified"]) == (3, 2)  # one lacked its lesson (not a task), one disagreed
    assert textbook["mix"] == {"python/function": 2} and textbook["near_duplicate_rate"] == 0.0
    assert seed["generated"] == seed["verified"] == 2  # the two seed instructions, implemented by the teacher
    # the scripted teacher words every task alike ("Write scaled_sum_X(a, b) that returns a multiplied by ..."):
    # the second is a near-duplicate of the first
    assert seed["near_duplicate_rate"] == 0.5
    assert evol["generated"] == 1 and evol["verified"] in (0, 1)
    for m in (evol, seed, textbook):
        assert m["teacher_tokens"] > 0
    per_1k = textbook["verified_per_1k_tokens"]
    assert per_1k == round(1000 * textbook["verified"] / textbook["teacher_tokens"], 3)
    summary = summarize(RunDir(tmp_path / "run"), plan(recipe))
    assert summary["methods"] == figures


def test_a_record_without_a_task_counts_for_the_stage_that_handled_it() -> None:
    from codefoundry.pipeline.methods import method_of

    assert method_of({"task": {"provenance": {"method": "oss_instruct"}}}, "synth.implement") == "oss_instruct"
    assert method_of({"name": "a seed"}, "synth.oss_instruct") == "oss_instruct"
