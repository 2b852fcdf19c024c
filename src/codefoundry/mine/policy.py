"""The mining policy: which builtins, modules and methods make a function unfit to be a task, and why.

These tables are the whole of what ``mine.checks`` forbids or allows by name, kept apart from the checks so
a policy change is a one-line data change that reads as one. Each forbidden name carries the reason code a
dropped seed is recorded with (``io_call``, ``randomness``, ``time``, ``network``, ``interpreter_state``,
``dynamic_code``...). ``MUTATING_METHODS`` is also what the extractor's module index (``mine.modindex``) uses
to see module-level tables being filled in, so "mutates its object" means the same thing in both places.
"""

from __future__ import annotations

import builtins
import sys

# builtins that compute from their arguments only (reached as ``builtins.X`` they are still pure)
PURE_BUILTINS = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "chr", "dict", "divmod", "enumerate", "filter",
    "float", "format", "frozenset", "hex", "int", "isinstance", "issubclass", "len", "list", "map", "max",
    "min", "oct", "ord", "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum",
    "tuple", "zip",
)  # fmt: skip
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
            "socket", "ssl", "http", "urllib.request", "urllib.robotparser", "ftplib", "smtplib", "poplib",
            "imaplib", "nntplib", "telnetlib", "xmlrpc", "socketserver", "webbrowser", "asyncio", "selectors",
            "select", "wsgiref",
        ),
        "network",
    ),
    **dict.fromkeys(
        (
            "io", "os", "sys", "shutil", "glob", "pathlib", "tempfile", "subprocess", "fileinput",
            "linecache", "logging", "signal", "mmap", "fcntl", "termios", "tty", "pty", "pwd", "grp",
            "getpass", "sqlite3", "dbm", "shelve", "threading", "multiprocessing", "concurrent", "pkgutil",
            "runpy", "site", "sysconfig", "platform", "locale", "gettext", "mimetypes", "atexit",
            "faulthandler", "resource", "pdb", "bdb", "trace", "cProfile", "profile", "pydoc", "code",
            "codeop", "readline", "rlcompleter", "filecmp", "netrc", "mailbox", "syslog", "curses", "tkinter",
            "turtle", "warnings", "_thread", "queue", "contextvars", "cmd", "getopt", "zipimport",
            "modulefinder", "compileall", "py_compile", "tabnanny", "crypt", "spwd", "ensurepip", "venv",
            "zipapp", "doctest", "unittest", "msvcrt", "winreg",
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
            "os.path.join", "os.path.split", "os.path.splitext", "os.path.basename", "os.path.dirname",
            "os.path.normpath", "os.path.normcase", "os.path.isabs", "os.path.commonprefix",
            "os.path.commonpath", "os.path.splitdrive", "os.path.sep", "os.path.altsep", "os.path.extsep",
            "os.path.pardir", "os.path.curdir", "os.sep", "os.altsep", "os.extsep", "os.pathsep",
            "os.linesep", "os.curdir", "os.pardir", "os.name", "os.fspath", "os.fsencode", "os.fsdecode",
            "sys.maxsize", "sys.maxunicode", "sys.byteorder", "sys.float_info", "sys.int_info",
            "sys.hexversion", "sys.version_info", "sys.intern", "sys.hash_info", "sys.float_repr_style",
            "sys.exc_info", "sys.getdefaultencoding", "sys.getfilesystemencoding", "sys.platform",
            "sys.audit", "sys.version", "sys.implementation.cache_tag", "sys.implementation.name",
            "sys.flags", "sys.api_version", "sys.getrecursionlimit", "warnings.warn",
            "warnings.warn_explicit", "warnings.catch_warnings",
            # in-memory streams are plain data in a file's clothing
            "io.StringIO", "io.BytesIO", "io.text_encoding", "io.SEEK_SET", "io.SEEK_CUR", "io.SEEK_END",
            "io.DEFAULT_BUFFER_SIZE", "io.UnsupportedOperation",
            # inspect's predicates and text helpers read only their argument
            "inspect.cleandoc", "inspect.isclass", "inspect.isfunction", "inspect.ismethod",
            "inspect.ismodule", "inspect.isgenerator", "inspect.isgeneratorfunction",
            "inspect.iscoroutinefunction", "inspect.isroutine", "inspect.isbuiltin",
            *(f"builtins.{name}" for name in PURE_BUILTINS),
        ),
        "",
    ),
    # gzip writes the current time into the header it makes
    "gzip.GzipFile": "time",
    "gzip.compress": "time",
}  # fmt: skip

# methods that mutate their object: called on a module-level name inside a function they are global
# mutation; called at module level they mean the name's first value is not its final one
MUTATING_METHODS = frozenset(
    {
        "append", "extend", "insert", "remove", "pop", "clear", "update", "setdefault", "add", "discard",
        "sort", "reverse", "popitem", "appendleft", "extendleft", "popleft", "rotate", "__setitem__",
        "__delitem__", "difference_update", "intersection_update", "symmetric_difference_update",
        "cache_clear", "register",
    }
)  # fmt: skip
# modules whose import alone does I/O (prints, opens a browser)
IMPURE_ON_IMPORT = frozenset({"this", "antigravity"})
BUILTIN_NAMES = frozenset(dir(builtins))
STDLIB_MODULES = frozenset(sys.stdlib_module_names)


def module_reason(dotted: str) -> str:
    """The policy reason for using ``dotted`` (a module or module.attr path); "" means allowed."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in MODULE_POLICY:
            return MODULE_POLICY[prefix]
    return ""
