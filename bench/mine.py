"""Verified tasks per minute when mining the Python standard library with the default recipe.

Anchor: the goal of 300 verified tasks per minute on 2 cores. Runs the built-in default recipe from scratch in
a temporary run directory (no caches), times every stage, and prints the rate and its ratio to the goal.

    .venv/bin/python bench/mine.py [--workers N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from codefoundry.recipe import load_recipe
from codefoundry.runs import execute

GOAL_PER_MINUTE = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="sandbox workers (default: cores)")
    args = parser.parse_args()
    recipe = load_recipe(None)
    if args.workers is not None:
        recipe.sandbox = recipe.sandbox.model_copy(update={"workers": args.workers})
    with tempfile.TemporaryDirectory(prefix="cf-bench-mine-") as tmp:
        started = time.perf_counter()
        summary = execute(recipe, Path(tmp) / "run")
        seconds = time.perf_counter() - started
    tasks = summary["final"]["tasks"]
    rate = tasks / (seconds / 60.0)
    for stage in summary["stages"]:
        print(
            f"{stage['stage']:<24} kept {stage['records']:>6}  dropped {stage['drops']:>6}  {stage['seconds']:>7.1f} s"
        )
    print(json.dumps(summary["final"], indent=None))
    print(f"verified tasks: {tasks} in {seconds:.1f} s")
    print(
        f"codefoundry: {rate:.0f} verified tasks/min; goal {GOAL_PER_MINUTE:.0f}/min; ratio {rate / GOAL_PER_MINUTE:.2f}x"
    )


if __name__ == "__main__":
    main()
