"""SFT records: a chat ``messages`` list (user asks, assistant answers with verified code).

A task written as a textbook exercise keeps its section's explanation in ``lesson`` (every row has the
field, "" elsewhere, so the Parquet columns are the same in every file): a trainer can put it before the
exercise, or train on it as text.
"""

from __future__ import annotations

from typing import Any

from codefoundry.records import Problem, Provenance
from codefoundry.sandbox.languages import normalise_language


def provenance_fields(provenance: Provenance) -> dict[str, Any]:
    """Where an example came from, in every export: corpus, path inside it, package, version, licence."""
    return {
        "source": provenance.source,
        "origin": f"{provenance.path}:{provenance.qualname}" if provenance.path else provenance.qualname,
        "method": provenance.method,
        "package": provenance.package,
        "package_version": provenance.version,
        "licence": provenance.licence,
    }


def fenced(language: str, code: str) -> str:
    """Code as an assistant writes it: one fenced block, tagged with the language's canonical name (python,
    javascript, cpp, java, rust, go)."""
    return f"```{normalise_language(language)}\n{code.strip()}\n```"


def answer_text(problem: Problem) -> str:
    """The assistant turn: the verified solution in a fenced code block."""
    assert problem.reference is not None
    return fenced(problem.task.language, problem.reference.code)


def sft_row(problem: Problem) -> dict[str, Any]:
    """One chat-format training example for a verified problem."""
    task = problem.task
    return {
        "id": problem.id,
        "task_id": task.id,
        "messages": [
            {"role": "user", "content": task.prompt},
            {"role": "assistant", "content": answer_text(problem)},
        ],
        "language": normalise_language(task.language),
        "style": task.style.value,
        **provenance_fields(task.provenance),
        "num_tests": len(problem.tests),
        "mutation_score": problem.mutation_score,
        "lesson": task.lesson,
    }
