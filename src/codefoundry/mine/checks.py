"""Static checks that decide whether a mined function can be a task, each failure with a specific reason.

A task's reference must be deterministic, self-contained (builtins and the standard library only), free of
I/O, network, randomness, clocks and global mutation, and callable with plain positional data. These checks
read the code (``ast`` + ``symtable``) and never run it; the testgen stage confirms determinism by running the
reference twice in the sandbox, because static checks cannot see everything (``id()``, hash order...).

Import policy: a seed may use ``import M`` / ``import M as X`` and ``from M import NAME`` for any
standard-library module ``M`` (``sys.stdlib_module_names``), private ones included: only the reference uses
them, the task's solver never sees them. Relative imports (the extractor already turned the standard
library's own into absolute ones) and third-party modules make the seed ``not_self_contained``; modules and
attributes in ``MODULE_POLICY`` give their own reasons (``io_call``, ``randomness``, ``time``...).
"""

from __future__ import annotations

import ast
import builtins
import symtable
import sys
import warnings
from dataclasses import dataclass, field

# builtins that compute from their arguments only (reached as ``builtins.X`` they are still pure)
PURE_BUILTINS = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "chr", "dict", "divmod", "enumerate", "filter",
    "float", "format", "frozenset", "hex", "int", "isinstance", "issubclass", "len", "list", "map", "max",
    "min", "oct", "ord", "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum",
    "tuple", "zip",
)  # fmt: skip
# ----------------------------------------------------------------------------------------------- policy
# builtins that do I/O, run dynamic code or reach into interpreter state, with the reason each one gives
FORBIDDEN_BUILTINS: dict[str, str] = {
    "open": "io_call",
    "print": "io_call",
    "input": "io_call",
    "breakpoint": "io_call",
    "help": "io_call",
    "exit": "io_call",
    "quit": "io_call",
    "exec": "dynamic_code",
    "eval": "dynamic_code",
    "compile": "dynamic_code",
    "__import__": "dynamic_code",
    "globals": "dynamic_code",
    "locals": "dynamic_code",
    "vars": "dynamic_code",
    "memoryview": "non_plain_types",
}

# module (or dotted prefix) -> reason; the longest matching prefix wins, "" means allowed
MODULE_POLICY: dict[str, str] = {
    **dict.fromkeys(("random", "secrets", "uuid"), "randomness"),
    **dict.fromkeys(("time", "sched", "timeit", "zoneinfo"), "time"),
    **dict.fromkeys(
        (
            "socket",
            "ssl",
            "http",
            "urllib.request",
            "urllib.robotparser",
            "ftplib",
            "smtplib",
            "poplib",
            "imaplib",
            "nntplib",
            "telnetlib",
            "xmlrpc",
            "socketserver",
            "webbrowser",
            "asyncio",
            "selectors",
            "select",
            "wsgiref",
        ),
        "network",
    ),
    **dict.fromkeys(
        (
            "io",
            "os",
            "sys",
            "shutil",
            "glob",
            "pathlib",
            "tempfile",
            "subprocess",
            "fileinput",
            "linecache",
            "logging",
            "signal",
            "mmap",
            "fcntl",
            "termios",
            "tty",
            "pty",
            "pwd",
            "grp",
            "getpass",
            "sqlite3",
            "dbm",
            "shelve",
            "threading",
            "multiprocessing",
            "concurrent",
            "pkgutil",
            "runpy",
            "site",
            "sysconfig",
            "platform",
            "locale",
            "gettext",
            "mimetypes",
            "atexit",
            "faulthandler",
            "resource",
            "pdb",
            "bdb",
            "trace",
            "cProfile",
            "profile",
            "pydoc",
            "code",
            "codeop",
            "readline",
            "rlcompleter",
            "filecmp",
            "netrc",
            "mailbox",
            "syslog",
            "curses",
            "tkinter",
            "turtle",
            "warnings",
            "_thread",
            "queue",
            "contextvars",
            "cmd",
            "getopt",
            "zipimport",
            "modulefinder",
            "compileall",
            "py_compile",
            "tabnanny",
            "crypt",
            "spwd",
            "ensurepip",
            "venv",
            "zipapp",
            "doctest",
            "unittest",
            "msvcrt",
            "winreg",
        ),
        "io_call",
    ),
    **dict.fromkeys(
        ("builtins", "gc", "weakref", "inspect", "importlib", "ctypes", "tracemalloc", "copyreg", "marshal"),
        "interpreter_state",
    ),
    **dict.fromkeys(("_thread", "_socket", "_ssl", "_io", "_imp", "_signal", "_posixsubprocess"), "io_call"),
    **dict.fromkeys(("_random", "_sysrand"), "randomness"),
    "datetime.datetime.now": "time",
    "datetime.datetime.today": "time",
    "datetime.datetime.utcnow": "time",
    "datetime.datetime.fromtimestamp": "time",
    "datetime.date.today": "time",
    "datetime.date.fromtimestamp": "time",
    "gzip.open": "io_call",
    "bz2.open": "io_call",
    "lzma.open": "io_call",
    "codecs.open": "io_call",
    "tarfile": "io_call",
    "zipfile": "io_call",
    "wave": "io_call",
    "aifc": "io_call",
    "sunau": "io_call",
    "calendar.prmonth": "io_call",
    "calendar.prcal": "io_call",
    "calendar.TextCalendar": "io_call",
    "json.dump": "io_call",
    "json.load": "io_call",
    "hashlib.file_digest": "io_call",
    # pure corners of otherwise impure modules
    **dict.fromkeys(
        (
            "os.path.join",
            "os.path.split",
            "os.path.splitext",
            "os.path.basename",
            "os.path.dirname",
            "os.path.normpath",
            "os.path.normcase",
            "os.path.isabs",
            "os.path.commonprefix",
            "os.path.commonpath",
            "os.path.splitdrive",
            "os.path.sep",
            "os.path.altsep",
            "os.path.extsep",
            "os.path.pardir",
            "os.path.curdir",
            "os.sep",
            "os.altsep",
            "os.extsep",
            "os.pathsep",
            "os.linesep",
            "os.curdir",
            "os.pardir",
            "os.name",
            "os.fspath",
            "os.fsencode",
            "os.fsdecode",
            "sys.maxsize",
            "sys.maxunicode",
            "sys.byteorder",
            "sys.float_info",
            "sys.int_info",
            "sys.hexversion",
            "sys.version_info",
            "sys.intern",
            "sys.hash_info",
            "sys.float_repr_style",
            "sys.exc_info",
            "sys.getdefaultencoding",
            "sys.getfilesystemencoding",
            "sys.platform",
            "sys.audit",
            "sys.version",
            "sys.implementation.cache_tag",
            "sys.implementation.name",
            "sys.flags",
            "sys.api_version",
            "sys.getrecursionlimit",
            "warnings.warn",
            "warnings.warn_explicit",
            "warnings.catch_warnings",
            # in-memory streams are plain data in a file's clothing
            "io.StringIO",
            "io.BytesIO",
            "io.text_encoding",
            "io.SEEK_SET",
            "io.SEEK_CUR",
            "io.SEEK_END",
            "io.DEFAULT_BUFFER_SIZE",
            "io.UnsupportedOperation",
            # inspect's predicates and text helpers read only their argument
            "inspect.cleandoc",
            "inspect.isclass",
            "inspect.isfunction",
            "inspect.ismethod",
            "inspect.ismodule",
            "inspect.isgenerator",
            "inspect.isgeneratorfunction",
            "inspect.iscoroutinefunction",
            "inspect.isroutine",
            "inspect.isbuiltin",
            *(f"builtins.{name}" for name in PURE_BUILTINS),
        ),
        "",
    ),
    # gzip writes the current time into the header it makes
    "gzip.GzipFile": "time",
    "gzip.compress": "time",
}

