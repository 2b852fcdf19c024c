"""What a module's top level binds, by name: the index the extractor resolves a function's names against.

Copying a module-level name along with a function is only right if the copy has the value the function
would see. So the index tells apart literal constants (safe to copy), tables that module code fills in after
binding them (copied with the statements that build them, when those are plain table building), names bound
more than once or conditionally (never copied), imports (including ``try: import X except ImportError``
fallbacks), small marker classes and helper functions. Static only (``ast``); nothing is imported.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
from dataclasses import dataclass, field

from codefoundry.mine.policy import MUTATING_METHODS

# Calls that may appear in a module-level constant we copy along: building literals and compiling regexes.
_CONSTANT_CALLS = frozenset(
    {"frozenset", "set", "tuple", "dict", "list", "range", "str", "bytes", "int", "float"}
)
_CONSTANT_METHODS = frozenset({("re", "compile"), ("string", "Template")})


def _is_constant_expr(node: ast.expr) -> bool:
    """A value computed from literals only (plus a few pure constructors): safe to copy into a seed."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Name) and func.id in _CONSTANT_CALLS:
                continue
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and (func.value.id, func.attr) in _CONSTANT_METHODS
            ):
                continue
            if isinstance(func, ast.Attribute) and func.attr in ("join", "split", "upper", "lower", "strip"):
                continue
            return False
        if isinstance(sub, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom | ast.Starred):
            return False
    return True


@dataclass
class ModuleIndex:
    """What the module's top level binds, by name."""

    imports: dict[str, str] = field(default_factory=dict)  # name -> the import line(s) binding exactly it
    constants: dict[str, ast.stmt] = field(default_factory=dict)
    # name -> the run of top-level statements that builds it (its literal start, then loops filling it)
    builders: dict[str, list[ast.stmt]] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.ClassDef] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)  # other top-level classes: imported, never copied
    assigned: set[str] = field(default_factory=set)  # computed top-level values (e.g. compiled regexes)
    rebound: set[str] = field(default_factory=set)  # bound more than once or conditionally: not copied
    star_import: bool = False  # ``from X import *`` at top level: unknown names may come from it


def index_module(tree: ast.Module, package: str | None) -> ModuleIndex:
    """Index a module's top level; ``package`` turns its relative imports into absolute ones."""
    index = ModuleIndex()
    seen: dict[str, int] = {}

    def bind(name: str) -> None:
        seen[name] = seen.get(name, 0) + 1

    packages: set[str] = set()  # names bound only by ``import pkg.sub`` lines (several may share one)

    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                line = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                if not alias.asname and bound in packages:
                    # ``import email.utils`` and ``import email.header`` both bind ``email``
                    if line not in index.imports[bound].splitlines():
                        index.imports[bound] += "\n" + line
                    continue
                index.imports[bound] = line
                bind(bound)
                if not alias.asname:
                    packages.add(bound)
        elif _is_try_import(stmt):
            assert isinstance(stmt, ast.Try)
            body_names: set[str] = set()
            for inner in stmt.body:
                for bound, line in _import_lines(inner, package):
                    index.imports[bound] = line
                    body_names.add(bound)
                    bind(bound)
            for bound in _conditional_bindings(ast.Module(body=[*_handler_bodies(stmt)], type_ignores=[])):
                if bound not in body_names:
                    bind(bound)
                    bind(bound)
        elif isinstance(stmt, ast.ImportFrom):
            module = "." * stmt.level + (stmt.module or "")
            if stmt.level and package:
                with contextlib.suppress(ImportError):
                    module = importlib.util.resolve_name(module, package)
            for alias in stmt.names:
                if alias.name == "*":
                    index.star_import = True
                    continue
                bound = alias.asname or alias.name
                line = f"from {module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                index.imports[bound] = line
                bind(bound)
        elif isinstance(stmt, ast.FunctionDef):
            index.functions[stmt.name] = stmt
            bind(stmt.name)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                        bind(sub.id)
                        index.assigned.add(sub.id)
            value = stmt.value
            if (
                len(targets) == 1
                and isinstance(targets[0], ast.Name)
                and value is not None
                and _is_constant_expr(value)
            ):
                index.constants[targets[0].id] = stmt
        elif isinstance(stmt, ast.ClassDef) and _is_marker_class(stmt):
            index.functions[stmt.name] = stmt  # e.g. a module's own exception class
            bind(stmt.name)
        elif isinstance(stmt, ast.ClassDef):
            index.classes.add(stmt.name)
            bind(stmt.name)
        elif isinstance(stmt, ast.AsyncFunctionDef):
            bind(stmt.name)
        else:
            # anything bound inside if/try/for/with at module level is conditional: never copied
            for bound in _conditional_bindings(stmt):
                bind(bound)
                bind(bound)
    mutated = _mutated_at_top_level(tree)
    multiple = {name for name, count in seen.items() if count > 1}
    for name in sorted(mutated - multiple):
        if name in index.constants:
            block = _builder_block(tree, index.constants[name], name)
            if block is not None:
                index.builders[name] = block
    index.rebound = multiple | (mutated - set(index.builders))
    return index


