"""A run is refused before any work when a stage targets a language whose toolchain is not installed."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from codefoundry.errors import UserError
from codefoundry.pipeline import registry
from codefoundry.pipeline.machine import check_toolchains
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.runner import run_recipe
from codefoundry.pipeline.stage import Resources, Stage, StageConfig, StageResult
from codefoundry.recipe import recipe_from_dict
from codefoundry.records import SourceFile
from codefoundry.sandbox.languages import Language


class Files(Stage[SourceFile, SourceFile]):
    kind = "toy.files"
    Config = StageConfig
    input_type = None
    output_type = SourceFile

    def inputs(self) -> list[SourceFile]:
        return [SourceFile(path=f"{i}.py", root="/f", source="toy") for i in range(3)]

    async def process(self, batch: list[SourceFile]) -> StageResult[SourceFile]:
        return StageResult(records=list(batch))


class TargetsLanguages(Files):
    """Declares the languages its outputs need (as a synthesizer will, from its config)."""

    kind = "toy.targets"
    input_type = SourceFile
    languages: ClassVar[tuple[str, ...]] = ("python", "go")

    @classmethod
    def resources(cls, config: StageConfig) -> Resources:
        return Resources(languages=cls.languages)


@pytest.fixture(autouse=True)
def toy_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    toys = tuple(f"{__name__}:{name}" for name in ("Files", "TargetsLanguages"))
    monkeypatch.setattr(registry, "STAGES", registry.STAGES + toys)


def _recipe():
    return recipe_from_dict({"name": "toy", "stages": [{"kind": "toy.files"}, {"kind": "toy.targets"}]})


def _without(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    real = Language.available

    def available(self: Language) -> tuple[bool, str]:
        return (False, f"toolchain missing: {missing}") if self.name == missing else real(self)

    monkeypatch.setattr(Language, "available", available)


def test_a_run_targeting_a_missing_toolchain_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without(monkeypatch, "go")
    with pytest.raises(UserError) as caught:
        run_recipe(_recipe(), tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "01-toy.targets targets go" in message and "make toolchains" in message
    assert not (tmp_path / "manifest.jsonl").exists()


def test_installed_toolchains_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Language, "available", lambda self: (True, "here"))
    check_toolchains(plan(_recipe()))


def test_a_language_the_sandbox_cannot_run_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TargetsLanguages, "languages", ("typescript",))
    with pytest.raises(UserError, match=r"targets 'typescript', which the sandbox cannot run"):
        check_toolchains(plan(_recipe()))
