"""``codefoundry teacher check``: one request per teacher, reported; bad recipes end in one clear line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codefoundry.cli.teacher import app
from codefoundry.testing.teacher_server import ScriptedServer


def _recipe(tmp_path: Path, teachers: dict[str, dict[str, object]]) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({"teachers": teachers}))
    return path


def test_check_reports_each_teacher(
    start_server: Callable[..., ScriptedServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strong = start_server(model="served-strong")
    plain = start_server(structured=False)
    monkeypatch.setenv("CF_TEST_TEACHER_KEY", "sk-cli-check-key")
    recipe = _recipe(
        tmp_path,
        {
            "strong": {
                "base_url": strong.base_url,
                "model": "strong-model",
                "api_key_env": "CF_TEST_TEACHER_KEY",
            },
            "cheap": {"base_url": plain.base_url, "model": "cheap-model"},
        },
    )
    result = CliRunner().invoke(app, ["check", str(recipe), "--json"])
    assert result.exit_code == 0, result.output
    reports = {r["teacher"]: r for r in json.loads(result.output)}
    assert reports["strong"]["ok"] and reports["cheap"]["ok"]
    assert reports["strong"]["served_model"] == "served-strong"
    assert reports["strong"]["structured_output"] == "yes (response_format)"
    assert reports["cheap"]["structured_output"] == "fallback (JSON asked in words)"
    assert reports["strong"]["prompt_tokens"] == strong.generations()[0].prompt_tokens
    assert reports["strong"]["latency_s"] > 0
    assert strong.records[0].headers["authorization"] == "Bearer sk-cli-check-key"
    assert "sk-cli-check-key" not in result.output
    # the table form, too
    table = CliRunner().invoke(app, ["check", str(recipe)])
    assert table.exit_code == 0 and "strong-model" in table.output


def test_check_fails_for_an_unreachable_or_broken_teacher(
    start_server: Callable[..., ScriptedServer], tmp_path: Path
) -> None:
    server = start_server(script={})
    recipe = _recipe(
        tmp_path,
        {
            "down": {"base_url": "http://127.0.0.1:9/v1", "model": "m", "timeout_s": 2},
            "up": {"base_url": server.base_url, "model": "m"},
        },
    )
    result = CliRunner().invoke(app, ["check", str(recipe), "--json"])
    assert result.exit_code == 1
    reports = {r["teacher"]: r for r in json.loads(result.output)}
    assert not reports["down"]["ok"] and reports["down"]["error"].startswith("connection")
    assert reports["up"]["ok"]


def test_check_only_some_teachers(start_server: Callable[..., ScriptedServer], tmp_path: Path) -> None:
    server = start_server()
    recipe = _recipe(
        tmp_path,
        {
            "a": {"base_url": server.base_url, "model": "m"},
            "b": {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
        },
    )
    result = CliRunner().invoke(app, ["check", str(recipe), "--teacher", "a", "--json"])
    assert result.exit_code == 0, result.output
    assert [r["teacher"] for r in json.loads(result.output)] == ["a"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"teachers": {"t": {"model": "m"}}}, "base_url is required"),
        ({"teachers": {"t": {"base_url": "http://x/v1", "model": "m", "colour": 1}}}, "teachers.t.colour"),
        ({"stages": []}, "teachers: expected a non-empty mapping"),
        (
            {"teachers": {"t": {"base_url": "http://x/v1", "model": "m", "api_key_env": "sk-123-abc"}}},
            "NAME of",
        ),
    ],
)
def test_bad_recipes_are_one_clear_line(tmp_path: Path, content: dict[str, object], message: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(content))
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_missing_recipe(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "not found" in result.output
