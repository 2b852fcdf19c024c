"""``read.snippets``: chunks of code in any language, balanced by language and file, with one-line errors."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from codefoundry.errors import UserError
from codefoundry.pipeline.feed import spread
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.pipeline.runner import run_recipe
from codefoundry.pipeline.stage import StageContext
from codefoundry.read.snippets import CodeChunk, ReadSnippets, ReadSnippetsConfig, split_chunks
from codefoundry.recipe import recipe_from_dict
from codefoundry.records import Seed

BLOCK = {
    "python": ["def f{i}(x):", "    y = x + {i}", "    return y * 2"],
    "javascript": ["function f{i}(x) {{", "  const y = x + {i};", "  return y * 2;", "}}"],
    "go": ["func f{i}(x int) int {{", "\ty := x + {i}", "\treturn y * 2", "}}"],
    "rust": ["fn f{i}(x: i64) -> i64 {{", "    let y = x + {i};", "    y * 2", "}}"],
    "c": ["int f{i}(int x) {{", "  int y = x + {i};", "  return y * 2;", "}}"],
}
SUFFIX = {"python": ".py", "javascript": ".js", "go": ".go", "rust": ".rs", "c": ".c"}


def source(language: str, blocks: int) -> str:
    """``blocks`` functions, one paragraph each (blank lines between)."""
    return "\n\n".join("\n".join(BLOCK[language]).format(i=i) for i in range(blocks)) + "\n"


def make_corpus(root: Path, files_per_language: dict[str, int], blocks: int = 6) -> Path:
    for language, count in files_per_language.items():
        for n in range(count):
            path = root / language / f"sub{n % 2}" / f"file{n}{SUFFIX[language]}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source(language, blocks))
    return root


def stage(corpus: dict[str, Any], **config: Any) -> ReadSnippets:
    return ReadSnippets(ReadSnippetsConfig(corpus=corpus, **config), StageContext(None))  # type: ignore[arg-type]


def run(snippets: ReadSnippets) -> tuple[list[CodeChunk], list[Seed], dict[str, str]]:
    """The stage's inputs, its seeds, and the drops by path -> reason."""
    items = snippets.inputs()
    result = asyncio.run(snippets.process(items))
    return items, result.records, {d.record["path"]: d.reason for d in result.drops}


