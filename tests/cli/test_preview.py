"""What ``codefoundry preview`` prints: a few records per synthesis method, with their lineage."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from codefoundry.cli.preview import grouped, print_preview


def _record(method: str, number: int, **task: object) -> dict[str, object]:
    return {
        "task": {
            "prompt": f"Task {number} of {method}.",
            "language": "python",
            "style": "function",
            "entry_point": f"f{number}",
            "provenance": {"source": "s", "path": "", "method": method},
            **task,
        },
        "reference": {"code": "def f(): pass"},
        "tests": [{"args": [number], "expected": number, "split": "visible"}],
        "mutation_score": 0.9,
    }


def test_a_few_records_of_each_method_with_where_they_came_from() -> None:
    records = [_record("self_instruct", i, lineage={"round": 2}) for i in range(5)]
    records += [_record("evol_instruct", 10, lineage={"operator": "misdirection", "round": 1})]
    records += [_record("textbook", 20, lesson="## Recursion\n\nA function that calls itself ...", language="cpp", style="stdio")]
    assert {m: len(g) for m, g in grouped(records, 3).items()} == {"self_instruct": 3, "evol_instruct": 1, "textbook": 1}
    out = StringIO()
    assert print_preview(Console(file=out, width=120), records, per_method=2) == 7
    text = out.getvalue()
    assert "self_instruct: 5 records" in text and "Task 1 of self_instruct." in text
    assert "Task 2 of self_instruct." not in text  # two per method
    assert "operator misdirection" in text and "round 2" in text
    assert "cpp/stdio" in text and "lesson: ## Recursion" in text
    assert "e.g. [10] -> 10" in text and "mutation score: 0.9" in text
