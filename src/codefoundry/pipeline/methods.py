"""Figures per synthesis method: how many tasks each method's teacher wrote, how many survived every stage,
what they cost in teacher tokens, their language and style mix, and how many are near-duplicates.

A task's method is its provenance's (``oss_instruct``, ``self_instruct``, ``evol_instruct``, ``textbook``,
``mine``, ...); an input record without a task (a seed, a topic) counts for the stage's own method. Tokens
are the teacher usage of the synthesis stages, shared between methods by the records each stage handled
for them (``synth.implement`` writes tasks for Self-Instruct's and Evol-Instruct's instructions alike);
records a stage only passed on count for none of this.
Near-duplicates are a method's verified tasks whose prompt has a ROUGE-L of 0.7 or more with an earlier
one of the same method (the Self-Instruct novelty test, ``synth/novelty.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from codefoundry.pipeline.plan import PlannedStage
from codefoundry.pipeline.rundir import RunDir

SYNTH_PREFIX = "synth."
INSTRUCTION_STAGES = ("synth.self_instruct", "synth.evol_instruct")  # write instructions, not tasks


def method_of(raw: dict[str, Any] | None, kind: str) -> str:
    """The synthesis method of a stored record (or the stage's own, for inputs without a task)."""
    task = (raw or {}).get("task") or {}
    method = (task.get("provenance") or {}).get("method")
    return str(method) if method else kind.removeprefix(SYNTH_PREFIX)


def stage_tokens(run_dir: Path) -> dict[str, int]:
    """Prompt + completion tokens per stage name, over every teacher."""
    try:
        from codefoundry.teacher.accounting import usage_summary
    except ImportError:
        return {}
    tokens: Counter[str] = Counter()
    for entry in (usage_summary(run_dir).get("teachers") or {}).values():
        for stage, usage in entry["stages"].items():
            tokens[stage] += int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
    return dict(tokens)


def method_figures(run_dir: RunDir, planned: list[PlannedStage]) -> dict[str, dict[str, Any]]:
    """Per method: instructions kept, tasks generated, verified, tokens, per 1,000 tokens, mix, near-dup rate."""
    from codefoundry.synth.novelty import NoveltyFilter

    usage = stage_tokens(run_dir.path)
    generated: defaultdict[str, set[str]] = defaultdict(set)
    instructions: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    for index, item in enumerate(planned):
        if not item.cls.kind.startswith(SYNTH_PREFIX):
            continue
        # records the stage only passed on (``keep_inputs``, problems with a solution through synth.implement)
        # are neither its work nor its cost
        before = planned[index - 1] if index else None
        passed = {r.get("id") for r in run_dir.iter_records(before.name, before.fingerprint)} if before else set()
        handled: Counter[str] = Counter()
        for raw in run_dir.iter_records(item.name, item.fingerprint):
            if raw.get("id") in passed:
                continue
            method = method_of(raw, item.cls.kind)
            handled[method] += 1
            if item.cls.kind in INSTRUCTION_STAGES:
                instructions[method] += 1
            elif raw.get("reference"):
                generated[method].add(raw["task"]["id"])
        for drop in run_dir.iter_drops(item.name, item.fingerprint):
            method = method_of(drop.record, item.cls.kind)
            handled[method] += 1
            if item.cls.kind not in INSTRUCTION_STAGES and (drop.record or {}).get("reference"):
                generated[method].add(drop.record["task"]["id"])  # type: ignore[index]
        spent = usage.get(item.name, 0)
        total = sum(handled.values())
        for method, count in handled.items():
            tokens[method] += spent * count / total if total else 0
    verified: defaultdict[str, dict[str, str]] = defaultdict(dict)
    mix: defaultdict[str, Counter[str]] = defaultdict(Counter)
    if planned:
        final = planned[-1]
        for raw in run_dir.iter_records(final.name, final.fingerprint):
            task = raw["task"]
            method = method_of(raw, final.cls.kind)
            if task["id"] not in verified[method]:
                verified[method][task["id"]] = task["prompt"]
                mix[method][f"{task['language']}/{task['style']}"] += 1
    figures: dict[str, dict[str, Any]] = {}
    for method in sorted(set(generated) | set(verified) | set(instructions) | set(tokens)):
        prompts = list(verified[method].values())
        novelty = NoveltyFilter()
        near = sum(not novelty.check(str(i), text).kept for i, text in enumerate(prompts))
        spent = round(tokens[method])
        figures[method] = {
            "instructions": instructions[method],
            "generated": len(generated[method]),
            "verified": len(prompts),
            "teacher_tokens": spent,
            "verified_per_1k_tokens": round(1000 * len(prompts) / spent, 3) if spent else None,
            "mix": dict(sorted(mix[method].items())),
            "near_duplicate_rate": round(near / len(prompts), 3) if prompts else None,
        }
    return figures
