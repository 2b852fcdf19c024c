"""Peeker: the first 256 bytes of every small world-readable file in DIR/*/*.

A candidate program, read as text by the forgery tests (see ../forgeries_support.py); never imported.
The tests append the function or stdio entry point.
"""

import glob
import os


def _peek(dirs, limit=2000):
    out = []
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "*", "*"))):
            if len(out) >= limit:
                return out
            try:
                if os.path.isfile(path) and os.path.getsize(path) <= 1 << 16:
                    with open(path, "rb") as fh:
                        out.append([path, fh.read(256).decode("utf-8", "replace")])
            except OSError:
                pass
    return out
