"""Recipes: a wrong or unknown field is one clear line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codefoundry.cli import app
from codefoundry.recipe import RecipeError, load_recipe, recipe_from_dict


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_default_recipe_loads_and_round_trips() -> None:
    recipe = load_recipe(None)
    assert [s.kind for s in recipe.stages][0] == "mine.functions"
    again = recipe_from_dict(yaml.safe_load(recipe.to_yaml()))
    assert again.to_yaml() == recipe.to_yaml()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "x", "stages": [{"kind": "mine.tasks", "bogus": 1}]}, "stages[0].bogus: unknown field"),
        ({"name": "x", "stages": [{"kind": "nope"}]}, "stages[0].kind: unknown stage kind 'nope'"),
        ({"name": "x", "stages": [{"kind": "mine.tasks", "batch_size": "many"}]}, "stages[0].batch_size:"),
        ({"stages": [{"kind": "mine.tasks"}]}, "name: required field is missing"),
        ({"name": "x", "stages": []}, "stages: expected a non-empty list"),
        ({"name": "x", "stages": [{"kind": "mine.tasks"}], "colour": "red"}, "colour: unknown field"),
        ({"name": "x", "stages": [{"kind": "mine.tasks"}], "sandbox": {"workers": "two"}}, "sandbox.workers:"),
        (["not", "a", "mapping"], "(top level): expected a mapping"),
    ],
)
def test_bad_recipe_is_one_line_naming_file_and_field(tmp_path: Path, data: object, expected: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    assert expected in message
    assert "\n" not in message


def test_cli_reports_a_bad_recipe_without_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, {"name": "x", "stages": [{"kind": "mine.tasks", "min_len": "abc", "oops": 2}]})
    result = CliRunner().invoke(app, ["run", str(path), "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: stages[0].")
    assert "Traceback" not in result.output


def test_missing_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(RecipeError, match=r"bad.yaml: line \d+: not valid YAML"):
        load_recipe(bad)


def test_corpus_path_that_does_not_exist_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    path = _write(
        tmp_path,
        {"name": "x", "stages": [{"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(missing)}}]},
    )
    result = CliRunner().invoke(app, ["run", str(path), "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert str(missing) in result.output
    assert "Traceback" not in result.output
