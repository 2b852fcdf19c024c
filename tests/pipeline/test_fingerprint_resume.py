"""Resume by fingerprint on a real teacher + sandbox recipe: runtime knobs resume, data changes re-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codefoundry.pipeline.runner import run_recipe
from codefoundry.recipe import recipe_from_dict
from codefoundry.testing.teacher_server import ScriptedServer

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"


def _recipe(base_url: str, *, concurrency: int = 4, workers: int = 2, min_score: float = 0.0) -> Any:
    return recipe_from_dict(
        {
            "name": "resume-by-fingerprint",
            "sandbox": {"workers": workers},
            "teachers": {
                "default": {"base_url": base_url, "model": "scripted", "max_concurrency": concurrency}
            },
            "stages": [
                {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(CORPUS)}},
                {"kind": "synth.oss_instruct", "limit": 6, "batch_size": 2},
                {"kind": "verify.reference", "batch_size": 2},
                {"kind": "verify.mutation", "min_score": min_score, "batch_size": 2},
                {"kind": "filter.dedup"},
            ],
        }
    )


def test_runtime_knobs_resume_without_calls_and_a_gate_change_reruns_only_that_stage_on(
    tmp_path: Path,
) -> None:
    with ScriptedServer(latency_s=0.01, tasks=True) as server:
        first = run_recipe(_recipe(server.base_url), tmp_path)
        calls = len(server.generations())
        assert calls == 6 and first.stages[1].records > 0

        faster = run_recipe(_recipe(server.base_url, concurrency=32, workers=1), tmp_path)
        assert len(server.generations()) == calls, "a runtime knob must not cost a teacher request"
        assert all(stage.batches_run == 0 for stage in faster.stages)

        stricter = run_recipe(_recipe(server.base_url, min_score=0.99), tmp_path)
        assert len(server.generations()) == calls
        ran = [stage.batches_run > 0 for stage in stricter.stages]
        assert ran == [False, False, False, True, True]
        assert stricter.stages[3].records <= first.stages[3].records
