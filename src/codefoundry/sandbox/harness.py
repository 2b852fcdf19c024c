"""What runs inside the isolated child for Python candidates (stdlib only, pre-imported by the fork-server).

The child talks to the fork-server over fd 3 with newline-delimited JSON messages:
``{"e":"r","i":k,"st":"ok","v":"<plain JSON text>","t":secs}`` (test k returned; tests run in order, so
test k+1 starts when test k's result is written; quick results are coalesced into one write every 2 ms), ``{"e":"r","i":k,"st":"runtime_error","err":"Type: message"}``, ``{"e":"x","st":...}`` (the
program as a whole ended abnormally, stdio style). Everything here is untrusted from the supervisor's point
of view: the candidate shares this process and may tamper with it. That is fine because the child never sees
expected outputs; the worst it can do is send outputs of its own choosing, which the supervisor compares.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import types
from typing import Any, NoReturn

from codefoundry.sandbox import plaindata

RESULT_FD = 3
_write = os.write
_exit = os._exit
_dumps = json.dumps
_loads_plain = plaindata.loads_plain
_dumps_plain = plaindata.dumps_plain
_type = type
_str = str
_perf_counter = __import__("time").perf_counter
_MemoryError = MemoryError
_RecursionError = RecursionError
_OSError = OSError
_BaseException = BaseException


_pending: list[bytes] = []
_last_flush = [0.0]
FLUSH_EVERY_S = 0.002  # quick tests share one write; the server's per-test clock restarts at each flush


def _flush() -> None:
    if not _pending:
        return
    data = b"".join(_pending)
    _pending.clear()
    view = memoryview(data)
    while view:
        n = _write(RESULT_FD, view)
        view = view[n:]
    _last_flush[0] = _perf_counter()


def _send(msg: dict[str, Any], now: bool = False) -> None:
    _pending.append((_dumps(msg, separators=(",", ":")) + "\n").encode())
    if now or _perf_counter() - _last_flush[0] >= FLUSH_EVERY_S:
        _flush()


def _describe(e: BaseException) -> str:
    """'ExcType: message', robust to exceptions whose __str__ misbehaves."""
    try:
        name = _type(e).__name__
        name = name if _type(name) is _str else "Exception"
    except _BaseException:
        name = "Exception"
    try:
        msg = _str(e)
        msg = msg if _type(msg) is _str else ""
    except _BaseException:
        msg = "<unprintable>"
    if len(msg) > 2000:
        msg = msg[:2000] + "..."
    return f"{name}: {msg}" if msg else name


def _error_status(e: BaseException) -> str:
    if isinstance(e, _MemoryError):
        return "memory_limit"
    if isinstance(e, _OSError) and getattr(e, "errno", None) in (27, 28):  # EFBIG, ENOSPC
        return "output_limit"
    return "runtime_error"


def _flush_std() -> None:
    for s in (sys.stdout, sys.stderr):
        with contextlib.suppress(_BaseException):
            s.flush()


def _load_module(code: str) -> types.ModuleType:
    mod = types.ModuleType("solution")
    mod.__file__ = "solution.py"
    sys.modules["solution"] = mod
    exec(compile(code, "solution.py", "exec"), mod.__dict__)
    return mod


def run_function(code: str, entry_point: str, tests: list[str], first_index: int, out_cap: int) -> NoReturn:
    """Import the candidate once, then call ``entry_point(*args)`` for each test (args are plain JSON)."""
    sys.set_int_max_str_digits(0)
    sys.argv = ["solution.py"]
    try:
        mod = _load_module(code)
        fn = mod.__dict__.get(entry_point)
        if fn is None or not callable(fn):
            raise NameError(f"entry point {entry_point!r} is not defined")
    except _BaseException as e:
        err, st = _describe(e), _error_status(e)
        for k in range(len(tests)):
            _send({"e": "r", "i": first_index + k, "st": st, "err": "while loading: " + err})
        _flush()
        _flush_std()
        _exit(0)
    # loading (imports, module-level code) counts against the whole run's limit, not the first test's
    _send({"e": "s", "i": first_index}, now=True)
    for k, args_text in enumerate(tests):
        idx = first_index + k
        args = _loads_plain(args_text)
        t0 = _perf_counter()
        try:
            value = fn(*args)
        except _BaseException as e:
            _send(
                {"e": "r", "i": idx, "st": _error_status(e), "err": _describe(e), "t": _perf_counter() - t0}
            )
            continue
        dt = _perf_counter() - t0
        try:
            text = _dumps_plain(value)
        except _BaseException as e:
            _send(
                {"e": "r", "i": idx, "st": "runtime_error", "err": "unserialisable result: " + _describe(e)}
            )
            continue
        if len(text) > out_cap:
            _send({"e": "r", "i": idx, "st": "output_limit", "err": f"result larger than {out_cap} bytes"})
            continue
        _send({"e": "r", "i": idx, "st": "ok", "v": text, "t": dt})
    _flush()
    _flush_std()
    _exit(0)


def run_stdio(code: str) -> NoReturn:
    """Run the candidate as ``__main__`` with fds 0/1/2 already wired to the test's stdin/stdout/stderr."""
    sys.set_int_max_str_digits(0)
    sys.argv = ["solution.py"]
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="replace")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace")
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    code_rc = 0
    try:
        mod = types.ModuleType("__main__")
        mod.__file__ = "solution.py"
        sys.modules["__main__"] = mod
        exec(compile(code, "solution.py", "exec"), mod.__dict__)
    except SystemExit as e:
        c = e.code
        code_rc = c if _type(c) is int else (0 if c is None else 1)
        if c is not None and _type(c) is not int:
            with contextlib.suppress(_BaseException):
                sys.stderr.write(_str(c) + "\n")
    except _BaseException as e:
        st = _error_status(e)
        _send({"e": "x", "st": st, "err": _describe(e)}, now=True)
        try:
            import traceback

            traceback.print_exc()
        except _BaseException:
            pass
        code_rc = 1
    _flush_std()
    _exit(code_rc & 0xFF)
