"""The ``codefoundry`` command line: run, preview, status, export, verify, eval, and the sandbox and teacher tools."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codefoundry.errors import UserError

if TYPE_CHECKING:
    from codefoundry.recipe import Recipe

app = typer.Typer(
    help="Make execution-verified synthetic training data for code models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _mount_tools() -> None:
    """The engine's and the teachers' own command groups, verification and evaluation."""
    from codefoundry.cli.eval import eval_command
    from codefoundry.cli.sandbox import app as sandbox_app
    from codefoundry.cli.teacher import app as teacher_app
    from codefoundry.cli.verify import verify as verify_command

    app.add_typer(sandbox_app, name="sandbox")
    app.add_typer(teacher_app, name="teacher")
    app.command(name="verify")(verify_command)
    app.command(name="eval")(eval_command)


_mount_tools()

RecipeArg = Annotated[
    Path | None,
    typer.Argument(
        help="YAML recipe; leave out for the built-in default (mine the Python standard library)."
    ),
]


def _fail(message: str) -> typer.Exit:
    """One clear line on stderr, exit status 2: how every user mistake ends."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _default_run_dir(name: str) -> Path:
    return Path("runs") / name


@app.command()
def run(
    recipe: RecipeArg = None,
    run_dir: Annotated[Path | None, typer.Option(help="Run directory (default: runs/<recipe name>).")] = None,
    runner: Annotated[
        str,
        typer.Option(
            help="Where batches run: 'local' (this process) or 'ray' (a Ray cluster; see docs/scale.md)."
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="With --runner ray: the cluster's address (default: start a local cluster)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="With --runner ray: stage workers, each hosting every stage (default: one per node).", min=1
        ),
    ] = None,
) -> None:
    """Run a recipe to the end, resuming whatever an earlier run of it in RUN_DIR already finished."""
    from codefoundry.cli.progress import RichProgress, make_console, print_summary
    from codefoundry.pipeline.runner import RunnerKind, RunnerOptions
    from codefoundry.recipe import load_recipe
    from codefoundry.runs import execute

    console = make_console()
    try:
        kinds = {kind.value: kind for kind in RunnerKind}
        if runner not in kinds:
            raise UserError(f"--runner: expected one of {', '.join(kinds)}, got {runner!r}")
        if kinds[runner] is RunnerKind.LOCAL and (address is not None or workers is not None):
            raise UserError("--address and --workers apply to --runner ray only")
        options = RunnerOptions(kind=kinds[runner], address=address, workers=workers)
        loaded = load_recipe(recipe)
        path = run_dir or _default_run_dir(loaded.name)
        console.print(f"recipe [bold]{loaded.name}[/bold] -> run directory {path}")
        with RichProgress(console) as sink:
            summary = execute(loaded, path, progress=sink, runner=options)
    except UserError as exc:
        raise _fail(str(exc)) from None
    print_summary(console, summary)
    teacher = _teacher_usage(path)
    if teacher:
        from codefoundry.cli.progress import print_teacher_usage

        print_teacher_usage(console, teacher)


@app.command()
def preview(
    recipe: RecipeArg = None,
    n: Annotated[int, typer.Option("-n", help="Records entering each stage.", min=1)] = 8,
    per_method: Annotated[int, typer.Option("--per-method", help="Records shown per synthesis method.", min=1)] = 3,
) -> None:
    """Run a recipe on a handful of records (fast) and print a few of the tasks it makes, per method."""
    from codefoundry.cli.progress import RichProgress, make_console
    from codefoundry.pipeline.plan import plan
    from codefoundry.pipeline.rundir import RunDir
    from codefoundry.recipe import load_recipe
    from codefoundry.runs import execute

    console = make_console()
    try:
        loaded = load_recipe(recipe)
        path = _default_run_dir(loaded.name + ".preview")
        shutil.rmtree(path, ignore_errors=True)
        with RichProgress(console) as sink:
            execute(loaded, path, progress=sink, preview_limit=n)
    except UserError as exc:
        raise _fail(str(exc)) from None
    from codefoundry.cli.preview import print_preview

    final = plan(loaded)[-1]
    if not print_preview(console, RunDir(path).iter_records(final.name, final.fingerprint), per_method):
        console.print("no record came through every stage (see the drops: codefoundry status)")
    console.print(f"preview run directory: {path}")


@app.command()
def status(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Show how far a run got: records and drops per stage, drop reasons, teacher usage."""
    from codefoundry.cli.progress import make_console, print_summary, print_teacher_usage
    from codefoundry.pipeline.plan import plan
    from codefoundry.pipeline.rundir import RunDir
    from codefoundry.pipeline.summary import summarize

    loaded = _run_recipe_of(run_dir)
    summary = summarize(RunDir(run_dir), plan(loaded))
    teacher = _teacher_usage(run_dir)
    if teacher:
        summary["teacher"] = teacher
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = make_console()
    print_summary(console, summary)
    if teacher:
        print_teacher_usage(console, teacher)


def _run_recipe_of(run_dir: Path) -> Recipe:
    """The recipe snapshot of an existing run directory (a user error if there is none)."""
    from codefoundry.recipe import load_recipe

    recipe_path = run_dir / "recipe.yaml"
    try:
        if not recipe_path.exists():
            raise UserError(f"{run_dir}: not a codefoundry run directory (no recipe.yaml)")
        return load_recipe(recipe_path)
    except UserError as exc:
        raise _fail(str(exc)) from None


def _teacher_usage(run_dir: Path) -> dict | None:
    try:
        from codefoundry.teacher.accounting import usage_summary
    except ImportError:
        return None
    return usage_summary(run_dir) or None


@app.command()
def export(run_dir: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Write (again) the SFT and RL datasets of a run from its committed records."""
    from codefoundry.export import export_run
    from codefoundry.pipeline.plan import plan
    from codefoundry.pipeline.rundir import RunDir

    loaded = _run_recipe_of(run_dir)
    for path in export_run(RunDir(run_dir), plan(loaded)[-1], loaded.export):
        typer.echo(f"wrote {path}")


def main() -> None:
    """Entry point for ``python -m codefoundry``."""
    sys.exit(app())
