"""The examples a task's prompt states: calls of the entry point on literal arguments, and the output the
prompt says they give.

Prompts written for people state examples in many ways: doctests (``>>> f(1)`` then the output line), arrows
(``f(1) ==> 2``, ``=>``, ``->``, ``➞``), equalities (``f(1) == 2``, ``f(1) = 2``), words (``f(1) should return
2``, ``returns``) and ``Input: ... Output: ...`` pairs (positional values, ``name = value`` or one
``name : value`` per line), ``For x = 1 the output should be 2``. A stated output is read as a Python literal; fragments that do not read as one are
left without a statement, and calls whose arguments are not literals are skipped: nothing is guessed.
Two rules keep misleading statements out: ``("Venus")`` (a parenthesised single value, which authors write
for a one-element tuple) states nothing, and values stated before the end of a recurrence definition
(``tri(n) = ...``, ``tri(3) = tri(2) + ...``) describe the recurrence, not the function's output.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from codefoundry.judge.codec import NotPlain, dumps, encode
from codefoundry.testgen.doctests import call_args, positional

_SEPARATOR = re.compile(
    r"[ \t]*(?:#[ \t]*)?(?P<sep>==>|=>|->|➞|→|==(?!=)|=(?![=>])|should\s+return|should\s+be|returns|gives)[ \t]*",
    re.IGNORECASE,
)
_FOR_OUTPUT = re.compile(r"\bFor\s+(?P<input>[^\n]+?),?\s+the\s+(?:output|result)\s+should\s+be\s+", re.IGNORECASE)
_NAMED = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*[:=]\s*(?P<value>\S.*?)\s*$")
_LAST_EQUALS = re.compile(r"(?<![=<>!])=(?![=>])")
_WORDS = {"true": "True", "false": "False", "none": "None"}
_AFTER_LITERAL = re.compile(r"\s+[#(]|[.,;](\s|$)")  # a comment, a bracketed aside, the sentence's end


class ExampleForm(StrEnum):
    """How the prompt wrote an example."""

    DOCTEST = "doctest"
    CALL = "call"  # f(x) <arrow, equality or words> y
    INPUT_OUTPUT = "input_output"


@dataclass
class Example:
    """One example call: positional ``args`` and, when ``has_stated``, the output the prompt ``stated``
    (``None`` can be a real output, hence the flag)."""

    args: list[Any]
    stated: Any = None
    has_stated: bool = False
    form: ExampleForm = ExampleForm.CALL
    position: int = 0  # offset in the docstring, for ordering


def prompt_examples(prompt: str, entry_point: str) -> list[Example]:
    """The examples stated in the docstring of ``entry_point`` in ``prompt``, in order, one per argument list
    (an argument list stated with two different outputs keeps neither output)."""
    function = entry_function(prompt, entry_point)
    if function is None:
        return []
    doc = docstring(function)
    if not doc:
        return []
    examples, text = _doctests(doc, function)
    examples += _input_output(text, function)
    examples += _calls(text, function)
    if not examples:
        examples = _assignments(text, function)
    return _merge(sorted(examples, key=lambda e: e.position))


def entry_function(prompt: str, entry_point: str) -> ast.FunctionDef | None:
    """The (last) definition of ``entry_point`` in ``prompt``; a header without a body is completed."""
    for source in (prompt, prompt.rstrip() + "\n    ...\n"):
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        found = [
            node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == entry_point
        ]
        return found[-1] if found else None
    return None


def docstring(function: ast.FunctionDef) -> str:
    """The function's docstring, also when statements such as imports come before it."""
    for statement in function.body:
        value = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return inspect.cleandoc(value.value)
        if not isinstance(statement, ast.Import | ast.ImportFrom | ast.Pass):
            break
    return ""


def fits(args: list[Any], function: ast.FunctionDef) -> bool:
    """Whether ``function`` takes that many positional arguments."""
    params = len(function.args.posonlyargs) + len(function.args.args)
    required = params - len(function.args.defaults)
    return required <= len(args) and (len(args) <= params or function.args.vararg is not None)


