"""The ``codefoundry sandbox`` commands, called through Typer's runner on the sub-app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from codefoundry.cli.sandbox import app

runner = CliRunner()


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_run_prints_status_and_output(tmp_path):
    (tmp_path / "p.py").write_text("import sys\nx = sys.stdin.read()\nprint(x.upper())\nsys.exit(3)\n")
    (tmp_path / "in.txt").write_text("hi")
    r = runner.invoke(
        app, ["run", str(tmp_path / "p.py"), "--language", "python", "--stdin", str(tmp_path / "in.txt")]
    )
    assert r.exit_code == 0, r.output
    out = last_json(r.stdout)
    assert out["status"] == "runtime_error" and out["exit_code"] == 3 and out["stdout"] == "HI\n"
    assert {"stderr", "time_s", "peak_memory_mb"} <= out.keys()


def test_run_time_limit(tmp_path):
    (tmp_path / "p.py").write_text("while True:\n    pass\n")
    r = runner.invoke(app, ["run", str(tmp_path / "p.py"), "--language", "python", "--time-limit", "0.5"])
    assert last_json(r.stdout)["status"] == "timeout"


def test_judge_function_and_stdio(tmp_path):
    (tmp_path / "t.json").write_text(
        json.dumps(
            {
                "language": "python",
                "style": "function",
                "entry_point": "add",
                "tests": [{"args": [1, 2], "expected": 3}],
            }
        )
    )
    (tmp_path / "s.py").write_text("def add(a, b):\n    return a + b\n")
    r = runner.invoke(app, ["judge", str(tmp_path / "t.json"), str(tmp_path / "s.py")])
    assert r.exit_code == 0 and last_json(r.stdout)["passed"] is True
    (tmp_path / "t2.json").write_text(
        json.dumps({"language": "python", "style": "stdio", "tests": [{"stdin": "1 2\n", "expected": "3\n"}]})
    )
    (tmp_path / "s2.py").write_text("print(sum(map(int, input().split())) + 1)\n")
    r = runner.invoke(app, ["judge", str(tmp_path / "t2.json"), str(tmp_path / "s2.py")])
    out = last_json(r.stdout)
    assert out["passed"] is False and out["verdicts"][0]["status"] == "wrong_answer"


def test_judge_bad_input_is_one_clear_line(tmp_path):
    sol = tmp_path / "s.py"
    sol.write_text("def add(a, b):\n    return a + b\n")
    cases = {
        "missing.json": None,
        "broken.json": "{",
        "extra.json": json.dumps(
            {"style": "function", "entry_point": "add", "tests": [{"args": [1], "expected": 1}], "x": 1}
        ),
        "style.json": json.dumps({"style": "weird", "tests": [{"stdin": ""}]}),
        "noentry.json": json.dumps({"style": "function", "tests": [{"args": [1], "expected": 1}]}),
    }
    for name, text in cases.items():
        p = tmp_path / name
        if text is not None:
            p.write_text(text)
        r = runner.invoke(app, ["judge", str(p), str(sol)])
        assert r.exit_code == 2, (name, r.output)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0] and "Traceback" not in r.output, (name, r.stderr)
    r = runner.invoke(app, ["judge", str(tmp_path / "extra.json"), str(tmp_path / "nope.py")])
    assert r.exit_code == 2


def test_doctor_lists_layers_and_languages():
    r = runner.invoke(app, ["doctor"])
    assert r.exit_code == 0
    for word in ("landlock", "seccomp", "pidns", "python"):
        assert word in r.stdout


def test_humaneval_writes_results(tmp_path):
    from codefoundry.eval.humaneval import load_problems

    probs = load_problems()
    samples = tmp_path / "samples.jsonl"
    rows = [
        {"task_id": "HumanEval/0", "completion": probs["HumanEval/0"].extra["canonical_solution"]},
        {"task_id": "HumanEval/0", "completion": "    return True\n"},
        {"task_id": "HumanEval/32", "completion": probs["HumanEval/32"].extra["canonical_solution"]},
    ]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = runner.invoke(app, ["humaneval", str(samples)])
    assert r.exit_code == 0, r.output
    summary = last_json(r.stdout)
    assert summary["pass@1"] == 0.75 and summary["passed"] == 2
    results = [json.loads(x) for x in (tmp_path / "samples.jsonl_results.jsonl").read_text().splitlines()]
    assert [x["passed"] for x in results] == [True, False, True]
    assert [x["judged"] for x in results] == ["outside", "outside", "in-child"]
