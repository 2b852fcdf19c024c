"""The command line end to end on a small real corpus: run, status, export, preview."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codefoundry.cli import app

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"


@pytest.fixture()
def recipe(tmp_path: Path) -> Path:
    path = tmp_path / "recipe.yaml"
    stages = [
        {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(CORPUS)}},
        {"kind": "mine.tasks"},
        {"kind": "testgen.mined"},
        {"kind": "verify.reference"},
        {"kind": "verify.mutation"},
    ]
    path.write_text(yaml.safe_dump({"name": "cli-test", "stages": stages}))
    return path


def test_run_status_export_and_preview(tmp_path: Path, recipe: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    run_dir = tmp_path / "run"
    result = runner.invoke(app, ["run", str(recipe), "--run-dir", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "verified tasks:" in result.output
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["final"]["tasks"] > 0
    reasons = summary["stages"][0]["drop_reasons"]
    assert reasons["syntax_error"] == 1 and set(reasons) == {
        "syntax_error",
        "unreadable",
        "too_large",
        "no_functions",
    }

    status = runner.invoke(app, ["status", str(run_dir), "--json"])
    assert status.exit_code == 0
    figures = json.loads(status.output)
    assert [s["records"] for s in figures["stages"]] == [s["records"] for s in summary["stages"]]

    (run_dir / "export" / "sft.jsonl").unlink()
    exported = runner.invoke(app, ["export", str(run_dir)])
    assert exported.exit_code == 0 and (run_dir / "export" / "sft.jsonl").exists()
    lines = (run_dir / "export" / "sft.jsonl").read_text().splitlines()
    assert len(lines) == summary["final"]["problems"]

    monkeypatch.chdir(tmp_path)
    preview = runner.invoke(app, ["preview", str(recipe), "-n", "3"])
    assert preview.exit_code == 0, preview.output
    assert "Implement" in preview.output


def _command_paths(command, prefix: list[str]) -> list[list[str]]:
    """Every command and sub-command of the CLI, as argument lists."""
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, [*prefix, name])
    return paths


def test_every_command_and_sub_command_has_help() -> None:
    import typer

    runner = CliRunner()
    paths = _command_paths(typer.main.get_command(app), [])
    names = {" ".join(path) for path in paths}
    assert {
        "run",
        "preview",
        "status",
        "export",
        "sandbox doctor",
        "sandbox humaneval",
        "teacher check",
    } <= names
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, path
        assert len(result.output.strip().splitlines()) > 3, path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runner", "spark"], "--runner: expected one of local, ray, got 'spark'"),
        (["--address", "127.0.0.1:6379"], "--address and --workers apply to --runner ray only"),
        (["--runner", "ray", "--address", "head-node"], "--address: expected HOST:PORT"),
        (
            ["--runner", "ray", "--address", "127.0.0.1:1"],
            "--address: no Ray cluster reachable at 127.0.0.1:1",
        ),
    ],
)
def test_runner_options_are_checked_with_one_line(
    tmp_path: Path, recipe: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["run", str(recipe), "--run-dir", str(tmp_path / "run"), *args])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert any(message in line for line in lines), result.output
    assert "Traceback" not in result.output
