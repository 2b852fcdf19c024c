"""Test inputs from a docstring's doctests: the examples that call the function on literal arguments.

Only the call is kept; the expected output comes later from running the reference (the docstring's text can
be stale, abbreviated or formatted for humans), but the test remembers it came from a doctest.
"""

from __future__ import annotations

import ast
import doctest
from typing import Any

_PARSER = doctest.DocTestParser()
_NO_DEFAULT = object()


def doctest_calls(docstring: str, function: ast.FunctionDef) -> list[list[Any]]:
    """Positional argument lists of the doctest examples that are plain calls of ``function``."""
    try:
        examples = _PARSER.get_examples(docstring)
    except ValueError:  # malformed doctest (bad indentation, missing blank line...)
        return []
    out: list[list[Any]] = []
    for example in examples:
        args = call_args(example.source, function)
        if args is not None and args not in out:
            out.append(args)
    return out


def call_args(source: str, function: ast.FunctionDef) -> list[Any] | None:
    """Positional arguments of ``source`` when it is one call of ``function`` on literal arguments, else None."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError):  # ValueError: a lone surrogate, a null byte
        return None
    call = tree.body
    if not isinstance(call, ast.Call):
        return None
    callee = call.func
    name = (
        callee.id
        if isinstance(callee, ast.Name)
        else callee.attr
        if isinstance(callee, ast.Attribute)
        else None
    )
    if name != function.name:
        return None
    if any(isinstance(arg, ast.Starred) for arg in call.args):
        return None
    try:
        given = [ast.literal_eval(arg) for arg in call.args]
        keywords = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg is not None}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if len(keywords) != len(call.keywords):  # **kwargs expansion
        return None
    return positional(given, keywords, function)


def positional(args: list[Any], keywords: dict[str, Any], function: ast.FunctionDef) -> list[Any] | None:
    """Map keyword arguments onto positions, filling gaps with literal defaults; None if impossible."""
    if not keywords:
        return args
    params = [*function.args.posonlyargs, *function.args.args]
    defaults: list[Any] = [_NO_DEFAULT] * (len(params) - len(function.args.defaults))
    for node in function.args.defaults:
        try:
            defaults.append(ast.literal_eval(node))
        except ValueError:
            defaults.append(_NO_DEFAULT)
    names = [p.arg for p in params]
    if any(name not in names for name in keywords):
        return None  # keyword-only argument: not expressible positionally
    last = max(names.index(name) for name in keywords)
    out = list(args)
    for position in range(len(args), last + 1):
        name = names[position]
        if name in keywords:
            out.append(keywords[name])
        elif defaults[position] is not _NO_DEFAULT:
            out.append(defaults[position])
        else:
            return None
    return out
