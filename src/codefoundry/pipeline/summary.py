"""The end-of-run summary: counts per stage, drop reasons, tests per task, mutation scores, time.

Computed from the run directory alone, so ``codefoundry status RUN`` shows the same figures for a run that
is finished, half done, or was killed.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from codefoundry.pipeline.rundir import RunDir

SCORE_BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _bucket(score: float) -> str:
    for low, high in zip(SCORE_BUCKETS, SCORE_BUCKETS[1:], strict=False):
        if score < high:
            return f"[{low:.1f}, {high:.1f})"
    return "1.0"


def summarize(run_dir: RunDir, stage_order: list[str]) -> dict[str, Any]:
    """Figures for a run directory, stage by stage in recipe order."""
    shards, done = run_dir.manifest()
    stages = []
    for name in stage_order:
        entries = [e for (stage, _b), e in shards.items() if stage == name]
        reasons = Counter(d.reason for d in run_dir.iter_drops(name))
        stages.append(
            {
                "stage": name,
                "done": name in done,
                "batches": len(entries),
                "records": sum(e.records for e in entries),
                "drops": sum(e.drops for e in entries),
                "seconds": round(sum(e.seconds for e in entries), 2),
                "drop_reasons": dict(reasons.most_common()),
            }
        )
    summary: dict[str, Any] = {"run_dir": str(run_dir.path), "stages": stages}
    final = stage_order[-1] if stage_order else None
    if final is not None:
        summary["final"] = _final_figures(run_dir, final)
    return summary


def _final_figures(run_dir: RunDir, final: str) -> dict[str, Any]:
    tests_per_task: list[int] = []
    holdout_per_task: list[int] = []
    scores: list[float] = []
    from codefoundry.export import first_per_task

    # counted as exported: one example per task
    records, duplicates = first_per_task(
        run_dir.iter_records(final), lambda raw: str((raw.get("task") or {}).get("id") or id(raw))
    )
    for raw in records:
        tests = raw.get("tests", [])
        tests_per_task.append(len(tests))
        holdout_per_task.append(sum(1 for t in tests if t.get("split") == "holdout"))
        if raw.get("mutation_score") is not None:
            scores.append(float(raw["mutation_score"]))
    figures: dict[str, Any] = {"tasks": len(tests_per_task), "duplicate_tasks": len(duplicates)}
    if tests_per_task:
        figures["tests_per_task"] = {
            "min": min(tests_per_task),
            "median": statistics.median(tests_per_task),
            "max": max(tests_per_task),
            "holdout_median": statistics.median(holdout_per_task),
        }
    if scores:
        figures["mutation_score"] = {
            "min": round(min(scores), 3),
            "median": round(statistics.median(scores), 3),
            "mean": round(statistics.fmean(scores), 3),
            "histogram": dict(sorted(Counter(_bucket(s) for s in scores).items())),
        }
    return figures