def _is_try_import(stmt: ast.stmt) -> bool:
    """``try: import X`` / ``from X import Y`` ``except ImportError: <fallback>``, where every module the
    body imports exists on this interpreter: the body is what the module really runs."""
    if not isinstance(stmt, ast.Try) or stmt.orelse or stmt.finalbody or not stmt.body:
        return False
    for handler in stmt.handlers:
        caught = handler.type
        names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        if not all(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
            return False
    for inner in stmt.body:
        if not isinstance(inner, ast.Import | ast.ImportFrom) or getattr(inner, "level", 0):
            return False
        modules = [a.name for a in inner.names] if isinstance(inner, ast.Import) else [inner.module or ""]
        for module in modules:
            try:
                if importlib.util.find_spec(module.split(".")[0]) is None:
                    return False
            except (ImportError, ValueError):
                return False
        if isinstance(inner, ast.ImportFrom) and any(a.name == "*" for a in inner.names):
            return False
    return True


def _handler_bodies(stmt: ast.Try) -> list[ast.stmt]:
    return [inner for handler in stmt.handlers for inner in handler.body]


def _import_lines(stmt: ast.stmt, package: str | None) -> list[tuple[str, str]]:
    """(bound name, import line) for each name an import statement binds."""
    out: list[tuple[str, str]] = []
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            bound = alias.asname or alias.name.split(".")[0]
            out.append((bound, f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")))
    elif isinstance(stmt, ast.ImportFrom):
        module = "." * stmt.level + (stmt.module or "")
        if stmt.level and package:
            with contextlib.suppress(ImportError):
                module = importlib.util.resolve_name(module, package)
        for alias in stmt.names:
            bound = alias.asname or alias.name
            line = f"from {module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
            out.append((bound, line))
    return out


def _builder_block(tree: ast.Module, start: ast.stmt, name: str) -> list[ast.stmt] | None:
    """The top-level statements from ``name``'s literal assignment to the last one that changes it, if
    all of them are plain table building (assignments, loops, deletions and method calls on data)."""
    body = tree.body
    first = body.index(start)
    last = None
    for position in range(first + 1, len(body)):
        if name in _mutated_at_top_level(ast.Module(body=[body[position]], type_ignores=[])):
            last = position
    if last is None or last - first > 12:
        return None
    block = body[first : last + 1]
    for stmt in block:
        if not isinstance(stmt, ast.Assign | ast.AugAssign | ast.For | ast.Expr | ast.Delete | ast.If):
            return None
        for node in ast.walk(stmt):
            if isinstance(node, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom):
                return None
            if isinstance(node, ast.While | ast.FunctionDef | ast.ClassDef | ast.Global):
                return None
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in _BUILDER_CALLS:
                    continue
                if isinstance(func, ast.Attribute) and func.attr in _BUILDER_METHODS:
                    continue
                return None
    return block


def _is_marker_class(stmt: ast.ClassDef) -> bool:
    """A class with nothing in it but a docstring or ``pass`` (typically an exception type)."""
    if stmt.decorator_list or stmt.keywords:
        return False
    for item in stmt.body:
        if isinstance(item, ast.Pass):
            continue
        if isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant):
            continue
        return False
    return all(isinstance(base, ast.Name) for base in stmt.bases)


# what the statements that build a table at module level may call: literal constructors, a few pure builtins
# and methods (on the table itself, on literals or on imported constants such as ``string.digits``)
_BUILDER_CALLS = _CONSTANT_CALLS | {
    "range", "chr", "ord", "len", "zip", "enumerate", "sorted", "reversed", "min", "max", "abs", "divmod",
    "hex", "oct", "bin", "sum", "bytearray", "repr", "bool",
}  # fmt: skip
_BUILDER_METHODS = MUTATING_METHODS | {
    "encode", "decode", "format", "join", "split", "strip", "lower", "upper", "replace", "copy", "items",
    "keys", "values", "get", "ljust", "rjust", "zfill", "to_bytes", "fromkeys", "lstrip", "rstrip",
}  # fmt: skip


def _mutated_at_top_level(tree: ast.Module) -> set[str]:
    """Names that module-level code changes after binding them (``T.append(...)`` in a loop, ``T[k] = v``):
    copying only their first assignment would change what the function sees."""
    out: set[str] = set()
    for stmt in tree.body:
        if isinstance(
            stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom
        ):
            continue
        for node in ast.walk(stmt):
            base: ast.expr | None = None
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in MUTATING_METHODS
            ):
                base = node.func.value
            elif isinstance(node, ast.Subscript | ast.Attribute) and isinstance(
                node.ctx, ast.Store | ast.Del
            ):
                base = node.value
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                out.add(node.target.id)
            while isinstance(base, ast.Attribute | ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
    return out


def _conditional_bindings(stmt: ast.stmt) -> list[str]:
    """Names a compound module-level statement binds, without descending into nested defs and classes."""
    out: list[str] = []
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.append(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.append(node.id)
        elif isinstance(node, ast.alias):
            out.append(node.asname or node.name.split(".")[0])
        stack.extend(ast.iter_child_nodes(node))
    return out
