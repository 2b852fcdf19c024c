"""What ``codefoundry preview`` prints: a few of a run's final records per synthesis method.

Each record shows where it came from (method, source, operator and round, parent), its language and style,
the task, the start of its lesson (textbook exercises), one visible test and its verification figures, so a
user can judge a recipe's output before running it at scale.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console


def grouped(records: Iterable[dict[str, Any]], per_method: int) -> dict[str, list[dict[str, Any]]]:
    """Up to ``per_method`` records of each synthesis method, in run order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for raw in records:
        method = raw["task"]["provenance"].get("method") or "unknown"
        group = groups.setdefault(method, [])
        if len(group) < per_method:
            group.append(raw)
    return groups


def describe(raw: dict[str, Any]) -> str:
    """The one-line heading of a record: method, language/style, entry point, source, lineage."""
    task = raw["task"]
    provenance = task["provenance"]
    where = provenance["source"] + (f": {provenance['path']}" if provenance.get("path") else "")
    parts = [f"{provenance.get('method') or '?'}", f"{task['language']}/{task['style']}"]
    if task.get("entry_point"):
        parts.append(task["entry_point"])
    parts.append(f"({where})")
    lineage = task.get("lineage") or {}
    if lineage.get("operator"):
        parts.append(f"operator {lineage['operator']}")
    if lineage.get("round"):
        parts.append(f"round {lineage['round']}")
    return "  ".join(parts)


def first_test(raw: dict[str, Any]) -> str:
    tests = [t for t in raw.get("tests", []) if t.get("split") == "visible"] or raw.get("tests", [])
    if not tests:
        return ""
    test = tests[0]
    given = test["stdin"] if test.get("stdin") is not None else test.get("args")
    return f"e.g. {given!r:.120} -> {test.get('expected')!r:.120}"


def print_preview(console: Console, records: Iterable[dict[str, Any]], per_method: int = 3) -> int:
    """Print up to ``per_method`` records of each method; returns how many records the run kept."""
    kept = list(records)
    for method, group in grouped(kept, per_method).items():
        console.rule(f"[bold]{method}[/bold]: {sum(1 for r in kept if (r['task']['provenance'].get('method') or 'unknown') == method)} records")
        for raw in group:
            task = raw["task"]
            console.print(describe(raw), markup=False, style="bold")
            if task.get("lesson"):
                lesson = task["lesson"].strip()
                console.print(f"lesson: {lesson[:400]}{' ...' if len(lesson) > 400 else ''}", markup=False, style="dim")
            console.print(task["prompt"], markup=False)
            example = first_test(raw)
            if example:
                console.print(example, markup=False, style="dim")
            verified = f"tests: {len(raw.get('tests', []))}"
            if raw.get("mutation_score") is not None:
                verified += f"  mutation score: {raw['mutation_score']}"
            if not raw.get("reference"):
                verified += "  (an instruction: no solution yet)"
            console.print(verified, markup=False)
            console.print()
    return len(kept)
