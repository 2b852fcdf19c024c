"""YAML recipes: what a run does, validated by pydantic, with one clear error line per mistake.

A recipe names its stages by ``kind``; the registry maps each kind to its stage class (imported lazily, so
``--help`` stays fast). A recipe round-trips: ``Recipe -> YAML -> Recipe`` gives the same recipe, which is
what the run directory snapshots and compares on resume.
"""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

from codefoundry.errors import UserError
from codefoundry.pipeline.stage import StageConfig

if TYPE_CHECKING:
    from codefoundry.pipeline.stage import Stage

# kind -> "module:Class". One place to see every stage the pipeline has.
STAGE_REGISTRY: dict[str, str] = {
    "mine.functions": "codefoundry.mine.functions:MineFunctions",
    "mine.tasks": "codefoundry.mine.tasks:MakeTasks",
    "testgen.mined": "codefoundry.testgen.mined:BuildMinedTests",
    "verify.reference": "codefoundry.verify.reference:VerifyReference",
    "verify.mutation": "codefoundry.verify.mutation:MutationGate",
    "synth.oss_instruct": "codefoundry.synth.oss_instruct:OssInstruct",
}


class RecipeError(UserError):
    """A user mistake in a recipe: the message is one line naming the file and the field."""


class ExportConfig(BaseModel):
    """What to write at the end of a run."""

    model_config = ConfigDict(extra="forbid")
    formats: list[Literal["jsonl", "parquet"]] = Field(default_factory=lambda: ["jsonl", "parquet"])
    sft: bool = True
    rl: bool = True


class Recipe(BaseModel):
    """A whole run: stages in order, the sandbox, the teachers, the export."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    seed: int = 0
    sandbox: dict[str, Any] = Field(default_factory=dict)
    teachers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    stages: list[SerializeAsAny[StageConfig]] = Field(min_length=1)
    export: ExportConfig = Field(default_factory=ExportConfig)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def stage_class(kind: str) -> type[Stage]:
    """The stage class registered for ``kind``."""
    module_name, _, class_name = STAGE_REGISTRY[kind].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _one_line(source: str, loc: tuple[Any, ...], err: dict[str, Any]) -> str:
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "missing":
        message = "required field is missing"
    got = err.get("input")
    got_text = "" if err["type"] in ("missing", "extra_forbidden") else f" (got {got!r})"
    return f"{source}: {_where(loc)}: {message}{got_text}"


def _raise_first(source: str, prefix: tuple[Any, ...], exc: ValidationError) -> None:
    err = exc.errors()[0]
    raise RecipeError(_one_line(source, prefix + tuple(err["loc"]), err)) from None


def recipe_from_dict(data: Any, source: str = "<recipe>") -> Recipe:
    """Validate a parsed recipe; the first problem becomes a one-line RecipeError."""
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: (top level): expected a mapping of recipe fields, got {type(data).__name__}")
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise RecipeError(f"{source}: stages: expected a non-empty list of stages")
    stages: list[StageConfig] = []
    for index, raw in enumerate(raw_stages):
        if not isinstance(raw, dict):
            raise RecipeError(f"{source}: stages[{index}]: expected a mapping with a 'kind' field")
        kind = raw.get("kind")
        if kind not in STAGE_REGISTRY:
            known = ", ".join(sorted(STAGE_REGISTRY))
            raise RecipeError(f"{source}: stages[{index}].kind: unknown stage kind {kind!r} (known: {known})")
        try:
            stages.append(stage_class(kind).Config.model_validate(raw))
        except ValidationError as exc:
            _raise_first(source, ("stages", index), exc)
    try:
        recipe = Recipe.model_validate({**data, "stages": [{"kind": s.kind} for s in stages]})
    except ValidationError as exc:
        _raise_first(source, (), exc)
    recipe.stages = stages
    _validate_services(recipe, source)
    return recipe


def _validate_services(recipe: Recipe, source: str) -> None:
    """Sandbox and teacher sections are validated by their own packages' configs."""
    from codefoundry.sandbox.config import SandboxConfig

    try:
        SandboxConfig.model_validate(recipe.sandbox)
    except ValidationError as exc:
        _raise_first(source, ("sandbox",), exc)
    if recipe.teachers:
        from codefoundry.teacher.config import TeacherConfig

        for name, teacher in recipe.teachers.items():
            try:
                TeacherConfig.model_validate(teacher)
            except ValidationError as exc:
                _raise_first(source, ("teachers", name), exc)


def load_recipe(path: Path | str | None) -> Recipe:
    """Read a YAML recipe file; ``None`` gives the built-in default recipe."""
    if path is None:
        text = resources.files("codefoundry").joinpath("recipes/default.yaml").read_text(encoding="utf-8")
        return recipe_from_dict(yaml.safe_load(text), "default recipe")
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise RecipeError(f"{source}: recipe file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "somewhere"
        raise RecipeError(f"{source}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return recipe_from_dict(data, source)
