"""Turning teacher text into pieces (code blocks, sections, JSON), or into an explicit reason to drop it.

Small models answer in every shape: fenced or not, JSON in prose, cut off at ``max_tokens``, refusals. Each
parser returns a ``Parsed`` that holds either a value or a drop reason from ``DROP_REASONS`` (plus a detail
for humans), never a silent default, so the pipeline can count what it threw away and why.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from codefoundry.sandbox.languages import normalise_language
from codefoundry.teacher.types import Completion

T = TypeVar("T")

class ParseFailure(StrEnum):
    """Why a teacher's answer gave nothing usable (the one vocabulary every teacher stage drops with)."""

    EMPTY = "empty"  # nothing (or only whitespace) came back
    TRUNCATED = "truncated"  # finish_reason == "length", or a code fence / JSON value left open
    REFUSAL = "refusal"  # the model declined
    NO_CODE_BLOCK = "no_code_block"  # no code where code was asked for
    BAD_JSON = "bad_json"  # no parseable JSON value in the text
    SCHEMA_MISMATCH = "schema_mismatch"  # JSON parsed but does not match the expected model
    MISSING_SECTION = "missing_section"  # a required named section is absent
    CALL_FAILED = "call_failed"  # the teacher call itself was given up on (see the failure reason)


DROP_REASONS = tuple(reason.value for reason in ParseFailure)

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.\-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
_OPEN_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})", re.M)
_REFUSAL = re.compile(
    r"^\W*(I'?m sorry|I am sorry|sorry, (but )?I|I cannot|I can'?t|I can not|I won'?t|I am unable|I'?m unable|"
    r"I'?m not able|I am not able|As an AI|I must decline|Unfortunately,? I (cannot|can'?t))",
    re.I,
)


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A value, or the reason there is none."""

    value: T | None = None
    reason: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None

    @classmethod
    def drop(cls, reason: str, detail: str = "") -> Parsed[T]:
        assert reason in DROP_REASONS, reason
        return cls(None, reason, detail)


@dataclass(frozen=True)
class CodeBlock:
    language: str  # normalised ("python", "cpp", ...); "" when the fence names none
    code: str


def code_blocks(text: str) -> list[CodeBlock]:
    """Every closed fenced block, in order, with its normalised language."""
    return [CodeBlock(normalise_language(m.group(2)), m.group(3).rstrip("\n")) for m in _FENCE.finditer(text)]


def _has_open_fence(text: str) -> bool:
    return len(_OPEN_FENCE.findall(text)) % 2 == 1


def is_refusal(text: str) -> bool:
    return bool(_REFUSAL.match(text.strip()))


def check_text(completion: Completion | str) -> Parsed[str]:
    """The common gate: empty, refusal or truncated, else the text."""
    if isinstance(completion, Completion):
        if completion.refusal:
            return Parsed.drop("refusal", completion.refusal[:200])
        text, finish = completion.text, completion.finish_reason
    else:
        text, finish = completion, None
    if not text.strip():
        return Parsed.drop("empty")
    if finish == "length":
        return Parsed.drop("truncated", "finish_reason=length")
    if is_refusal(text) and not code_blocks(text):
        return Parsed.drop("refusal", text.strip()[:200])
    return Parsed(text)


def extract_code(
    completion: Completion | str, language: str = "python", *, allow_unfenced: bool = False
) -> Parsed[str]:
    """The longest fenced block in ``language`` (or untagged); an open fence counts as truncation.

    ``allow_unfenced`` accepts a whole answer without fences when it parses as Python (small models often
    answer with bare code).
    """
    checked = check_text(completion)
    if not checked.ok:
        return checked
    text = checked.value or ""
    want = normalise_language(language)
    blocks = code_blocks(text)
    matching = [b for b in blocks if b.language == want] or [b for b in blocks if b.language == ""]
    matching = [b for b in matching if b.code.strip()]
    if matching:
        return Parsed(max(matching, key=lambda b: len(b.code)).code)
    if _has_open_fence(text):
        return Parsed.drop("truncated", "code fence never closed")
    if allow_unfenced and want == "python" and not blocks and _looks_like_python(text):
        return Parsed(text.strip("\n"))
    found = ", ".join(sorted({b.language or "untagged" for b in blocks})) or "none"
    return Parsed.drop("no_code_block", f"wanted {want}; blocks found: {found}")


def _looks_like_python(text: str) -> bool:
    """Parses, and is more than an expression (prose like "this is it, not that" parses as a tuple)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return any(not isinstance(node, ast.Expr) for node in tree.body)


