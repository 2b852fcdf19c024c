"""YAML recipes: what a run does, validated by pydantic, with one clear error line per mistake.

A recipe names its stages by ``kind``; ``pipeline/registry.py`` maps each kind to its stage class. A recipe
whose stages do not chain (a stage's input type is not what the stage before it gives) is refused at load
with one line naming both stages. A recipe round-trips: ``Recipe -> YAML -> Recipe`` gives the same recipe,
which is what the run directory snapshots.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

from codefoundry.errors import UserError
from codefoundry.pipeline.registry import stage_classes
from codefoundry.pipeline.stage import StageConfig
from codefoundry.sandbox.config import SandboxConfig
from codefoundry.teacher.config import TeacherConfig

if TYPE_CHECKING:
    from codefoundry.pipeline.stage import Stage


class RecipeError(UserError):
    """A user mistake in a recipe: the message is one line naming the file and the field."""


class ExportConfig(BaseModel):
    """What to write at the end of a run."""

    model_config = ConfigDict(extra="forbid")
    formats: list[Literal["jsonl", "parquet"]] = Field(default_factory=lambda: ["jsonl", "parquet"])
    sft: bool = True
    rl: bool = True
    preference: bool = True  # chosen/rejected pairs (TRL DPO format) for tasks with passing and failing code


class Recipe(BaseModel):
    """A whole run: stages in order, the sandbox, the teachers, the export."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    teachers: dict[str, TeacherConfig] = Field(default_factory=dict)
    stages: list[SerializeAsAny[StageConfig]] = Field(min_length=1)
    export: ExportConfig = Field(default_factory=ExportConfig)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def stage_class(kind: str) -> type[Stage[Any, Any]]:
    """The stage class registered for ``kind``."""
    return stage_classes()[kind]


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
    classes = stage_classes()
    stages: list[StageConfig] = []
    for index, raw in enumerate(raw_stages):
        if not isinstance(raw, dict):
            raise RecipeError(f"{source}: stages[{index}]: expected a mapping with a 'kind' field")
        kind = raw.get("kind")
        if kind not in classes:
            known = ", ".join(sorted(classes))
            raise RecipeError(f"{source}: stages[{index}].kind: unknown stage kind {kind!r} (known: {known})")
        try:
            stages.append(classes[kind].Config.model_validate(raw))
        except ValidationError as exc:
            _raise_first(source, ("stages", index), exc)
    try:
        recipe = Recipe.model_validate({**data, "stages": [{"kind": s.kind} for s in stages]})
    except ValidationError as exc:
        _raise_first(source, (), exc)
    recipe.stages = stages
    check_chain([classes[s.kind] for s in stages], source)
    return recipe


def check_chain(classes: list[type[Stage[Any, Any]]], source: str) -> None:
    """Each stage must take what the stage before it gives. The first stage is a source; a source later on
    adds its records to those of the stage before it (which pass on unchanged), so they must be alike."""
    for index, cls in enumerate(classes):
        where = f"{source}: stages[{index}] ({cls.kind})"
        if index == 0:
            if cls.input_type is not None:
                raise RecipeError(
                    f"{where}: the first stage must be a source (one that lists its own inputs), "
                    f"but {cls.kind} takes {cls.input_type.__name__} records"
                )
            continue
        before = classes[index - 1]
        if cls.input_type is None:  # a source after the first adds its records to those before it
            if not issubclass(before.output_type, cls.output_type):
                raise RecipeError(
                    f"{where}: a source after the first adds {cls.output_type.__name__} records to those of the "
                    f"stage before it, but stages[{index - 1}] ({before.kind}) gives {before.output_type.__name__}"
                )
            continue
        if not issubclass(before.output_type, cls.input_type):
            raise RecipeError(
                f"{where}: takes {cls.input_type.__name__} records, but stages[{index - 1}] ({before.kind}) "
                f"gives {before.output_type.__name__}"
            )


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
