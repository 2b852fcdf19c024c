"""The command line end to end on a small real corpus: run, status, export, preview."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codefoundry.cli import app

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


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
    assert summary["stages"][0]["drop_reasons"] == {"syntax_error": 1}

    status = runner.invoke(app, ["status", str(run_dir), "--json"])
    assert status.exit_code == 0
    figures = json.loads(status.output)
    assert [s["records"] for s in figures["stages"]] == [s["records"] for s in summary["stages"]]

    (run_dir / "export" / "sft.jsonl").unlink()
    exported = runner.invoke(app, ["export", str(run_dir)])
    assert exported.exit_code == 0 and (run_dir / "export" / "sft.jsonl").exists()
    lines = (run_dir / "export" / "sft.jsonl").read_text().splitlines()
    assert len(lines) == summary["final"]["tasks"]

    monkeypatch.chdir(tmp_path)
    preview = runner.invoke(app, ["preview", str(recipe), "-n", "3"])
    assert preview.exit_code == 0, preview.output
    assert "Implement" in preview.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for command in (
        ["--help"],
        ["run", "--help"],
        ["preview", "--help"],
        ["status", "--help"],
        ["export", "--help"],
        ["sandbox", "--help"],
        ["teacher", "--help"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0 and "Usage" in result.output, command
