"""Static checks that decide whether a mined function can be a task, each failure with a specific reason.

A task's reference must be deterministic, self-contained (builtins and the standard library only), free of
I/O, network, randomness, clocks and global mutation, and callable with plain positional data. These checks
read the code (``ast`` + ``symtable``) and never run it; the testgen stage confirms determinism by running the
reference twice in the sandbox, because static checks cannot see everything (``id()``, hash order...).

Import policy: a seed may use ``import M`` / ``import M as X`` and ``from M import NAME`` for any
standard-library module ``M`` (``sys.stdlib_module_names``), private ones included: only the reference uses
them, the task's solver never sees them. Relative imports (the extractor already turned the standard
library's own into absolute ones) and third-party modules make the seed ``not_self_contained``; modules and
attributes named in ``mine.policy`` give their own reasons (``io_call``, ``randomness``, ``time``...).

Signature: the annotations of the positional parameters and of the return must name plain data in the
vocabulary of ``judge.plaintypes``, the one test generation reads, so an accepted task can be given inputs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codefoundry.judge.plaintypes import is_plain_annotation
from codefoundry.mine.policy import (
    BUILTIN_NAMES,
    FORBIDDEN_BUILTINS,
    IMPURE_ON_IMPORT,
    MUTATING_METHODS,
    STDLIB_MODULES,
    module_reason,
)
from codefoundry.mine.scopes import scope_names


class StaticConfig:
    """Thresholds for the length checks (kept here so ``mine.tasks``' pydantic config can feed them)."""

    def __init__(self, min_lines: int = 2, max_lines: int = 60) -> None:
        self.min_lines = min_lines
        self.max_lines = max_lines


@dataclass
class Rejection:
    """Why a seed cannot be a task: a reason code and a human detail."""

    reason: str
    detail: str


@dataclass
class Analysis:
    """What the checks learnt about a seed that the task builder reuses."""

    function: ast.FunctionDef
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # bound name -> dotted module path
    body_lines: int = 0


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def own_nodes(function: ast.AST) -> list[ast.AST]:
    """Nodes of a function's own scope (not inside nested functions, lambdas or classes)."""
    out: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


def _import_bindings(tree: ast.Module) -> tuple[dict[str, str], Rejection | None]:
    """Module-level imports: bound name -> dotted path; a rejection for a disallowed import."""
    bindings: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                root = alias.name.split(".")[0]
                if root not in STDLIB_MODULES:
                    return bindings, Rejection(
                        "not_self_contained", f"imports non-stdlib module {alias.name}"
                    )
                if alias.asname:
                    bindings[alias.asname] = alias.name
                else:
                    bindings[root] = root
        elif isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            if stmt.level:
                return bindings, Rejection(
                    "not_self_contained", f"relative import from {'.' * stmt.level}{module}"
                )
            if module.split(".")[0] not in STDLIB_MODULES:
                return bindings, Rejection("not_self_contained", f"imports non-stdlib module {module}")
            for alias in stmt.names:
                bindings[alias.asname or alias.name] = f"{module}.{alias.name}"
    return bindings, None


def _local_imports(tree: ast.Module, bindings: dict[str, str]) -> Rejection | None:
    """Imports inside functions (late imports) obey the same policy as module-level ones: a module may be
    imported, what is used from it is checked where it is used (the names they bind join ``bindings``);
    ``from M import NAME`` is checked for ``M.NAME`` at once."""
    for statement in tree.body:
        if not isinstance(statement, ast.FunctionDef | ast.ClassDef):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    return Rejection("not_self_contained", f"relative import at line {node.lineno}")
                module = node.module or ""
                pairs = [(a.asname or a.name, f"{module}.{a.name}") for a in node.names]
                checked = [full for _bound, full in pairs]
            elif isinstance(node, ast.Import):
                pairs = [
                    (a.asname, a.name) if a.asname else (a.name.split(".")[0], a.name.split(".")[0])
                    for a in node.names
                ]
                checked = []
            else:
                continue
            for _bound, dotted in pairs:
                if dotted.split(".")[0] not in STDLIB_MODULES:
                    return Rejection(
                        "not_self_contained", f"imports non-stdlib module {dotted} at line {node.lineno}"
                    )
                if dotted.split(".")[0] in IMPURE_ON_IMPORT:
                    return Rejection("io_call", f"imports {dotted} at line {node.lineno}")
            for dotted in checked:
                reason = module_reason(dotted)
                if reason:
                    return Rejection(reason, f"imports {dotted} at line {node.lineno}")
            for bound, dotted in pairs:
                if bindings.get(bound, dotted) != dotted:
                    return Rejection(
                        "not_self_contained", f"{bound} names two modules ({bindings[bound]}, {dotted})"
                    )
                bindings[bound] = dotted
    return None


def _code_lines(function: ast.FunctionDef) -> int:
    """Lines of the function body, docstring excluded."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    end = max(getattr(stmt, "end_lineno", stmt.lineno) or stmt.lineno for stmt in body)
    return end - body[0].lineno + 1


def find_function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The last top-level definition of ``name`` (the seed's entry point comes after its helpers)."""
    found = None
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == name:
            found = stmt
    return found


def analyse(code: str, name: str, limits: StaticConfig) -> Analysis | Rejection:
    """Run every static check in a fixed order; the first failure is the reason."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return Rejection("syntax_error", str(exc))
    link_parents(tree)
    function = find_function(tree, name)
    if function is None:
        return Rejection("no_function", f"no top-level def {name}")
    if isinstance(function, ast.AsyncFunctionDef):
        return Rejection("async", "async def")
    if not ast.get_docstring(function):
        return Rejection("no_docstring", "")
    if function.decorator_list:
        return Rejection("decorated", ", ".join(ast.unparse(d) for d in function.decorator_list))
    for node in own_nodes(function):
        if isinstance(node, ast.Await):
            return Rejection("async", f"await at line {node.lineno}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Global | ast.Nonlocal):
            return Rejection("global_mutation", f"{type(node).__name__.lower()} {', '.join(node.names)}")
        if isinstance(node, ast.AsyncFunctionDef | ast.AsyncFor | ast.AsyncWith | ast.Await):
            return Rejection("async", f"{type(node).__name__} in a helper")

    imports, rejection = _import_bindings(tree)
    if rejection is not None:
        return rejection
    rejection = _local_imports(tree, imports)
    if rejection is not None:
        return rejection
    try:
        scopes = scope_names(code)
    except SyntaxError as exc:
        return Rejection("syntax_error", str(exc))
    globals_read, locals_bound = scopes.read | scopes.written, scopes.local
    module_level = {
        t.id
        for stmt in tree.body
        if isinstance(stmt, ast.Assign | ast.AnnAssign)
        for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
        if isinstance(t, ast.Name)
    }
    defined = {s.name for s in tree.body if isinstance(s, ast.FunctionDef | ast.ClassDef)}
    shared = (module_level | set(imports)) - locals_bound

    # code that runs when a function is called; module-level statements only build the module's tables
    in_functions = {
        id(node)
        for stmt in tree.body
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef)
        for node in ast.walk(stmt)
    }
    # forbidden builtins, impure module attributes, and mutation of module-level objects
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Name)
            and node.id in FORBIDDEN_BUILTINS
            and node.id in globals_read
            and node.id not in imports
            and node.id not in module_level
            and node.id not in defined
        ):
            return Rejection(FORBIDDEN_BUILTINS[node.id], f"uses {node.id}() at line {node.lineno}")
        if isinstance(node, ast.Attribute | ast.Name) and not isinstance(
            getattr(node, "_cf_parent", None), ast.Attribute
        ):
            dotted = _dotted(node)
            if dotted is not None:
                root, _, rest = dotted.partition(".")
                if root in imports:
                    full = imports[root] + ("." + rest if rest else "")
                    reason = module_reason(full)
                    if reason:
                        return Rejection(reason, f"uses {full} at line {node.lineno}")
        if id(node) not in in_functions:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            if isinstance(base, ast.Name) and base.id in shared and node.func.attr in MUTATING_METHODS:
                return Rejection("global_mutation", f"{base.id}.{node.func.attr}() at line {node.lineno}")
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Subscript | ast.Attribute):
                        base = sub.value
                        while isinstance(base, ast.Subscript | ast.Attribute):
                            base = base.value
                        if isinstance(base, ast.Name) and base.id in shared:
                            return Rejection("global_mutation", f"writes to {base.id} at line {node.lineno}")

    free = sorted(globals_read - BUILTIN_NAMES - set(imports) - module_level - defined)
    if free:
        return Rejection("not_self_contained", "unresolved names: " + ", ".join(free[:8]))

    args = function.args
    if any(default is None for default in args.kw_defaults):
        return Rejection("unsupported_signature", "keyword-only argument without a default")
    if not (args.posonlyargs or args.args or args.vararg):
        return Rejection("no_arguments", "takes no positional arguments")
    annotations = [a.annotation for a in [*args.posonlyargs, *args.args]] + [function.returns]
    for annotation in annotations:
        if not is_plain_annotation(annotation):
            assert annotation is not None
            return Rejection("non_plain_types", f"annotation {ast.unparse(annotation)}")
    lines = _code_lines(function)
    if lines < limits.min_lines:
        return Rejection("too_short", f"{lines} code lines")
    if lines > limits.max_lines:
        return Rejection("too_long", f"{lines} code lines")
    return Analysis(function=function, tree=tree, imports=imports, body_lines=lines)


def link_parents(tree: ast.AST) -> ast.AST:
    """Set ``_cf_parent`` on every node so attribute chains are checked once, at their outermost node."""
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child._cf_parent = node  # type: ignore[attr-defined]
    return tree
