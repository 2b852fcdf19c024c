"""``codefoundry sandbox ...``: run, judge, doctor, humaneval."""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codefoundry.sandbox.api import Compare, ExecRequest, Limits, TestInput
from codefoundry.sandbox.config import SandboxConfig
from codefoundry.sandbox.supervisor import Sandbox, SandboxError

app = typer.Typer(
    help="Run untrusted code in the isolated sandbox, judge solutions, check isolation.", no_args_is_help=True
)


class TaskTest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    args: list[Any] | None = None
    stdin: str | None = None
    expected: Any = None


class JudgeTask(BaseModel):
    """TASK.json for ``sandbox judge``."""

    model_config = ConfigDict(extra="forbid")
    language: str = "python"
    style: Literal["function", "stdio"] = "function"
    entry_point: str = ""
    tests: list[TaskTest] = Field(min_length=1)
    compare: Compare = Field(default_factory=Compare)
    limits: Limits = Field(default_factory=Limits)
    stop_on_first_failure: bool = False


def _fail(msg: str) -> None:
    """One clear line on stderr, exit code 2, no traceback."""
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def _read_text(path: pathlib.Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{path}: {what} not found")
    except IsADirectoryError:
        _fail(f"{path}: {what} is a directory")
    except (OSError, UnicodeDecodeError) as e:
        _fail(f"{path}: cannot read {what}: {e}")
    raise AssertionError  # unreachable


def _field_error(path: pathlib.Path, e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
    return f"{path}: field '{loc}': {err['msg']}"


@app.command()
def run(
    file: Annotated[pathlib.Path, typer.Argument(help="program source file")],
    language: Annotated[
        str, typer.Option("--language", "-l", help="python, javascript, cpp, java, rust, go")
    ],
    stdin: Annotated[
        pathlib.Path | None, typer.Option("--stdin", help="file fed to the program's stdin")
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="wall-clock seconds")] = 5.0,
    memory_limit: Annotated[int, typer.Option("--memory-limit", help="MiB of address space")] = 512,
) -> None:
    """Run FILE once in the sandbox; the last line printed is a JSON object with status and output."""
    code = _read_text(file, "program file")
    data = _read_text(stdin, "stdin file") if stdin is not None else ""
    if time_limit <= 0 or memory_limit <= 0:
        _fail("--time-limit and --memory-limit must be positive")
    limits = Limits(time_s=time_limit, per_test_time_s=time_limit, cpu_s=time_limit, memory_mb=memory_limit)
    try:
        with Sandbox(SandboxConfig(workers=1)) as sb:
            pr = sb.run_program(code, language, data, limits)
    except SandboxError as e:
        _fail(str(e))
    out = pr.model_dump()
    out.pop("error", None)
    if pr.error:
        out["error"] = pr.error
    typer.echo(json.dumps(out))


@app.command()
def judge(
    task: Annotated[pathlib.Path, typer.Argument(help="TASK.json: language, style, entry_point, tests")],
    solution: Annotated[pathlib.Path, typer.Argument(help="solution source file")],
) -> None:
    """Judge SOLUTION_FILE against TASK.json; the last line is a JSON object with ``passed`` and verdicts."""
    text = _read_text(task, "task file")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        _fail(f"{task}: invalid JSON: {e}")
    try:
        spec = JudgeTask.model_validate(raw)
    except ValidationError as e:
        _fail(_field_error(task, e))
    if spec.style == "function" and not spec.entry_point:
        _fail(f"{task}: field 'entry_point': required for function style")
    for i, t in enumerate(spec.tests):
        if spec.style == "function" and t.args is None:
            _fail(f"{task}: field 'tests.{i}.args': required for function style")
        if spec.style == "stdio" and not isinstance(t.expected, str | None):
            _fail(f"{task}: field 'tests.{i}.expected': must be a string for stdio style")
    code = _read_text(solution, "solution file")
    req = ExecRequest(
        language=spec.language,
        style=spec.style,
        code=code,
        entry_point=spec.entry_point,
        tests=[
            TestInput(args=t.args, stdin=t.stdin, expected=t.expected, has_expected=True) for t in spec.tests
        ],
        limits=spec.limits,
        compare=spec.compare,
        stop_on_first_failure=spec.stop_on_first_failure,
    )
    try:
        with Sandbox(SandboxConfig(workers=1)) as sb:
            res = sb.run(req)
    except SandboxError as e:
        _fail(str(e))
    for i, v in enumerate(res.verdicts):
        typer.echo(f"test {i}: {v.status}" + (f" ({v.error[:200]})" if v.error else ""), err=True)
    out = {
        "passed": res.passed,
        "status": res.status,
        "verdicts": [v.model_dump(mode="json") for v in res.verdicts],
        "compile_output": res.compile_output[-4000:],
        "time_s": res.time_s,
        "peak_memory_mb": res.peak_memory_mb,
    }
    typer.echo(json.dumps(out))


@app.command()
def doctor(
    measure: Annotated[bool, typer.Option("--measure", help="also time fork + each isolation layer")] = False,
) -> None:
    """Show which isolation layers and languages are active on this machine."""
    try:
        with Sandbox(SandboxConfig(workers=1)) as sb:
            layers = sb.layers()
            cost = sb.measure_overhead(100) if measure else {}
    except SandboxError as e:
        _fail(str(e))
    typer.echo("isolation layers:")
    for name, rep in layers.items():
        if not name.startswith("lang:"):
            typer.echo(f"  [{'ok' if rep.active else 'MISSING'}] {name:14s} {rep.detail}")
    typer.echo("languages:")
    for name, rep in layers.items():
        if name.startswith("lang:"):
            typer.echo(f"  [{'ok' if rep.active else 'MISSING'}] {name[5:]:14s} {rep.detail}")
    if cost:
        typer.echo("per-candidate cost (median ms, fork + wait, cumulative layers):")
        for k, v in cost.items():
            typer.echo(f"  {k:14s} {v:.3f}")
    missing = [k for k, v in layers.items() if not v.active and not k.startswith("lang:")]
    if missing:
        typer.echo(f"WARNING: isolation layers missing: {', '.join(missing)}", err=True)


@app.command()
def humaneval(
    samples: Annotated[pathlib.Path, typer.Argument(help="JSONL with task_id and completion per line")],
    workers: Annotated[int | None, typer.Option("--workers", help="fork-servers (default: cores)")] = None,
) -> None:
    """Score HumanEval-format samples; writes <SAMPLES>_results.jsonl and prints pass@1."""
    from codefoundry.eval import humaneval as he

    if not samples.is_file():
        _fail(f"{samples}: samples file not found")
    try:
        with Sandbox(SandboxConfig(workers=workers)) as sb:
            out_path, rows = he.score_file(sb, samples)
    except (ValueError, json.JSONDecodeError) as e:
        _fail(str(e))
    except SandboxError as e:
        _fail(str(e))
    in_child = sorted({r["task_id"] for r in rows if r["judged"] == "in-child"})
    typer.echo(f"wrote {out_path}", err=True)
    if in_child:
        typer.echo(
            f"{len(in_child)} task(s) judged in-child (check() not convertible): {', '.join(in_child)}",
            err=True,
        )
    summary = {
        "pass@1": round(he.pass_at_1(rows), 4),
        "samples": len(rows),
        "passed": sum(r["passed"] for r in rows),
    }
    summary["results"] = str(out_path)
    typer.echo(json.dumps(summary))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