def _doctests(doc: str, function: ast.FunctionDef) -> tuple[list[Example], str]:
    """Doctest examples (``>>>`` and ``...`` lines, then the output up to a blank line, the next ``>>>`` or
    prose),
    read line by line (``doctest``'s parser refuses a whole docstring over one odd indentation); returns them
    and the docstring with their lines blanked, for the other forms."""
    lines = doc.splitlines()
    examples: list[Example] = []
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith(">>>"):
            i += 1
            continue
        start, source = i, lines[i].lstrip()[3:].strip()
        i += 1
        while i < len(lines) and lines[i].lstrip().startswith("..."):
            source += "\n" + lines[i].lstrip()[3:]
            i += 1
        want: list[str] = []
        while i < len(lines) and lines[i].strip() and not lines[i].lstrip().startswith(">>>"):
            want.append(lines[i].strip())
            i += 1
        # prose straight after an output (no blank line) is not part of it: the output ends at the first
        # lines that read as one literal, and the rest goes back to the prose
        ends = [k for k in range(1, len(want)) if _literal("\n".join(want[:k]), strip=False)[0]]
        if ends and not _literal("\n".join(want), strip=False)[0]:
            i -= len(want) - ends[0]
            want = want[: ends[0]]
        position = sum(len(line) + 1 for line in lines[:start])
        example = _doctest_example(source, "\n".join(want), function, position)
        if example is not None:
            examples.append(example)
        lines[start:i] = [""] * (i - start)
    return examples, "\n".join(lines)


def _doctest_example(source: str, want: str, function: ast.FunctionDef, position: int) -> Example | None:
    args = call_args(source, function)
    if args is None:  # ``>>> f(x) == y`` showing nothing or True states y
        found = _calls(source, function)
        if len(found) != 1 or want not in ("", "True"):
            return None
        return Example(found[0].args, found[0].stated, found[0].has_stated, ExampleForm.DOCTEST, position)
    if not fits(args, function):
        return None
    if not want:  # a doctest shows nothing for None
        return Example(args, None, True, ExampleForm.DOCTEST, position)
    if want.startswith("Traceback"):
        return Example(args, form=ExampleForm.DOCTEST, position=position)
    found, value = _literal(want, strip=False)
    return Example(args, value, found, ExampleForm.DOCTEST, position)


def _calls(text: str, function: ast.FunctionDef) -> list[Example]:
    """``f(args) <separator> output`` statements anywhere in the prose."""
    out: list[Example] = []
    recurrence_end = -1
    for match in re.finditer(rf"(?<![\w.]){re.escape(function.name)}\s*\(", text):
        end = _closing(text, match.end() - 1)
        if end is None:
            continue
        args = call_args(text[match.start() : end], function)
        sep = _SEPARATOR.match(text, end)
        span = text[sep.end() : _line_end(text, sep.end())] if sep else ""
        if sep and "=" in sep.group("sep") and (args is None or function.name + "(" in span.replace(" ", "")):
            recurrence_end = end  # ``f(n) = ...`` or ``f(3) = f(2) + ...``: a definition, not an example
        if args is None or not fits(args, function):
            continue
        found, value = _stated(span) if sep else (False, None)
        out.append(Example(args, value, found, ExampleForm.CALL, match.start()))
    for example in out:
        if example.position < recurrence_end:
            example.stated, example.has_stated = None, False
    return out


def _input_output(text: str, function: ast.FunctionDef) -> list[Example]:
    """``Input: ... Output: ...`` pairs."""
    out: list[Example] = []
    starts = [m for m in re.finditer(r"\bInput\s*:", text)]
    for index, start in enumerate(starts):
        limit = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        output = re.compile(r"\bOutput\s*:[ \t]*").search(text, start.end(), limit)
        if output is None:
            continue
        args = _input_args(text[start.end() : output.start()], function)
        if args is None:
            continue
        found, value = _stated(text[output.end() : _line_end(text, output.end())])
        out.append(Example(args, value, found, ExampleForm.INPUT_OUTPUT, start.start()))
    for match in _FOR_OUTPUT.finditer(text):  # ``For lst = [1, 2] the output should be 5``
        args = _input_args(match.group("input"), function)
        if args is not None:
            found, value = _stated(text[match.end() : _line_end(text, match.end())])
            out.append(Example(args, value, found, ExampleForm.INPUT_OUTPUT, match.start()))
    return out


_RESULT = re.compile(r"\b(?:the\s+output\s+should\s+be|return\s*=?|output\s*:)\s*", re.IGNORECASE)


