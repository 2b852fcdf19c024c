"""Teachers inside a real recipe: validated by TeacherConfig through load_recipe, and round-tripped."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from codefoundry.recipe import RecipeError, load_recipe
from codefoundry.teacher.config import Sampling, TeacherConfig


def _recipe_with(tmp_path: Path, teachers: dict[str, object]) -> Path:
    text = resources.files("codefoundry").joinpath("recipes/default.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["teachers"] = teachers
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_recipe_teachers_validate_and_round_trip(tmp_path: Path) -> None:
    teachers = {
        "strong": {"base_url": "http://127.0.0.1:8000/v1", "model": "qwen-32b", "max_concurrency": 64},
        "cheap": {
            "base_url": "https://api.example.com/v1",
            "model": "mini",
            "api_key_env": "EXAMPLE_KEY",
            "price_per_1k_input": 0.1,
            "price_per_1k_output": 0.4,
        },
        "offline": {"model": "local:qwen2.5-coder-1.5b"},
    }
    recipe = load_recipe(_recipe_with(tmp_path, teachers))
    configs = {name: TeacherConfig.model_validate(raw) for name, raw in recipe.teachers.items()}
    assert configs["offline"].is_local and configs["strong"].max_concurrency == 64
    for config in configs.values():
        dumped = yaml.safe_dump(config.model_dump(mode="json"))
        assert TeacherConfig.model_validate(yaml.safe_load(dumped)) == config


def test_a_bad_teacher_is_a_one_line_recipe_error(tmp_path: Path) -> None:
    path = _recipe_with(tmp_path, {"strong": {"base_url": "http://x/v1", "model": "m", "max_concurency": 4}})
    with pytest.raises(RecipeError, match=r"teachers\.strong\.max_concurency: unknown field"):
        load_recipe(path)


def test_stage_sampling_overrides_teacher_defaults() -> None:
    config = TeacherConfig(base_url="http://x/v1", model="m", temperature=0.7, max_tokens=512, seed=1)
    merged = config.sampling(Sampling(temperature=0.0, stop=["```\n"]))
    assert merged == Sampling(temperature=0.0, top_p=0.95, max_tokens=512, seed=1, stop=["```\n"])
    assert config.sampling() == Sampling(temperature=0.7, top_p=0.95, max_tokens=512, seed=1)
