"""The Ray runner gives, byte for byte, the exports of a local run: for mining and for OSS-Instruct."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from codefoundry.pipeline.runner import RunnerKind, RunnerOptions
from codefoundry.recipe import load_recipe, recipe_from_dict
from codefoundry.runs import execute

CORPUS = Path(__file__).parent.parent.parent / "fixtures" / "corpus"


def mining_recipe() -> dict[str, Any]:
    return {
        "name": "mine-on-ray",
        "stages": [
            {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(CORPUS)}, "batch_size": 2},
            {"kind": "mine.tasks", "batch_size": 2},
            {"kind": "testgen.mined", "batch_size": 2},
            {"kind": "verify.reference", "batch_size": 2},
            {"kind": "verify.mutation", "batch_size": 2},
            {"kind": "filter.dedup"},
        ],
    }


def oss_recipe(base_url: str) -> dict[str, Any]:
    return {
        "name": "oss-on-ray",
        "teachers": {
            "default": {
                "base_url": base_url,
                "model": "scripted",
                "max_retries": 0,
                "max_concurrency": 4,
            }
        },
        "stages": [
            {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(CORPUS)}},
            {"kind": "synth.oss_instruct", "limit": 12, "min_tests": 3, "batch_size": 2},
            {"kind": "verify.reference", "batch_size": 2},
            {"kind": "filter.dedup"},
        ],
    }


def exports(recipe: dict[str, Any], run_dir: Path, runner: RunnerOptions) -> dict[str, bytes]:
    execute(recipe_from_dict(recipe), run_dir, runner=runner)
    return {p.name: p.read_bytes() for p in sorted((run_dir / "export").iterdir())}


def test_mining_on_ray_exports_what_a_local_run_exports(tmp_path: Path, ray_cluster: str) -> None:
    local = exports(mining_recipe(), tmp_path / "local", RunnerOptions())
    on_ray = exports(mining_recipe(), tmp_path / "ray", RunnerOptions(kind=RunnerKind.RAY, workers=2))
    assert local == on_ray
    assert local["sft.jsonl"].count(b"\n") > 0


def test_oss_instruct_on_ray_exports_what_a_local_run_exports(
    tmp_path: Path, ray_cluster: str, teacher_server: Any
) -> None:
    recipe = oss_recipe(teacher_server.base_url)
    local = exports(recipe, tmp_path / "local", RunnerOptions())
    calls = len(teacher_server.generations())
    on_ray = exports(recipe, tmp_path / "ray", RunnerOptions(kind=RunnerKind.RAY, workers=2))
    assert local == on_ray
    assert local["sft.jsonl"].count(b"\n") > 0
    assert len(teacher_server.generations()) == 2 * calls > 0  # one call per seed, in each run directory
    usage = (tmp_path / "ray" / "cache").iterdir()
    assert any(p.name.startswith("teacher") for p in usage)  # the teacher service wrote the run's cache


def test_a_stage_worker_lost_mid_batch_has_its_batch_run_again(
    tmp_path: Path, ray_cluster: str, teacher_server: Any
) -> None:
    import ray

    teacher_server.state.latency_s = 0.2
    recipe = oss_recipe(teacher_server.base_url)
    local = exports(recipe, tmp_path / "local", RunnerOptions())
    done: list[dict[str, bytes]] = []
    driver = threading.Thread(
        target=lambda: done.append(
            exports(recipe, tmp_path / "ray", RunnerOptions(kind=RunnerKind.RAY, workers=1))
        )
    )
    driver.start()
    manifest = tmp_path / "ray" / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and '"01-synth.oss_instruct"' not in (
        manifest.read_text() if manifest.exists() else ""
    ):
        time.sleep(0.02)
    names = [
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["name"].startswith("cf-worker-")
    ]
    assert names, "no stage worker to kill"
    assert driver.is_alive(), "the run ended before the worker could be killed"
    ray.kill(ray.get_actor(names[0]), no_restart=False)  # the process dies with batches in flight
    driver.join(timeout=300)
    assert done == [local]


@pytest.mark.slow
def test_the_default_recipe_bounded_on_ray_exports_what_a_local_run_exports(
    tmp_path: Path, ray_cluster: str
) -> None:
    """The built-in recipe as `make run` runs it, on the first 24 standard-library modules."""
    recipe = load_recipe(None).model_dump(mode="json", exclude_none=True)
    recipe["stages"][0]["limit"] = 24
    local = exports(recipe, tmp_path / "local", RunnerOptions())
    on_ray = exports(recipe, tmp_path / "ray", RunnerOptions(kind=RunnerKind.RAY, workers=2))
    assert local == on_ray
    assert local["sft.jsonl"].count(b"\n") >= 5