def _assignments(text: str, function: ast.FunctionDef) -> list[Example]:
    """``N = 1000 ... the output should be "1"`` or ``arr = [2, 1]`` then ``return ["Two", "One"]``, for a
    function of one parameter (only when no other form gave an example: prose this loose is the last resort)."""
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if len(params) != 1:
        return []
    starts = list(re.finditer(rf"\b{re.escape(params[0])}\s*=\s*(?!=)", text))
    out: list[Example] = []
    for index, match in enumerate(starts):
        found, value = _stated(text[match.end() : _line_end(text, match.end())])
        if not found:
            continue
        limit = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        result = _RESULT.search(text, match.end(), limit)
        stated, output = (False, None)
        if result is not None:
            stated, output = _stated(text[result.end() : _line_end(text, result.end())])
        out.append(Example([value], output, stated, ExampleForm.INPUT_OUTPUT, match.start()))
    return out


def _input_args(block: str, function: ast.FunctionDef) -> list[Any] | None:
    """The arguments an ``Input:`` block gives: a call's argument text, or one ``name : value`` per line."""
    joined = " ".join(line.strip() for line in block.strip().splitlines())
    if not joined:
        return None
    args = call_args(f"{function.name}({joined})", function)
    if args is None:
        lines = [_NAMED.match(line) for line in block.strip().splitlines() if line.strip()]
        if not lines or any(m is None for m in lines):
            return None
        try:
            values = {m.group("name"): ast.literal_eval(m.group("value")) for m in lines if m is not None}
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
        names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        if set(values) <= set(names):
            args = positional([], values, function)
        elif len(values) == len(names):  # named differently, one per parameter, in order
            args = list(values.values())
    return args if args is not None and fits(args, function) else None


def _stated(span: str) -> tuple[bool, Any]:
    """The literal a statement's right-hand side gives: all of it, the last link of ``a = b = 8``, or a
    literal followed by a comment, an explanation in brackets or the sentence's end."""
    text = span.strip()
    if not text:
        return False, None
    found, value = _literal(text)
    if found:
        return found, value
    pieces = _LAST_EQUALS.split(text)
    if len(pieces) > 1:
        found, value = _literal(pieces[-1])
        if found:
            return found, value
    for end in range(len(text) - 1, 0, -1):
        if _ends_statement(text[end:]):
            found, value = _literal(text[:end], strip=False)
            if found:
                return found, value
    return False, None


def _ends_statement(rest: str) -> bool:
    """Whether ``rest`` may follow a stated value: a comment, an aside in brackets, or punctuation."""
    return _AFTER_LITERAL.match(rest) is not None


def _literal(text: str, *, strip: bool = True) -> tuple[bool, Any]:
    """``text`` as a Python literal (``true``/``false`` read as booleans); a sentence's final ``.`` is not part
    of it; a parenthesised single value is ambiguous and reads as nothing."""
    text = text.strip()
    candidates = [text[:-1].rstrip(), text] if strip and text.endswith((".", ",", ";")) else [text]
    for candidate in candidates:
        candidate = _WORDS.get(candidate.lower(), candidate)
        try:
            node = ast.parse(candidate, mode="eval").body
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        if candidate.startswith("(") and not isinstance(node, ast.Tuple):
            return False, None
        return True, value
    return False, None


def _closing(text: str, open_index: int) -> int | None:
    """Index just after the bracket matching ``text[open_index]`` (strings skipped), or None."""
    depth, quote, i = 0, "", open_index
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
            elif ch == "\n":
                return None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _line_end(text: str, start: int) -> int:
    """End of the expression starting at ``start``: the first newline outside brackets."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote or ch == "\n":
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "\n" and depth == 0:
            return i
    return len(text)


def _key(value: Any) -> str:
    try:
        return dumps(encode(value))
    except NotPlain:
        return repr(value)


def _merge(examples: list[Example]) -> list[Example]:
    """One example per argument list, in first-seen order; disagreeing statements cancel each other."""
    merged: dict[str, Example] = {}
    conflicted: set[str] = set()
    for example in examples:
        key = _key(example.args)
        first = merged.get(key)
        if first is None:
            merged[key] = Example(
                example.args, example.stated, example.has_stated, example.form, example.position
            )
        elif example.has_stated:
            if not first.has_stated and key not in conflicted:
                first.stated, first.has_stated = example.stated, True
            elif first.has_stated and _key(first.stated) != _key(example.stated):
                first.stated, first.has_stated = None, False
                conflicted.add(key)
    return list(merged.values())