def _balanced_spans(text: str) -> list[str]:
    """Candidate JSON values: each top-level {...} or [...] span, string-aware."""
    spans: list[str] = []
    depth = 0
    start = -1
    in_string = False
    escape = False
    for i, ch in enumerate(text):
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"' and depth:
            in_string = True
        elif ch in "{[":
            if depth == 0:
                start = i
            depth += 1
        elif ch in "}]" and depth:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    if depth:
        spans.append(text[start:] + "\x00")  # marks an unterminated value
    return spans


_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _loads_lenient(candidate: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(candidate)
    except ValueError:
        pass
    try:
        return True, json.loads(_TRAILING_COMMA.sub(r"\1", candidate))
    except ValueError:
        pass
    try:  # Python literals: single quotes, True/False/None
        value = ast.literal_eval(candidate)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False, None
    if isinstance(value, dict | list):
        return True, json.loads(json.dumps(value))
    return False, None


def extract_json(completion: Completion | str, model: type[BaseModel] | None = None) -> Parsed[Any]:
    """A JSON value from the answer: the whole text, a fenced block, or the first balanced {...}/[...]
    (tolerating trailing commas and Python literals); validated against ``model`` when one is given."""
    checked = check_text(completion)
    if not checked.ok:
        return checked
    text = (checked.value or "").strip()
    candidates = [text]
    candidates += [b.code for b in code_blocks(text) if b.language in ("json", "", "javascript", "python")]
    spans = _balanced_spans(text)
    candidates += [s for s in spans if not s.endswith("\x00")]
    errors: list[str] = []
    for candidate in candidates:
        ok, value = _loads_lenient(candidate)
        if not ok:
            continue
        if model is None:
            return Parsed(value)
        try:
            return Parsed(model.model_validate(value))
        except ValidationError as exc:
            errors.append(str(exc.errors()[0]["loc"]) + ": " + exc.errors()[0]["msg"])
    if errors:
        return Parsed.drop("schema_mismatch", errors[0][:300])
    if spans and spans[-1].endswith("\x00") or _has_open_fence(text):
        return Parsed.drop("truncated", "JSON value never closed")
    return Parsed.drop("bad_json", text[:200])


_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*|\*\*)?([A-Za-z][\w \-/]*?)(?:\*\*)?[ \t]*:?[ \t]*(?:\*\*)?[ \t]*$", re.M
)


def sections(
    completion: Completion | str, required: Sequence[str], optional: Sequence[str] = ()
) -> Parsed[dict[str, str]]:
    """Named sections (``## Problem``, ``**Tests:**``, ``Solution:`` lines) -> {name: body}, keys lower-case.

    Only the names asked for are treated as headings, so a body may contain other heading-like lines.
    """
    checked = check_text(completion)
    if not checked.ok:
        return Parsed.drop(checked.reason or "empty", checked.detail)
    text = checked.value or ""
    wanted = {name.lower() for name in [*required, *optional]}
    marks: list[tuple[int, int, str]] = []
    for match in _HEADING.finditer(text):
        name = match.group(1).strip().lower()
        if name in wanted:
            marks.append((match.start(), match.end(), name))
    found: dict[str, str] = {}
    for i, (_, end, name) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else len(text)
        found.setdefault(name, text[end:stop].strip("\n").strip())
    missing = [name for name in required if not found.get(name.lower())]
    if missing:
        return Parsed.drop("missing_section", ", ".join(missing))
    return Parsed(found)


def from_response_failure(reason: str, detail: str = "") -> Parsed[Any]:
    """A drop for a request whose teacher call failed (the failure reason goes in the detail)."""
    return Parsed.drop("call_failed", f"{reason}: {detail}"[:300])
