"""OSS-Instruct across languages: snippets in Go and Rust inspire a C++ stdin/stdout task and a JavaScript
function task, each verified in its own language in the sandbox (recorded answers, scripted server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import recipe_from_dict
from codefoundry.runs import execute
from codefoundry.sandbox.languages import get_language
from codefoundry.testing.teacher_server import ScriptedServer, load_replies

FIXTURE = Path(__file__).parent.parent / "fixtures" / "teacher" / "oss_languages.json"
GO = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tcounts := map[string]int{}\n\tfor _, w := range []string{\"a\", \"b\", \"a\"} {\n\t\tcounts[w]++\n\t}\n\tfmt.Println(counts)\n}\n"
RUST = "fn longest_run(v: &[i64]) -> usize {\n    let mut best = 0;\n    let mut run = 0;\n    for i in 0..v.len() {\n        run = if i > 0 && v[i] == v[i - 1] { run + 1 } else { 1 };\n        best = best.max(run);\n    }\n    best\n}\n"


@pytest.mark.skipif(
    not all(get_language(name).available()[0] for name in ("cpp", "javascript")),  # type: ignore[union-attr]
    reason="needs g++ and node (make toolchains)",
)
def test_snippets_in_one_language_become_verified_tasks_in_others(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "count.go").write_text(GO)
    (corpus / "runs.rs").write_text(RUST)
    targets = [{"language": "cpp", "style": "stdio"}, {"language": "javascript", "style": "function"}]
    with ScriptedServer(replies=load_replies(str(FIXTURE))) as server:
        recipe = recipe_from_dict(
            {
                "name": "oss-languages",
                "sandbox": {"workers": 2},
                "teachers": {"default": {"base_url": server.base_url, "model": "scripted", "max_retries": 0}},
                "stages": [
                    {"kind": "read.snippets", "corpus": {"kind": "dir", "path": str(corpus)}, "min_lines": 1},
                    {"kind": "synth.oss_instruct", "targets": targets, "min_tests": 3},
                    {"kind": "verify.reference"},
                ],
            }
        )
        execute(recipe, tmp_path / "run")
        prompts = [r.body["messages"][-1]["content"] for r in server.generations()]
    assert len(prompts) == 2
    assert any("real Go code:\n\n```go" in p for p in prompts) and any("real Rust code:\n\n```rust" in p for p in prompts)
    run_dir = RunDir(tmp_path / "run")
    stages = plan(recipe)
    kept = list(run_dir.iter_records(stages[2].name, stages[2].fingerprint))
    by_language = {p["task"]["language"]: p for p in kept}
    asked = {"cpp" for p in prompts if "C++17" in p} | {"javascript" for p in prompts if "JavaScript" in p}
    assert asked == {"cpp", "javascript"} and set(by_language) == asked, [d.detail for d in run_dir.iter_drops(stages[1].name, stages[1].fingerprint)]
    for problem in kept:
        task = problem["task"]
        assert task["lineage"]["snippet"] and task["lineage"]["parent"]
        assert problem["reference"]["language"] == task["language"]
        assert problem["reports"]["agreement"]["agreeing"] == 5  # a number and a trailing newline still agree
    if "cpp" in by_language:
        cpp = by_language["cpp"]
        assert cpp["task"]["style"] == "stdio" and cpp["task"]["entry_point"] == ""
        assert all(t["stdin"] and t["args"] is None for t in cpp["tests"])
    if "javascript" in by_language:
        js = by_language["javascript"]
        assert js["task"]["style"] == "function" and js["task"]["entry_point"] == "countWords"
