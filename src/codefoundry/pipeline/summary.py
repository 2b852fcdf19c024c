"""The end-of-run summary: counts per stage, drop reasons, tests per task, mutation scores, time, and the
figures per synthesis method (``pipeline/methods.py``) when a recipe synthesizes.

Computed from the run directory alone, so ``codefoundry status RUN`` shows the same figures for a run that
is finished, half done, or was killed.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from codefoundry.pipeline.plan import PlannedStage
from codefoundry.pipeline.rundir import RunDir

SCORE_BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _bucket(score: float) -> str:
    for low, high in zip(SCORE_BUCKETS, SCORE_BUCKETS[1:], strict=False):
        if score < high:
            return f"[{low:.1f}, {high:.1f})"
    return "1.0"


def summarize(run_dir: RunDir, planned: list[PlannedStage]) -> dict[str, Any]:
    """Figures for a run directory, stage by stage in recipe order, at the recipe's fingerprints.

    Every drop reason a stage declares is listed, zeros included, so a reason that never fired is visible.
    """
    manifest = run_dir.manifest()
    stages = []
    for item in planned:
        entries = manifest.committed(item.name, item.fingerprint)
        done = manifest.finished(item.name, item.fingerprint)
        reasons: Counter[str] = Counter({reason.value: 0 for reason in item.cls.drop_reasons})
        reasons.update(d.reason for d in run_dir.iter_drops(item.name, item.fingerprint))
        stages.append(
            {
                "stage": item.name,
                "fingerprint": item.fingerprint,
                "done": done is not None,
                "batches": len(entries),
                "records": sum(e.records for e in entries),
                "drops": sum(e.drops for e in entries),
                # the stage's wall time once done (its batches overlap), else the sum over committed batches
                "seconds": done.seconds
                if done is not None and done.seconds
                else round(sum(e.seconds for e in entries), 2),
                "drop_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            }
        )
    summary: dict[str, Any] = {"stages": stages}
    if planned:
        summary["final"] = _final_figures(run_dir, planned[-1])
    if any(item.cls.kind.startswith("synth.") for item in planned):
        from codefoundry.pipeline.methods import method_figures

        summary["methods"] = method_figures(run_dir, planned)
    return summary


def _final_figures(run_dir: RunDir, final: PlannedStage) -> dict[str, Any]:
    tests_per_task: list[int] = []
    holdout_per_task: list[int] = []
    scores: list[float] = []
    skipped: Counter[str] = Counter()  # problems verify.mutation passed through unscored, by reason
    task_ids: set[str] = set()
    for raw in run_dir.iter_records(final.name, final.fingerprint):
        task_ids.add(str((raw.get("task") or {}).get("id", "")))
        tests = raw.get("tests", [])
        tests_per_task.append(len(tests))
        holdout_per_task.append(sum(1 for t in tests if t.get("split") == "holdout"))
        if raw.get("mutation_score") is not None:
            scores.append(float(raw["mutation_score"]))
        reason = ((raw.get("reports") or {}).get("mutation") or {}).get("skipped")
        if reason:
            skipped[str(reason)] += 1
    figures: dict[str, Any] = {"problems": len(tests_per_task), "tasks": len(task_ids)}
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
    if skipped:
        figures["mutation_skipped"] = dict(sorted(skipped.items()))
    return figures
