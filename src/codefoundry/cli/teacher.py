"""``codefoundry teacher``: check that every teacher of a recipe answers, and how.

Before a run of 100k calls, one call per teacher tells whether the URL, model name and key are right, how slow
the server is, and whether it does structured (JSON-schema) output or needs the fallback parser.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError

from codefoundry.errors import UserError

app = typer.Typer(help="Teacher LLMs: check the teachers of a recipe.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Teacher LLMs: check the teachers of a recipe (a group, so more commands can join ``check``)."""


_QUESTION = (
    "What is 17 + 25? Reply as JSON with the keys 'answer' (an integer) and 'language' "
    "(the name of a programming language you can write)."
)


class _Probe(BaseModel):
    answer: int
    language: str


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def load_teachers(path: Path) -> dict[str, Any]:
    """The teachers of a recipe file (validated); a file with only a ``teachers:`` mapping works too."""
    import yaml

    from codefoundry.teacher.config import TeacherConfig

    if not path.is_file():
        raise UserError(f"{path}: recipe file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("teachers"), dict) or not data["teachers"]:
        raise UserError(f"{path}: teachers: expected a non-empty mapping of teacher name -> teacher config")
    if "stages" in data:  # a whole recipe: validate it as the pipeline will
        from codefoundry.recipe import load_recipe

        raw = load_recipe(path).teachers
    else:
        raw = data["teachers"]
    teachers: dict[str, TeacherConfig] = {}
    for name, config in raw.items():
        try:
            teachers[name] = TeacherConfig.model_validate(config)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            raise UserError(f"{path}: teachers.{name}.{where}: {err['msg']}") from None
    return teachers


async def check_one(name: str, config: Any, timeout_s: float) -> dict[str, Any]:
    """One plain request and one structured request to a teacher; never raises."""
    from codefoundry.teacher.accounting import Accounting
    from codefoundry.teacher.client import TeacherClient
    from codefoundry.teacher.config import Sampling
    from codefoundry.teacher.parse import extract_json
    from codefoundry.teacher.types import TeacherFailure

    config = config.model_copy(update={"timeout_s": min(config.timeout_s, timeout_s), "max_retries": 1})
    report: dict[str, Any] = {"teacher": name, "model": config.model, "base_url": config.base_url}
    accounting = Accounting()
    try:
        client = TeacherClient(config, None, accounting, name=name)
    except (UserError, ValueError) as exc:
        return {**report, "ok": False, "error": str(exc)}
    sampling = Sampling(temperature=0.0, max_tokens=96)
    messages = [{"role": "user", "content": _QUESTION}]
    async with client:
        started = time.monotonic()
        try:
            if config.endpoint == "completion":
                [plain] = await client.complete(_QUESTION + "\nAnswer:", sampling=sampling, stage="check")
            else:
                [plain] = await client.chat(messages, sampling=sampling, stage="check")
        except TeacherFailure as exc:
            return {**report, "ok": False, "error": f"{exc.reason}: {exc.detail}"[:300]}
        report["latency_s"] = round(time.monotonic() - started, 3)
        usage = accounting.usage()
        report["prompt_tokens"] = usage.prompt_tokens
        report["completion_tokens"] = usage.completion_tokens
        report["served_model"] = plain.model
        report["reply"] = plain.text.strip()[:120]
        report["ok"] = True
        if config.endpoint == "completion":
            report["structured_output"] = "not checked (completion endpoint)"
            return report
        try:
            [structured] = await client.chat(
                messages, sampling=sampling, response_format=_Probe, stage="check"
            )
        except TeacherFailure as exc:
            report["structured_output"] = f"failed: {exc.reason}"
            return report
        parsed = extract_json(structured, _Probe)
        native = client.structured_output_native
        if parsed.ok:
            report["structured_output"] = (
                "yes (response_format)" if native else "fallback (JSON asked in words)"
            )
        else:
            how = "response_format" if native else "fallback"
            report["structured_output"] = f"no ({how}: {parsed.reason})"
        report["json_correct"] = bool(parsed.ok and parsed.value and parsed.value.answer == 42)
    return report


@app.command()
def check(
    recipe: Annotated[Path, typer.Argument(help="A recipe YAML with a 'teachers:' mapping.")],
    only: Annotated[list[str] | None, typer.Option("--teacher", help="Check only these teachers.")] = None,
    timeout_s: Annotated[float, typer.Option("--timeout", help="Seconds per request.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Send one request to each teacher and report model, latency, tokens and structured output."""
    import json

    from rich.table import Table

    from codefoundry.cli.progress import make_console

    try:
        teachers = load_teachers(recipe)
    except UserError as exc:
        raise _fail(str(exc)) from None
    if only:
        unknown = sorted(set(only) - set(teachers))
        if unknown:
            raise _fail(f"{recipe}: no teacher named {', '.join(unknown)} (have: {', '.join(teachers)})")
        teachers = {k: v for k, v in teachers.items() if k in only}
    reports = []
    for name, config in teachers.items():
        if config.is_local:
            reports.append(_check_local(name, config, timeout_s))
        else:
            reports.append(asyncio.run(check_one(name, config, timeout_s)))
    if as_json:
        typer.echo(json.dumps(reports, indent=2))
    else:
        console = make_console()
        table = Table(title="teachers")
        for column in ("teacher", "model", "ok", "latency s", "tokens in/out", "structured output"):
            table.add_column(column, overflow="fold")
        for r in reports:
            table.add_row(
                r["teacher"],
                r["model"],
                "yes" if r["ok"] else "NO",
                str(r.get("latency_s", "")),
                f"{r.get('prompt_tokens', '')}/{r.get('completion_tokens', '')}",
                str(r.get("structured_output", "")),
            )
        console.print(table)
        for r in reports:
            if not r["ok"]:
                console.print(f"{r['teacher']}: {r['error']}", markup=False)
    if not all(r["ok"] for r in reports):
        raise typer.Exit(1)


def _check_local(name: str, config: Any, timeout_s: float) -> dict[str, Any]:
    """Start the embedded model, check it like any server, stop it."""
    from codefoundry.teacher.local import LocalTeacher, LocalTeacherError

    try:
        with LocalTeacher.from_config(config) as served:
            report = asyncio.run(check_one(name, served, timeout_s))
    except LocalTeacherError as exc:
        return {"teacher": name, "model": config.model, "ok": False, "error": str(exc)}
    report["model"] = config.model
    return report


@app.command()
def models() -> None:
    """List the embedded (local:) models: installed or not, where the weights are, and their licence."""
    from rich.table import Table

    from codefoundry.cli.progress import make_console
    from codefoundry.teacher.local import MODELS, LocalTeacherError, install_hint, model_dir, part_paths

    table = Table(title=f"embedded teachers (weights in {model_dir()})")
    for column in ("model", "weights", "licence", "use"):
        table.add_column(column, overflow="fold")
    hints = []
    for name, spec in MODELS.items():
        try:
            part_paths(name)
            assembled = (model_dir() / spec.filename).exists()
            state = "assembled" if assembled else "installed (assembled on first use)"
        except LocalTeacherError:
            state = "not installed"
            hints.append(f"local:{name}: {install_hint(name)}")
        table.add_row(f"local:{name}", state, spec.licence, spec.note)
    console = make_console()
    console.print(table)
    for hint in hints:
        console.print(hint, markup=False)
