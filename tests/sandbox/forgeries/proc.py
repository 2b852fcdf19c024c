"""/proc reader: other processes' environment, arguments, open files, memory, cwd and root.

Returns the labels it could read and, per label, what matched a secret's known shape (never raw data).
A candidate program, read as text by the forgery tests (see ../forgeries_support.py); never imported.
"""

import glob
import os
import re
import stat

SHAPE = re.compile(rb"CF_SECRET_TOKEN=[^\x00]*|cf-secret-[0-9a-f]{8,}")


def _read(path, cap=1 << 20):
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        return os.read(fd, cap)
    except OSError:
        return None
    finally:
        os.close(fd)


def _memory(pid, budget=64 << 20):
    try:
        with open(f"/proc/{pid}/maps") as fh:
            maps = fh.read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)  # noqa: SIM115 (closed by `with mem` below)
    except OSError:
        return None
    parts = []
    with mem:
        for line in maps:
            fields = line.split()
            if len(fields) < 2 or not fields[1].startswith("rw"):
                continue
            lo, hi = (int(v, 16) for v in fields[0].split("-"))
            while lo < hi and budget > 0:
                n = min(hi - lo, 4 << 20, budget)
                try:
                    mem.seek(lo)
                    chunk = mem.read(n)
                except (OSError, ValueError, OverflowError):
                    break
                if not chunk:
                    break
                budget -= n
                lo += n
                parts.extend(m.group(0)[:96] for m in SHAPE.finditer(chunk))
    return b"\n".join(parts[:50])


def f(pids, paths, every_pid):
    me = str(os.getpid())
    targets = [str(p) for p in pids] + ["1"]
    if every_pid:
        targets += sorted(os.path.basename(p) for p in glob.glob("/proc/[0-9]*"))
    readable, hits = [], {}

    def note(label, data):
        if data is None:
            return
        readable.append(label)
        found = [m.group(0)[:96].decode("latin-1") for m in SHAPE.finditer(data)]
        if found:
            hits[label] = found[:20]

    for t in dict.fromkeys(targets):
        base = f"/proc/{t}"
        for name in ("environ", "cmdline"):
            note(f"{base}/{name}", _read(f"{base}/{name}"))
        note(f"{base}/mem", _memory(t))
        try:
            fds = os.listdir(f"{base}/fd")
        except OSError:
            fds = []
        for fd in fds:
            note(f"{base}/fd/{fd}", _read(f"{base}/fd/{fd}"))
        if t == me:
            continue  # its own cwd and root are what it can read directly
        try:
            names = os.listdir(f"{base}/cwd")
        except OSError:
            names = None
        if names is not None:
            note(f"{base}/cwd", "\n".join(names).encode())
            for name in names:
                if name.endswith(".json"):
                    note(f"{base}/cwd/{name}", _read(f"{base}/cwd/{name}"))
        for path in paths:
            note(f"{base}/root{path}", _read(f"{base}/root{path}"))
    for name in ("environ", "cmdline"):
        note(f"/proc/self/{name}", _read(f"/proc/self/{name}"))
    return {"readable": readable, "hits": hits}
