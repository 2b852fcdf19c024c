"""Length-prefixed JSON frames: how the supervisor and a fork-server exchange messages over a pipe pair.

A frame is a 4-byte little-endian length and that many bytes of compact JSON. Reads loop until the frame is
complete, so a message is never seen half-written; end of file reads as ``None``.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

PROTO_MAX = 1 << 30  # the largest frame meant to be sent; reads do not check it (both ends run our code)


def read_msg(fd: int) -> Any:
    """The next message on ``fd``, or None at end of file (also in the middle of a frame)."""
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack("<I", head)
    body = _read_exact(fd, n)
    if body is None:
        return None
    return json.loads(body)


def write_msg(fd: int, obj: Any) -> None:
    """Send one message as a single frame."""
    data = json.dumps(obj, separators=(",", ":")).encode()
    write_all(fd, struct.pack("<I", len(data)) + data)


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until everything is written (pipes and memfds may take less than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        c = os.read(fd, min(n - got, 1 << 20))
        if not c:
            return None
        chunks.append(c)
        got += len(c)
    return b"".join(chunks)