# methods that mutate their object: called on a module-level name they are global mutation
MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "popitem",
        "appendleft",
        "extendleft",
        "popleft",
        "rotate",
        "__setitem__",
        "__delitem__",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "cache_clear",
    }
)
# annotation names that describe plain data
PLAIN_ANNOTATIONS = frozenset(
    {
        "int",
        "float",
        "str",
        "bool",
        "list",
        "dict",
        "tuple",
        "set",
        "frozenset",
        "None",
        "NoneType",
        "complex",
        "List",
        "Dict",
        "Tuple",
        "Set",
        "FrozenSet",
        "Optional",
        "Union",
        "Sequence",
        "Iterable",
        "Mapping",
        "Collection",
        "Any",
        "typing",
        "collections",
        "abc",
        "AnyStr",
        "SupportsInt",
        "SupportsFloat",
        "Literal",
        "Final",
        "MutableSequence",
        "MutableMapping",
        "object",
    }
)
BUILTIN_NAMES = frozenset(dir(builtins))
STDLIB_MODULES = frozenset(sys.stdlib_module_names)


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
    features: list[str] = field(default_factory=list)


def module_reason(dotted: str) -> str:
    """The policy reason for using ``dotted`` (a module or module.attr path); "" means allowed."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in MODULE_POLICY:
            return MODULE_POLICY[prefix]
    return ""


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


def _scope_names(code: str) -> tuple[set[str], set[str]]:
    """(names read from module scope anywhere, names bound locally in some function scope)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = symtable.symtable(code, "<seed>", "exec")
    globals_read: set[str] = set()
    locals_bound: set[str] = set()

    def visit(scope: symtable.SymbolTable) -> None:
        for child in scope.get_children():
            for symbol in child.get_symbols():
                if symbol.is_global() and (symbol.is_referenced() or symbol.is_assigned()):
                    globals_read.add(symbol.get_name())
                elif symbol.is_local() or symbol.is_parameter():
                    locals_bound.add(symbol.get_name())
            visit(child)

    visit(table)
    # module-level expressions (default values, constants) read names too
    for symbol in table.get_symbols():
        if symbol.is_referenced() and not symbol.is_assigned() and not symbol.is_imported():
            globals_read.add(symbol.get_name())
    return globals_read, locals_bound


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


# modules whose import alone does I/O (prints, opens a browser)
IMPURE_ON_IMPORT = frozenset({"this", "antigravity"})


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


def _annotation_ok(node: ast.expr | None) -> bool:
    if node is None:
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id not in PLAIN_ANNOTATIONS:
            return False
        if isinstance(sub, ast.Attribute) and sub.attr not in PLAIN_ANNOTATIONS:
            return False
    return True


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
        globals_read, locals_bound = _scope_names(code)
    except SyntaxError as exc:
        return Rejection("syntax_error", str(exc))
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
        if not _annotation_ok(annotation):
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
