"""Asking a model to solve a function task, and turning its answer into a whole program.

Three ways to ask, because servers and models differ:

- ``chat``: the EvalPlus instruction on the chat endpoint; the answer's code block is the solution. Works with
  any chat server; the model usually restates the signature and docstring.
- ``chat_prefill``: the same instruction, but the model's chat template is applied here and the answer is
  begun for it (the task's own prompt inside a code block), on the completion endpoint. The model only writes
  the body: the same prompting EvalPlus uses for instruction models, and about half the tokens. Needs a known
  template (``ChatTemplate``); the embedded models declare theirs.
- ``completion``: the task prompt continued as code (base models).

Whatever the answer, ``program`` builds one Python module that defines the entry point: the prompt's imports
and helper functions, then the model's code. The model's top-level statements other than imports,
definitions and assignments (its own test calls, prints) are left out, as EvalPlus's sanitizer does.
"""

from __future__ import annotations

import ast
import re
from enum import StrEnum

from codefoundry.records import Solution
from codefoundry.teacher.config import ChatTemplate, Sampling
from codefoundry.teacher.formats import Message
from codefoundry.teacher.types import TeacherRequest

INSTRUCTION = (
    "Please provide a self-contained Python script that solves the following problem in a markdown code "
    "block:\n```\n{prompt}\n```"
)
ANSWER_START = (
    "Below is a Python script with a self-contained function that solves the problem and passes "
    "corresponding tests:\n```python\n"
)
# where a continued body ends: the code block closes, or the model starts something other than the body
BODY_STOPS = ["```", "\nif __name__", "\nprint(", "\nassert ", "\n# Test", "\n# Example"]
_CODE_BLOCK = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


class PromptStyle(StrEnum):
    """How a solution is asked for (see the module docstring)."""

    CHAT = "chat"
    CHAT_PREFILL = "chat_prefill"
    COMPLETION = "completion"


CHATML_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


def chat_messages(prompt: str) -> list[Message]:
    """The ``chat`` request: the instruction with the task's prompt."""
    return [{"role": "user", "content": INSTRUCTION.format(prompt=prompt.strip())}]


def prefill_prompt(prompt: str, template: ChatTemplate) -> str:
    """The ``chat_prefill`` request: the templated conversation with the answer begun (the task's prompt)."""
    if template is ChatTemplate.CHATML:
        return (
            f"<|im_start|>system\n{CHATML_SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{INSTRUCTION.format(prompt=prompt.strip())}<|im_end|>\n"
            f"<|im_start|>assistant\n{ANSWER_START}{prompt.strip()}\n"
        )
    raise ValueError(f"unknown chat template {template!r}")


def code_of_answer(answer: str, style: PromptStyle) -> str:
    """The code in a model's answer: the first code block for ``chat``, the continued text otherwise."""
    if style is PromptStyle.CHAT:
        blocks = _CODE_BLOCK.findall(answer)
        return max(blocks, key=len) if blocks else answer
    return answer.split("```", 1)[0]


def program(prompt: str, code: str, entry_point: str, style: PromptStyle) -> str | None:
    """One module defining ``entry_point`` from the task's prompt and the model's code; None if impossible.

    A continued body (``chat_prefill``, ``completion``) is appended to the prompt. Code that defines the
    entry point itself replaces the prompt's definition; the prompt's other statements (imports, helpers)
    are kept unless the code redefines them.
    """
    code = code.rstrip() + "\n"
    if style is PromptStyle.CHAT and not _parses(prompt):  # a prompt in prose: the answer is the program
        return _sanitized(code, entry_point)
    if style is not PromptStyle.CHAT or not _defines(code, entry_point):
        whole = prompt.rstrip("\n") + "\n" + code if style is not PromptStyle.CHAT else prompt + code
        return _sanitized(whole, entry_point)
    return _sanitized(_merged(prompt, code), entry_point)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _defines(code: str, name: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in tree.body)


def _names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


def _merged(prompt: str, code: str) -> str:
    """The prompt's statements the code does not redefine, then the code."""
    try:
        prompt_tree = ast.parse(prompt)
        code_tree = ast.parse(code)
    except SyntaxError:
        return prompt + "\n" + code
    defined: set[str] = set()
    for node in code_tree.body:
        defined |= _names(node)
    kept = [
        ast.get_source_segment(prompt, node, padded=False) or ""
        for node in prompt_tree.body
        if isinstance(node, _KEPT) and not (_names(node) & defined)
    ]
    return "\n\n".join([*kept, code])


def _sanitized(source: str, entry_point: str) -> str | None:
    """The module without top-level calls and prints; None when it does not parse or lacks the entry point."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    kept = [node for node in tree.body if isinstance(node, _KEPT)]
    if not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == entry_point for n in kept):
        return None
    lines = source.splitlines()
    parts = []
    for node in kept:
        start = node.lineno - 1 - len(getattr(node, "decorator_list", []) or [])
        if getattr(node, "decorator_list", None):
            start = min(d.lineno for d in node.decorator_list) - 1  # type: ignore[attr-defined]
        parts.append("\n".join(lines[start : node.end_lineno]))
    return "\n\n".join(parts).rstrip() + "\n"


def solution_request(
    prompt: str,
    style: PromptStyle,
    *,
    template: ChatTemplate | None = None,
    n: int = 1,
    temperature: float = 0.8,
    top_p: float = 0.95,
    max_tokens: int = 768,
    stage: str = "",
    tag: object = None,
) -> TeacherRequest:
    """The request for ``n`` solutions of a task whose prompt is ``prompt`` (sampling stated in full, so the
    same request hits the same cache entries whichever teacher defaults are in force)."""
    stop = None if style is PromptStyle.CHAT else list(BODY_STOPS)
    sampling = Sampling(temperature=temperature, top_p=top_p, max_tokens=max_tokens, stop=stop)
    if style is PromptStyle.CHAT:
        return TeacherRequest(messages=chat_messages(prompt), n=n, sampling=sampling, stage=stage, tag=tag)
    if style is PromptStyle.CHAT_PREFILL:
        if template is None:
            raise ValueError("chat_prefill needs the model's chat template")
        text = prefill_prompt(prompt, template)
    else:
        text = prompt
    return TeacherRequest(prompt=text, n=n, sampling=sampling, stage=stage, tag=tag)


def normalised(code: str) -> str:
    """The code with formatting, comments and docstrings gone: two samples equal here are one candidate."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code.strip()
    return ast.unparse(strip_docstrings(tree))


def strip_docstrings(tree: ast.AST) -> ast.AST:
    """``tree`` without the docstrings of its module, functions and classes (in place; returned)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return tree


def dedupe(solutions: list[Solution]) -> list[Solution]:
    """One solution per normalised code, in first-seen order, counting the samples it stands for."""
    kept: dict[str, Solution] = {}
    for solution in solutions:
        key = normalised(solution.code)
        if key in kept:
            first = kept[key]
            kept[key] = first.model_copy(update={"copies": first.copies + solution.copies})
        else:
            kept[key] = solution
    return list(kept.values())
