"""``synth.self_instruct`` end to end against the scripted teacher server answering with a recorded answer:
rounds, the paper's filters, the ROUGE-L novelty filter, and the instructions implemented and verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.read.instructions import builtin_pool
from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute
from codefoundry.synth.self_instruct import SelfInstructConfig, clean, rejection
from codefoundry.testing.teacher_server import ScriptedServer, load_replies

FIXTURE = Path(__file__).parent.parent / "fixtures" / "teacher" / "self_instruct.json"


def _recipe(base_url: str) -> Any:
    return recipe_from_dict(
        {
            "name": "self-instruct",
            "sandbox": {"workers": 2},
            "teachers": {"default": {"base_url": base_url, "model": "scripted", "max_retries": 0}},
            "stages": [
                {"kind": "read.instructions"},
                {"kind": "synth.self_instruct", "rounds": 2, "prompts_per_round": 2},
                {"kind": "synth.implement", "batch_size": 4},
                {"kind": "verify.reference"},
            ],
        }
    )


def test_rounds_grow_the_pool_with_novel_instructions_only(tmp_path: Path) -> None:
    with ScriptedServer(replies=load_replies(str(FIXTURE)), tasks=True) as server:
        recipe = _recipe(server.base_url)
        execute(recipe, tmp_path)
        asked = [r.body["messages"][-1]["content"] for r in server.generations()]
        execute(recipe, tmp_path)  # a second run resumes: no new call
        assert len(server.generations()) == len(asked)
    few_shot = [p for p in asked if p.startswith("Come up with")]
    assert len(few_shot) == 4  # 2 rounds x 2 prompts
    seeds = [row["instruction"] for row in builtin_pool()]
    for prompt in few_shot[:2]:  # round 1 shows seeds only
        assert sum(seed in prompt for seed in seeds) == 3
    run_dir = RunDir(tmp_path)
    stages = plan(recipe)
    kept = list(run_dir.iter_records(stages[1].name, stages[1].fingerprint))
    assert len(kept) == 6  # the five recorded tasks and the cleaned numbered one; nothing new after that
    kept_texts = [k["task"]["prompt"] for k in kept]
    assert "Compute the median of a list of numbers without sorting the whole list." in kept_texts  # "3. " stripped
    for prompt in few_shot[2:]:  # round 2 shows 3 seeds and 2 instructions kept in round 1
        assert sum(seed in prompt for seed in seeds) == 3
        assert sum(text in prompt for text in kept_texts) == 2
    assert {k["task"]["lineage"]["round"] for k in kept} == {1}
    assert all(k["task"]["provenance"]["method"] == "self_instruct" and k["reference"] is None for k in kept)
    reasons = sorted(d.reason for d in run_dir.iter_drops(stages[1].name, stages[1].fingerprint))
    # the first prompt: blocked, short, bad start, a copied seed and a reworded one; then 11 repeats x 3 prompts
    assert reasons.count("blocked_keyword") == 4 and reasons.count("too_short") == 4
    assert reasons.count("bad_start") == 4
    assert reasons.count("not_novel") == 2 * 4 + 6 * 3
    reworded = [
        d for d in run_dir.iter_drops(stages[1].name, stages[1].fingerprint) if "its words in reverse" in d.detail
        or (d.record or {}).get("task", {}).get("prompt", "").startswith("Given a sentence, return its words")
    ]
    assert reworded and all(d.reason == "not_novel" and "ROUGE-L 0." in d.detail for d in reworded)

    implemented = list(run_dir.iter_records(stages[3].name, stages[3].fingerprint))
    assert implemented  # the scripted teacher's tasks: nine in ten agree with their tests
    for problem in implemented:
        task = problem["task"]
        assert task["provenance"]["method"] == "self_instruct"
        assert task["lineage"]["round"] == 1 and task["lineage"]["parent"] in {k["task"]["id"] for k in kept}
        assert problem["reference"]["role"] == "reference" and problem["tests"]


def test_the_filters_of_the_paper() -> None:
    cfg = SelfInstructConfig()
    assert rejection("Sort it now.", cfg)[0] == "too_short"  # type: ignore[index]
    assert rejection("Plot the prices of a stock over a year as a line chart.", cfg)[0] == "blocked_keyword"  # type: ignore[index]
    assert rejection(" ".join(["word"] * 151), cfg)[0] == "too_long"  # type: ignore[index]
    assert rejection("Find the longest sliding window whose sum is below k.", cfg) is None
    assert clean('  Task 12: "Reverse the bits of a 32-bit integer."') == "Reverse the bits of a 32-bit integer."
