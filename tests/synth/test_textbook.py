"""``synth.textbook`` end to end against the scripted teacher server answering with recorded textbook sections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute
from codefoundry.synth.textbook import (
    TOPICS,
    Level,
    Topic,
    parse_lesson,
    topic_grid,
)
from codefoundry.testing.answers import answer
from codefoundry.testing.teacher_server import ScriptedServer, load_replies

FIXTURE = Path(__file__).parent.parent / "fixtures" / "teacher" / "textbook.json"
# the first four are the recorded answers' topics (two good, one disagreeing, one without a lesson)
TOPICS_ASKED = ["recursion", "binary search", "prefix sums", "bit manipulation", "sets", "stacks"]


def _recipe(base_url: str) -> Any:
    return recipe_from_dict(
        {
            "name": "textbook",
            "sandbox": {"workers": 2},
            "teachers": {"default": {"base_url": base_url, "model": "scripted", "max_retries": 0}},
            "stages": [
                {"kind": "synth.textbook", "topics": TOPICS_ASKED, "limit": 4, "batch_size": 2, "min_tests": 3},
                {"kind": "verify.reference"},
            ],
        }
    )


def test_textbook_sections_become_verified_exercises_that_keep_their_lesson(tmp_path: Path) -> None:
    with ScriptedServer(replies=load_replies(str(FIXTURE))) as server:
        recipe = _recipe(server.base_url)
        summary = execute(recipe, tmp_path)
        prompts = [r.body["messages"][-1]["content"] for r in server.generations()]
    # a limit of 4 asks about the first 4 topics, one section each, with the levels rotated; then an exercise
    # for each section long enough to be a lesson (bit manipulation's is a title)
    lessons = [p for p in prompts if "Write only the section" in p]
    exercises = [p for p in prompts if "Write the exercise for the section on" in p]
    assert len(lessons) == 4 and len(exercises) == 3 and len(prompts) == 7
    for topic, level in zip(TOPICS_ASKED[:4], ["beginner", "intermediate", "advanced", "beginner"], strict=True):
        assert sum(f"teaches {topic} in Python 3, for {level} readers" in p for p in lessons) == 1
    assert not any("teaches sets" in p or "teaches stacks" in p for p in prompts)
    assert all("signature followed by a docstring" in p and '"entry_point"' in p for p in exercises)
    assert any("## Recursion" in p for p in exercises)  # the section is in its exercise's prompt

    run_dir = RunDir(tmp_path)
    stages = plan(recipe)
    drops = list(run_dir.iter_drops(stages[0].name, stages[0].fingerprint))
    assert sorted(d.reason for d in drops) == ["missing_section", "tests_disagree"]
    missing = next(d for d in drops if d.reason == "missing_section")
    assert missing.record is not None and missing.record["topic"] == "bit manipulation"  # the Topic
    assert "no lesson" in missing.detail and "--- answer ---\nBit manipulation." in missing.detail  # the raw answer kept
    disagree = next(d for d in drops if d.reason == "tests_disagree")
    assert "0/6" in disagree.detail
    assert disagree.record is not None and disagree.record["task"]["features"] == ["textbook", "prefix sums", "advanced"]

    kept = {p["task"]["entry_point"]: p for p in run_dir.iter_records(stages[1].name, stages[1].fingerprint)}
    assert set(kept) == {"digit_sum", "first_at_least"}
    for name, topic, level in (("digit_sum", "recursion", "beginner"), ("first_at_least", "binary search", "intermediate")):
        task = kept[name]["task"]
        assert task["lesson"].startswith("## ") and len(task["lesson"]) > 300 and "```python" in task["lesson"]
        assert task["prompt"].startswith(f"def {name}(") and '"""' in task["prompt"]
        assert task["provenance"] == {**task["provenance"], "source": "textbook", "method": "textbook", "qualname": f"{topic}/{level}"}
        assert task["lineage"]["operator"] == level
        assert task["lineage"]["parent"] == Topic(topic=topic, level=Level(level)).id
        assert task["features"] == ["textbook", topic, level]
        assert {t["split"] for t in kept[name]["tests"]} == {"visible", "holdout"}
        assert kept[name]["reports"]["agreement"]["agreeing"] == kept[name]["reports"]["agreement"]["total"]

    assert summary["final"]["tasks"] == 2
    rows = [json.loads(line) for line in (tmp_path / "export" / "sft.jsonl").read_text().splitlines()]
    assert {row["lesson"][:15] for row in rows} == {"## Recursion\n\nA", "## Binary searc"}
    assert all(row["messages"][0]["content"].startswith("def ") for row in rows)
    assert all(row["method"] == "textbook" for row in rows)


def test_topics_are_interleaved_and_every_combination_listed_once() -> None:
    grid = topic_grid(["a", "b", "c", "d"], list(Level), 2)
    assert len(grid) == len({t.id for t in grid}) == 4 * 3 * 2
    assert [(t.topic, t.level.value) for t in grid[:5]] == [
        ("a", "beginner"), ("b", "intermediate"), ("c", "advanced"), ("d", "beginner"), ("a", "intermediate"),
    ]
    assert {(t.topic, t.level, t.index) for t in grid} == {
        (topic, level, index) for topic in "abcd" for level in Level for index in range(2)
    }
    default = topic_grid(list(TOPICS), list(Level), 1)
    assert len(TOPICS) >= 25 and len({t.topic for t in default[:10]}) == 10


def test_a_lesson_must_be_a_section_not_a_title() -> None:
    from codefoundry.synth.teacher_prompt import ParseError

    lesson = load_replies(str(FIXTURE))[4][1][0]  # recursion's section
    assert parse_lesson(f"\n{lesson}\n") == lesson.strip()
    with pytest.raises(ParseError, match="no lesson") as caught:
        parse_lesson("## Recursion in Python 3: A Short Introduction")
    assert caught.value.reason == "missing_section"


def test_recorded_replies_pick_by_marker_then_fall_back() -> None:
    replies = [("alpha", ["A1", "A2"]), ("say", ["first-say"]), ("beta", ["B"])]
    body = {"messages": [{"role": "system", "content": "about beta"}, {"role": "user", "content": "say alpha"}]}
    picked = {answer(body, key, 0, 0, "ok", replies=replies)[0] for key in map(str, range(20))}
    assert picked == {"A1", "A2"}  # the first matching marker wins, the answer picked by the request's key
    assert answer(body, "k", 0, 0, "ok", replies=replies) == answer(body, "k", 1, 0, "ok", replies=replies)
    system_only = {"messages": [{"role": "system", "content": "beta"}, {"role": "user", "content": "x"}]}
    assert answer(system_only, "k", 0, 0, "ok", replies=replies)[0] == "B"  # any message's text counts
    other = {"messages": [{"role": "user", "content": "zzz"}]}
    assert "```python" in answer(other, "k", 0, 0, "ok", replies=replies)[0]  # the usual answer
    assert answer(body, "k", 0, 0, "refusal", replies=replies)[0].startswith("I'm sorry")  # faults still apply
