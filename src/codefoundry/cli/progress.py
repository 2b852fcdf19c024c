"""Progress bars and the end-of-run summary on the terminal (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from codefoundry.pipeline.runner import ProgressSink, StageReport

LOG_WIDTH = 120  # columns when the output is a file or a pipe (rich would assume 80 and cut the tables)


def make_console() -> Console:
    """A console for command output: the terminal's width, or ``LOG_WIDTH`` when written to a log."""
    console = Console()
    return console if console.is_terminal else Console(width=LOG_WIDTH)


class RichProgress(ProgressSink):
    """One bar per stage, with elapsed time and an estimate of what is left."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def stage_started(self, name: str, total: int | None) -> None:
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=total)

    def set_total(self, name: str, total: int) -> None:
        self.stage_started(name, total)
        self._progress.update(self._tasks[name], total=total)

    def advance(self, name: str, n: int) -> None:
        self.stage_started(name, None)
        self._progress.advance(self._tasks[name], n)

    def stage_finished(self, report: StageReport) -> None:
        if report.name not in self._tasks:  # finished in an earlier run
            self._progress.console.print(f"{report.name:<28} already done ({report.records} records)")


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    """The one-screen summary: stages, drop reasons, tests per task, mutation scores, time."""
    table = Table(title="codefoundry run summary", title_justify="left")
    for column in ("stage", "kept", "dropped", "seconds", "top drop reasons"):
        table.add_column(column, justify="right" if column in ("kept", "dropped", "seconds") else "left")
    for stage in summary["stages"]:
        reasons = ", ".join(f"{k} {v}" for k, v in list(stage["drop_reasons"].items())[:4] if v)
        table.add_row(
            stage["stage"] + ("" if stage["done"] else " (unfinished)"),
            str(stage["records"]),
            str(stage["drops"]),
            f"{stage['seconds']:.1f}",
            reasons,
        )
    console.print(table)
    final = summary.get("final", {})
    console.print(
        f"verified tasks: [bold]{final.get('tasks', 0)}[/bold] ({final.get('problems', 0)} problems)"
    )
    if "tests_per_task" in final:
        t = final["tests_per_task"]
        console.print(
            f"tests per task: min {t['min']}, median {t['median']}, max {t['max']} "
            f"(holdout median {t['holdout_median']})"
        )
    if "mutation_score" in final:
        m = final["mutation_score"]
        histogram = "  ".join(f"{k}: {v}" for k, v in m["histogram"].items())
        console.print(
            f"mutation score: min {m['min']}, median {m['median']}, mean {m['mean']}  |  {histogram}"
        )
    if "mutation_skipped" in final:
        unscored = ", ".join(f"{reason}: {n}" for reason, n in final["mutation_skipped"].items())
        console.print(f"not mutation-scored: {unscored}", markup=False)
    if summary.get("methods"):
        print_methods(console, summary["methods"])
    if "seconds" in summary:
        console.print(f"time: {summary['seconds']:.1f} s")
    for path in summary.get("exported", []):
        console.print(f"wrote {path}")


def print_methods(console: Console, methods: dict[str, Any]) -> None:
    """Per synthesis method: instructions, tasks written, verified, tokens, yield, mix, near-duplicates."""
    table = Table(title="per synthesis method", title_justify="left")
    columns = ("method", "instructions", "generated", "verified", "teacher tokens", "verified / 1k tok", "near-dup", "language/style mix")
    for column in columns:
        table.add_column(column, justify="left" if column in ("method", "language/style mix") else "right")
    for method, m in methods.items():
        rate = m["verified_per_1k_tokens"]
        near = m["near_duplicate_rate"]
        table.add_row(
            method,
            str(m["instructions"] or ""),
            str(m["generated"]),
            str(m["verified"]),
            str(m["teacher_tokens"]),
            "" if rate is None else f"{rate:.3f}",
            "" if near is None else f"{100 * near:.0f}%",
            ", ".join(f"{k} {v}" for k, v in m["mix"].items()),
        )
    console.print(table)


def print_teacher_usage(console: Console, usage: dict[str, Any]) -> None:
    """Calls, tokens, cost and cache hits per teacher and stage (from the run's usage file)."""
    table = Table(title="teacher usage", title_justify="left")
    columns = (
        "teacher / stage", "calls", "cache hits", "prompt tok", "completion tok", "cost $", "in flight", "retries",
        "failures",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "teacher / stage" else "right")

    def row(label: str, u: dict[str, Any]) -> None:
        failures = ", ".join(f"{k} {v}" for k, v in u.get("failures", {}).items()) or "0"
        # average calls in flight while the teacher was busy: latency summed over calls / busy span
        span = (u.get("last_answer_at") or 0) - (u.get("first_sent_at") or 0)
        in_flight = f"{u['latency_s'] / span:.1f}" if span > 0 else "-"
        table.add_row(
            label,
            str(u["calls"]),
            str(u["cache_hits"]),
            str(u["prompt_tokens"]),
            str(u["completion_tokens"]),
            f"{u['cost_usd']:.4f}",
            in_flight,
            str(u["retries"]),
            failures,
        )

    for name, teacher in usage.get("teachers", {}).items():
        row(f"{name} ({teacher.get('model', '')})", teacher["total"])
        for stage, u in teacher.get("stages", {}).items():
            row(f"  {stage}", u)
    if "total" in usage:
        row("all teachers", usage["total"])
    console.print(table)