def test_dir_corpus_is_balanced_by_language_then_file(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus", {"python": 3, "javascript": 2, "go": 2, "rust": 1, "c": 1})
    items, seeds, drops = run(stage({"kind": "dir", "path": str(root), "licence": "MIT"}, chunk_lines=8))
    assert not drops
    languages = [s.language for s in seeds]
    assert sorted(set(languages)) == ["c", "go", "javascript", "python", "rust"]
    assert languages[:5] == ["c", "go", "javascript", "python", "rust"]  # one of each, then again
    assert Counter(languages[:10]) == Counter({lang: 2 for lang in ["c", "go", "javascript", "python", "rust"]})
    # within a language, the first chunk of every file comes before the second of any
    python = [(s.provenance.path, s.provenance.line) for s in seeds if s.language == "python"]
    assert len({path for path, _line in python[:3]}) == 3
    assert [path for path, _line in python[3:6]] == [path for path, _line in python[:3]]
    assert all(later > first for (_p, first), (_q, later) in zip(python[:3], python[3:6], strict=True))
    for seed in seeds:
        assert not Path(seed.provenance.path).is_absolute() and str(tmp_path) not in seed.model_dump_json()
        assert seed.provenance.source == "dir" and seed.provenance.licence == "MIT"
        assert seed.name == f"{seed.provenance.path}:{seed.provenance.line}"
        assert len([line for line in seed.code.splitlines() if line.strip()]) <= 8
        assert seed.provenance.method == ""
    assert {s.provenance.path for s in seeds if s.language == "go"} == {"go/sub0/file0.go", "go/sub1/file1.go"}
    # deterministic; another seed lists the same seeds in another order of files
    corpus = {"kind": "dir", "path": str(root), "licence": "MIT"}
    assert [s.id for s in run(stage(corpus, chunk_lines=8))[1]] == [s.id for s in seeds]
    assert {s.id for s in run(stage(corpus, chunk_lines=8, seed=1))[1]} == {s.id for s in seeds}


def test_chunks_cut_at_blank_lines_and_short_chunks_are_skipped() -> None:
    text = "a = 1\nb = 2\n\nc = 3\nd = 4\ne = 5\n\n\nf = 6\n" + "".join(f"g{i} = {i}\n" for i in range(7))
    chunks = split_chunks(text, 5)  # two paragraphs fit in one chunk; a long one is cut inside
    assert [(line, len(lines)) for line, lines in chunks] == [(1, 6), (9, 5), (14, 3)]
    assert chunks[0][1] == ["a = 1", "b = 2", "", "c = 3", "d = 4", "e = 5"]
    assert [(line, len(lines)) for line, lines in split_chunks(text, 4)] == [(1, 2), (4, 3), (9, 4), (13, 4)]
    assert split_chunks("x = 1\n\ny = 2\n", 5) == [(1, ["x = 1", "", "y = 2"])]


def test_max_per_file_and_min_lines(tmp_path: Path) -> None:
    make_corpus(tmp_path, {"python": 1}, blocks=20)
    (tmp_path / "python" / "short.py").write_text("# a comment\n# another\nx = 1\n")
    items, seeds, drops = run(stage({"kind": "dir", "path": str(tmp_path)}, chunk_lines=3, max_per_file=4))
    assert len(seeds) == 4 and len({s.code for s in seeds}) == 4
    assert [s.provenance.line for s in seeds] == sorted(s.provenance.line for s in seeds)
    assert seeds[0].provenance.line > 1  # spread over the file, not its head
    assert drops == {"python/short.py": "too_short"}
    assert len(run(stage({"kind": "dir", "path": str(tmp_path)}, chunk_lines=3, max_per_file=2))[1]) == 2


def test_minified_binary_generated_and_undecodable_files_are_dropped_with_reasons(tmp_path: Path) -> None:
    make_corpus(tmp_path, {"javascript": 1})
    (tmp_path / "app.min.js").write_text("var a=1;" * 100 + "\n" + source("javascript", 3))
    (tmp_path / "blob.c").write_bytes(b"int x;\0\0\0" + source("c", 3).encode())
    (tmp_path / "latin.go").write_bytes(source("go", 3).encode() + b"// caf\xe9\n")
    (tmp_path / "gen.go").write_text("// Code generated by protoc. DO NOT EDIT.\n" + source("go", 3))
    (tmp_path / "notes.txt").write_text(source("python", 3))  # not a code extension: not listed
    (tmp_path / "types.ts").write_text(source("javascript", 3))  # TypeScript is not read
    items, seeds, drops = run(stage({"kind": "dir", "path": str(tmp_path)}))
    assert drops == {"app.min.js": "minified", "blob.c": "binary", "latin.go": "not_utf8", "gen.go": "generated"}
    assert {s.provenance.path for s in seeds} == {"javascript/sub0/file0.js"}
    assert [i.problem for i in items][-4:] == ["minified", "binary", "generated", "not_utf8"]  # drops last


def test_languages_filter_and_files_corpus(tmp_path: Path) -> None:
    make_corpus(tmp_path, {"python": 1, "rust": 1, "javascript": 1})
    seeds = run(stage({"kind": "dir", "path": str(tmp_path)}, languages=["Py3", "JS"]))[1]
    assert {s.language for s in seeds} == {"python", "javascript"}
    files = [str(tmp_path / "rust/sub0/file0.rs"), str(tmp_path / "python/sub0/file0.py")]
    seeds = run(stage({"kind": "files", "paths": files, "package": "demo", "version": "1.0"}))[1]
    assert {(s.language, s.provenance.path, s.provenance.package) for s in seeds} == {
        ("rust", "rust/sub0/file0.rs", "demo"),
        ("python", "python/sub0/file0.py", "demo"),
    }
    assert {s.provenance.source for s in seeds} == {"files"}


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


ROWS = [
    {"content": source("python", 2), "lang": "Python", "file": "a/x.py"},
    {"content": source("go", 2), "lang": "Go", "file": "b/y.go"},
    {"content": source("rust", 2), "lang": "Rust", "file": "c/z.rs"},
    {"content": source("javascript", 2), "lang": "JavaScript", "file": "d/w.js"},
]


@pytest.mark.parametrize("name", ["code.jsonl", "code.parquet"])
def test_row_corpora_with_language_field_or_path_field(tmp_path: Path, name: str) -> None:
    path = write_rows(tmp_path / name, ROWS)
    kind = name.split(".")[1]
    seeds = run(stage({"kind": kind, "path": str(path), "field": "content", "language_field": "lang"}))[1]
    assert [s.language for s in seeds] == ["go", "javascript", "python", "rust"]
    assert seeds[0].provenance.source == f"{kind}:{name}" and seeds[0].provenance.path == f"{name}#2"
    assert seeds[0].name == f"{name}#2:1" and seeds[0].code == source("go", 2)
    by_path = run(stage({"kind": kind, "path": str(path), "field": "content", "path_field": "file"}))[1]
    assert {(s.language, s.provenance.path) for s in by_path} == {
        ("python", "a/x.py"),
        ("go", "b/y.go"),
        ("rust", "c/z.rs"),
        ("javascript", "d/w.js"),
    }
    fixed = run(stage({"kind": kind, "path": str(path), "field": "content", "language": "go"}, languages=["go"]))
    assert [s.language for s in fixed[1]] == ["go"] * 4


def one_line_error(snippets: ReadSnippets, *expected: str) -> None:
    with pytest.raises(UserError) as info:
        snippets.inputs()
    message = str(info.value)
    assert "\n" not in message
    for text in expected:
        assert text in message


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    one_line_error(stage({"kind": "dir", "path": str(tmp_path / "nope")}), str(tmp_path / "nope"))
    one_line_error(stage({"kind": "files", "paths": [str(tmp_path / "a.py")]}), "a.py")
    one_line_error(stage({"kind": "package", "name": "no_such_package_xyz"}), "no_such_package_xyz")
    (tmp_path / "notes.txt").write_text("x\n")
    one_line_error(stage({"kind": "files", "paths": [str(tmp_path / "notes.txt")]}), "notes.txt", "extension")
    one_line_error(stage({"kind": "jsonl", "path": str(tmp_path / "m.jsonl"), "field": "c", "language": "go"}), "m.jsonl")
    rows = write_rows(tmp_path / "rows.jsonl", [ROWS[0], {"lang": "Go", "text": "x"}])
    config = {"kind": "jsonl", "path": str(rows), "field": "content", "language_field": "lang"}
    one_line_error(stage(config), "rows.jsonl:2:", "'content'", "lang, text")
    write_rows(tmp_path / "rows.jsonl", [{**ROWS[0], "content": 3}])
    one_line_error(stage(config), "rows.jsonl:1:", "'content'", "expected a string, got int")
    parquet = write_rows(tmp_path / "rows.parquet", [{"text": "x", "lang": "go"}])
    one_line_error(stage({**config, "kind": "parquet", "path": str(parquet)}), "rows.parquet:1:", "'content'")
    (tmp_path / "bad.parquet").write_text("not parquet")
    one_line_error(stage({**config, "kind": "parquet", "path": str(tmp_path / "bad.parquet")}), "bad.parquet")
    with pytest.raises(ValueError, match="language_field, language or path_field"):
        ReadSnippetsConfig(corpus={"kind": "jsonl", "path": str(rows), "field": "content"})  # type: ignore[arg-type]


def test_datasets_corpus(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(tmp_path / "ds"))
    config = {"kind": "datasets", "path": str(tmp_path / "ds"), "field": "content", "language_field": "lang"}
    seeds = run(stage(config))[1]
    assert {s.language for s in seeds} == {"python", "go", "rust", "javascript"}
    assert seeds[0].provenance.source == "datasets:ds" and seeds[0].provenance.path.startswith("ds#")
    one_line_error(stage({**config, "split": "test"}), "no split 'test'", "train")
    one_line_error(stage({**config, "field": "body"}), "'body'")


def test_datasets_corpus_without_the_package_says_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    config = {"kind": "datasets", "path": str(tmp_path), "field": "content", "language": "python"}
    one_line_error(stage(config), "pip install datasets")


def test_stdlib_corpus_gives_python_seeds_with_the_psf_licence() -> None:
    snippets = stage({"kind": "stdlib"}, max_per_file=1)
    items = snippets.take_inputs(snippets.inputs(), 20)
    seeds = asyncio.run(snippets.process(items)).records
    assert len(seeds) == 20 and {s.language for s in seeds} == {"python"}
    assert {(s.provenance.source, s.provenance.package, s.provenance.licence) for s in seeds} == {
        ("stdlib", "python", "PSF-2.0")
    }
    assert all(s.provenance.version and not Path(s.provenance.path).is_absolute() for s in seeds)


def test_a_recipe_run_with_a_small_limit_gets_a_balanced_mix(tmp_path: Path) -> None:
    root = make_corpus(tmp_path / "corpus", {"python": 4, "javascript": 4, "go": 4, "rust": 4}, blocks=12)
    recipe = recipe_from_dict(
        {
            "name": "snippets",
            "stages": [
                {"kind": "read.snippets", "corpus": {"kind": "dir", "path": str(root)}, "chunk_lines": 8, "limit": 8}
            ],
        }
    )
    report = run_recipe(recipe, tmp_path / "run")
    assert report.stages[0].records == 8
    (planned,) = plan(recipe)
    seeds = [Seed.model_validate(r) for r in RunDir(tmp_path / "run").iter_records(planned.name, planned.fingerprint)]
    assert Counter(s.language for s in seeds) == {"go": 2, "javascript": 2, "python": 2, "rust": 2}
    assert len({s.provenance.path for s in seeds}) == 8  # eight different files
    assert all(s.provenance.source == "dir" and not Path(s.provenance.path).is_absolute() for s in seeds)
    # items taken evenly across the round robin would come from two languages only: the stage takes the head
    listed = stage({"kind": "dir", "path": str(root)}, chunk_lines=8).inputs()
    assert len({c.language for c in spread(listed, 8)}) == 2


def test_package_corpus_carries_its_distribution() -> None:
    seeds = run(stage({"kind": "package", "name": "yaml"}, max_per_file=1))[1]
    assert seeds and {s.provenance.source for s in seeds} == {"package:yaml"}
    assert {s.provenance.package for s in seeds} == {"PyYAML"} and all(s.provenance.version for s in seeds)
    assert all(s.provenance.path.startswith("yaml/") for s in seeds)


def test_cli_reports_a_row_without_the_field_as_one_line(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from codefoundry.cli import app

    rows = write_rows(tmp_path / "rows.jsonl", [ROWS[0], {"lang": "Go"}])
    corpus = {"kind": "jsonl", "path": str(rows), "field": "content", "language_field": "lang"}
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "x", "stages": [{"kind": "read.snippets", "corpus": corpus}]}))
    result = CliRunner().invoke(app, ["run", str(recipe), "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "rows.jsonl:2: no field 'content'" in errors[0]
