"""``codefoundry eval``: pass@k of a model on HumanEval or on a run's holdout tests (see ``eval/harness.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from codefoundry.errors import UserError
from codefoundry.synth.solve import PromptStyle
from codefoundry.teacher.config import ChatTemplate


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise _fail(f"-k {text}: expected a comma-separated list of whole numbers, e.g. 1,10") from None
    if not ks or ks[0] < 1:
        raise _fail(f"-k {text}: every k must be at least 1")
    return ks


def eval_command(
    teacher: Annotated[
        str, typer.Option("--teacher", help="local:<name> (embedded model) or an OpenAI-compatible base URL")
    ],
    benchmark: Annotated[
        str,
        typer.Option("--benchmark", help="humaneval, or a run directory (its final problems' holdout tests)"),
    ] = "humaneval",
    k: Annotated[str, typer.Option("-k", help="comma-separated k values of pass@k")] = "1",
    n: Annotated[
        int | None, typer.Option("-n", help="samples per task (default: the largest k)", min=1)
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="evaluate the first P tasks only", min=1)
    ] = None,
    temperature: Annotated[
        float | None,
        typer.Option(help="sampling temperature (default: 0 for n = 1, greedy; else 0.8)", min=0),
    ] = None,
    prompt_style: Annotated[
        PromptStyle | None,
        typer.Option(
            help="chat, chat_prefill or completion (default: chat_prefill when the chat template is known)"
        ),
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="tokens per answer", min=1)] = 768,
    model: Annotated[str | None, typer.Option(help="model name on the server (URL teachers)")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="environment variable holding the API key")] = None,
    chat_template: Annotated[
        ChatTemplate | None, typer.Option(help="the server model's chat template (enables chat_prefill)")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="requests in flight to a server", min=1)] = 8,
    out: Annotated[
        Path | None, typer.Option(help="output folder (default: runs/eval-<benchmark>-<model>)")
    ] = None,
    teacher_cache: Annotated[
        Path | None, typer.Option(help="response cache to use (default: OUT/teacher.sqlite)")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="sandbox fork-servers (default: cores)", min=1)] = None,
) -> None:
    """Sample a model on a benchmark, judge every sample in the sandbox, and print pass@k.

    Samples are cached (OUT/teacher.sqlite): running again costs no model time, and a killed eval resumes.
    """
    ks = _ks(k)
    samples_per_task = n if n is not None else ks[-1]
    if samples_per_task < ks[-1]:
        raise _fail(f"-n {samples_per_task} is smaller than the largest k: pass@{ks[-1]} needs n >= {ks[-1]}")
    temp = temperature if temperature is not None else (0.0 if samples_per_task == 1 else 0.8)
    try:
        report = _evaluate(
            teacher=teacher,
            benchmark=benchmark,
            ks=ks,
            n=samples_per_task,
            limit=limit,
            temperature=temp,
            style=prompt_style,
            max_tokens=max_tokens,
            model=model,
            api_key_env=api_key_env,
            chat_template=chat_template,
            concurrency=concurrency,
            out=out,
            teacher_cache=teacher_cache,
            workers=workers,
        )
    except UserError as exc:
        raise _fail(str(exc)) from None
    _print_report(report)


def _evaluate(**o: Any) -> dict[str, Any]:
    """The whole evaluation: benchmark, samples (cached), judging, pass@k, eval.json and samples.jsonl."""
    from codefoundry.cli.progress import make_console
    from codefoundry.durable import write_json, write_jsonl
    from codefoundry.eval import harness
    from codefoundry.eval.passk import mean_pass_at_k, published
    from codefoundry.sandbox import Sandbox, SandboxConfig
    from codefoundry.synth.solutions import auto_style, check_style
    from codefoundry.teacher.cache import TeacherCache

    console = make_console()
    config = harness.teacher_config(
        o["teacher"],
        o["model"],
        api_key_env=o["api_key_env"],
        chat_template=o["chat_template"],
        concurrency=o["concurrency"],
    )
    style = o["style"] or auto_style(config)
    check_style(style, config.chat_template, o["teacher"])
    if o["benchmark"] == "humaneval":
        bench = harness.humaneval_benchmark(o["limit"])
    else:
        path = Path(o["benchmark"])
        if not path.is_dir():
            raise UserError(f"--benchmark {path}: not 'humaneval' and not a run directory")
        bench = harness.run_benchmark(path, o["limit"])
    out: Path = o["out"] or Path("runs") / f"eval-{bench.name}-{harness.sanitised(config.model)}"
    out.mkdir(parents=True, exist_ok=True)
    cache_path: Path = o["teacher_cache"] or out / "teacher.sqlite"
    requests = harness.requests_for(
        bench.tasks,
        style,
        config.chat_template,
        n=o["n"],
        temperature=o["temperature"],
        max_tokens=o["max_tokens"],
    )
    scope = f"first {len(bench.tasks)} of {bench.total}" if o["limit"] else f"all {len(bench.tasks)}"
    console.print(
        f"{bench.name}: {scope} tasks, model {config.model}, {style} prompts, n={o['n']}, "
        f"temperature {o['temperature']:g} -> {out}"
    )
    with TeacherCache(cache_path) as cache:
        missing = harness.uncached(config, cache, requests)
        console.print(f"samples: {o['n'] * len(requests) - missing} cached, {missing} to draw ({cache_path})")
        with _bars(console) as bars:
            drawing = bars.add_task("sampling", total=len(requests))
            responses = harness.draw(config, cache, requests, lambda _r: bars.advance(drawing))
        samples, failed_calls = harness.samples_of(bench.tasks, responses, style, o["n"])
    runnable = sum(1 for s in samples if s.program is not None)
    sandbox_config = SandboxConfig(workers=o["workers"])
    with Sandbox(sandbox_config, cache_path=out / "executions.sqlite") as sandbox, _bars(console) as bars:
        judging = bars.add_task("judging", total=runnable)
        bench.judge(sandbox, samples, lambda _i: bars.advance(judging))
    per_task = harness.counts(samples)
    pass_at = mean_pass_at_k(per_task, o["ks"])
    figure = published(bench.name, config.model)
    report: dict[str, Any] = {
        "benchmark": bench.name,
        "model": config.model,
        "teacher": o["teacher"],
        "prompt_style": str(style),
        "n": o["n"],
        "temperature": o["temperature"],
        "max_tokens": o["max_tokens"],
        "tasks": len(bench.tasks),
        "benchmark_tasks": bench.total,
        "limit": o["limit"],
        "pass_at_k": {str(key): round(value, 6) for key, value in pass_at.items()},
        "samples": len(samples),
        "passed": sum(s.passed for s in samples),
        "unparsable": sum(1 for s in samples if s.program is None and s.answer is not None),
        "failed_calls": failed_calls,
        "notes": bench.notes,
        "per_task": {task: {"n": tn, "c": tc} for task, (tn, tc) in per_task.items()},
        "out": str(out),
    }
    if figure is not None:
        report["published_pass_at_1"] = {"value": figure.pass_at_1, "source": figure.source}
    write_json(out / "eval.json", report)
    write_jsonl(out / "samples.jsonl", (s.row() for s in samples))
    return report


def _bars(console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _print_report(report: dict[str, Any]) -> None:
    from rich.table import Table

    from codefoundry.cli.progress import make_console

    console = make_console()
    title = f"{report['benchmark']}: {report['model']} ({report['prompt_style']}, n={report['n']})"
    table = Table(title=title, title_justify="left")
    for column in ("k", "pass@k", "published"):
        table.add_column(column, justify="left" if column == "published" else "right")
    published = report.get("published_pass_at_1")
    for key, value in report["pass_at_k"].items():
        note = f"{published['value']}% ({published['source']})" if published and key == "1" else ""
        table.add_row(key, f"{100 * value:.1f}%", note)
    console.print(table)
    if published and "1" in report["pass_at_k"]:
        measured = 100 * report["pass_at_k"]["1"]
        console.print(f"pass@1: {measured:.1f}%  published: {published['value']}% ({published['source']})")
    if report["limit"]:
        console.print(
            f"limited to the first {report['tasks']} of {report['benchmark_tasks']} tasks (--limit)"
        )
    console.print(
        f"{report['passed']} of {report['samples']} samples passed; {report['unparsable']} gave no program; "
        f"{report['failed_calls']} failed calls"
    )
    for note in report["notes"]:
        console.print(note)
    console.print(f"wrote {report['out']}/eval.json and {report['out']}/samples.jsonl")
