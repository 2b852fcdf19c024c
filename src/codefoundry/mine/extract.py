"""Pull documented top-level functions out of a module's source, with the module context they need.

A function rarely stands alone: it uses the module's imports, a constant or a small private helper. The
extractor resolves each global name the function reads against the module's top level and prepends what it
finds (import statements, literal constants, helper functions, transitively) so the seed's code runs on its
own. Names it cannot resolve stay free; ``mine.tasks`` decides whether they are builtins or a reason to drop.
Everything here is static (``ast`` and ``symtable``): mined code is never imported or run in this process.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import textwrap
import warnings
from dataclasses import dataclass, field

from codefoundry.mine.modindex import ModuleIndex, index_module
from codefoundry.mine.scopes import scope_names


class SourceError(ValueError):
    """A file that cannot be decoded or parsed."""


@dataclass
class Extracted:
    """One documented top-level function and the module context it needs."""

    name: str
    line: int
    function: str  # the function's own source (decorators included)
    preamble: list[str]  # import lines, constants and helpers it reads, in module order
    docstring: str
    helpers: list[str] = field(default_factory=list)  # names of helper functions pulled in

    @property
    def code(self) -> str:
        parts = [*self.preamble, self.function]
        return "\n\n".join(p.rstrip() for p in parts if p.strip()) + "\n"


def read_source(data: bytes) -> str:
    """Decode a Python file honouring its encoding cookie (PEP 263)."""
    try:
        return importlib.util.decode_source(data)
    except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
        raise SourceError(f"cannot decode: {exc}") from None


def parse_module(text: str, filename: str = "<module>") -> ast.Module:
    """Parse source text; a syntax error becomes a ``SourceError`` with its line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=filename)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise SourceError(f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}{where}") from None


def _segment(lines: list[str], node: ast.stmt) -> str:
    start = node.lineno
    decorators = getattr(node, "decorator_list", [])
    if decorators:
        start = min(d.lineno for d in decorators)
    assert node.end_lineno is not None
    return "".join(lines[start - 1 : node.end_lineno])


def extract_functions(
    text: str,
    *,
    include_helpers: bool = True,
    max_helpers: int = 6,
    package: str | None = None,
    module: str | None = None,
) -> list[Extracted]:
    """Every documented top-level ``def`` in ``text`` with the imports/constants/helpers it reads.

    ``package``: the package the module lives in, to turn its relative imports into absolute ones (only
    meaningful where that package is importable everywhere, i.e. the standard library). ``module``: the
    module's own importable name, under the same condition: classes it defines, values it computes once
    (a compiled regex) and helpers that are not copied (decorated, or past ``max_helpers``) are then imported
    from it (``from textwrap import TextWrapper``), which keeps the seed runnable on its own with the
    standard library. Names bound more than once or changed at module level are never imported.
    """
    tree = parse_module(text)
    lines = text.splitlines(keepends=True)
    index = index_module(tree, package)
    out = []
    for stmt in tree.body:
        if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        docstring = ast.get_docstring(stmt, clean=True)
        if not docstring:
            continue
        function = _segment(lines, stmt)
        preamble, helpers = _resolve(function, stmt.name, index, lines, include_helpers, max_helpers, module)
        out.append(
            Extracted(
                name=stmt.name,
                line=stmt.lineno,
                function=function,
                preamble=preamble,
                docstring=docstring,
                helpers=helpers,
            )
        )
    return out


def _resolve(
    function: str,
    name: str,
    index: ModuleIndex,
    lines: list[str],
    include_helpers: bool,
    max_helpers: int,
    module: str | None = None,
) -> tuple[list[str], list[str]]:
    """The module-level statements ``function`` needs, transitively, in a stable order."""
    needed: dict[str, tuple[int, str]] = {}  # name -> (sort key, code)
    helpers: list[str] = []
    pending = sorted(_safe_globals(function) - {name})
    visited: set[str] = {name}
    while pending:
        ref = pending.pop(0)
        if ref in visited:
            continue
        visited.add(ref)
        code: str | None = None
        order = 0
        if ref in index.rebound or (
            ref not in index.imports
            and ref not in index.functions
            and ref not in index.classes
            and ref not in index.assigned
        ):
            # bound several times, conditionally, or only by a star import: its final value is what the
            # module itself exports after import (where the module is importable everywhere)
            if module and ref not in _BUILTINS and (ref in index.rebound or index.star_import):
                needed[ref] = (0, f"from {module} import {ref}")
            continue
        if ref in index.imports:
            code, order = index.imports[ref], 0
        elif ref in index.builders:
            block = index.builders[ref]
            for stmt in block:
                needed.setdefault(f"@{stmt.lineno}", (stmt.lineno, _segment(lines, stmt)))
            text = "\n".join(textwrap.dedent(_segment(lines, stmt)) for stmt in block)
            pending.extend(sorted(_safe_globals(text) - visited))
            continue
        elif ref in index.constants:
            stmt = index.constants[ref]
            code, order = _segment(lines, stmt), stmt.lineno
            ref = f"@{stmt.lineno}"
            if ref in needed:
                continue
        elif (
            include_helpers
            and ref in index.functions
            and len(helpers) < max_helpers
            and not index.functions[ref].decorator_list
        ):
            stmt = index.functions[ref]
            code, order = _segment(lines, stmt), stmt.lineno
            helpers.append(ref)
        elif module and (ref in index.classes or ref in index.functions or ref in index.assigned):
            code, order = f"from {module} import {ref}", 0
        if code is None:
            continue
        needed[ref] = (order, code)
        if order:  # constants and helpers may read further names
            pending.extend(sorted(_safe_globals(code) - visited))
    imports = sorted(code for key, code in needed.values() if key == 0)
    rest = [code for _key, code in sorted(needed.values(), key=lambda kc: kc[0]) if _key != 0]
    return (["\n".join(imports)] if imports else []) + rest, helpers


_BUILTINS = frozenset(dir(builtins))


def _safe_globals(source: str) -> set[str]:
    try:
        return scope_names(source).read
    except SyntaxError:
        return set()
