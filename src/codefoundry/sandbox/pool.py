"""The fork-server processes as the supervisor holds them: start, call, restart, stop; and the free set.

A fork-server is started with an almost empty environment and imports codefoundry from this source tree
(``_SRC_DIR``), not from whatever ``sys.path`` the caller has. A server that dies or hangs during a request
is restarted and the request answered with a sandbox error, so one bad worker never stalls a batch.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pathlib
import select
import shutil
import subprocess
import sys
import threading
import time
from typing import Any

from codefoundry.sandbox import cgroups
from codefoundry.sandbox.api import SandboxError
from codefoundry.sandbox.config import ALL_LAYERS, SandboxConfig
from codefoundry.sandbox.protocol import (
    Hello,
    MeasureRequest,
    ProbeReport,
    RunRequest,
    ServerConfig,
    ServerError,
)
from codefoundry.sandbox.server.framing import read_msg, write_msg

log = logging.getLogger("codefoundry.sandbox")

_SRC_DIR = str(pathlib.Path(__file__).resolve().parents[2])
_BOOT = "import sys; sys.path.insert(0, {src!r}); from codefoundry.sandbox.server.boot import main; main()"


class WorkerProcess:
    """One fork-server process and the pipe pair to it."""

    def __init__(
        self,
        index: int,
        cfg: SandboxConfig,
        scratch_parent: str,
        build_cache: str,
        view_paths: list[str],
        seccomp: tuple[bytes | None, str] = (None, ""),
    ) -> None:
        self.index = index
        # Only used (and created) when the worker has no filesystem view of its own: see fsview.py.
        self.scratch_root = os.path.join(scratch_parent, f"w{index}")
        uid = cfg.uid_base + (os.getpid() % 100_000) * 64 + index
        self.server_cfg = ServerConfig(
            scratch_root=self.scratch_root,
            layers=[x for x in cfg.layers if x in ALL_LAYERS],
            uid=uid,
            tmpfs_mb=cfg.tmpfs_mb,
            cgroup_name=f"codefoundry-{os.getpid()}-w{index}-{time.monotonic_ns() % 10**9}",
            preimport=list(dict.fromkeys([*cfg.preimport, *cfg.preimport_extra])),
            view_paths=view_paths,
            build_cache=build_cache,
            seccomp_program=seccomp[0].hex() if seccomp[0] else None,
            seccomp_note=seccomp[1],
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.report: ProbeReport | None = None  # what the last successful start reported
        self.start()

    def start(self) -> None:
        # each worker has its own fixed string-hash seed: runs are reproducible, and a request pinned to
        # another worker (ExecRequest.worker) sees another set iteration order. -s -P instead of -I, which
        # would ignore PYTHONHASHSEED; the environment is built here and holds nothing else of Python's.
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": str(self.index + 1),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-s",
                "-P",
                "-c",
                _BOOT.format(src=_SRC_DIR),
                json.dumps(self.server_cfg.to_dict()),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        raw = self._read(timeout=60.0)
        hello = Hello.from_dict(raw) if raw is not None else None
        if hello is None or hello.report is None:
            self.kill()
            why = hello.fatal if hello is not None and hello.fatal else "no hello from fork-server"
            raise SandboxError(f"fork-server {self.index} failed to start: {why}")
        self.report = hello.report

    def _read(self, timeout: float) -> dict[str, Any] | None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return None
        try:
            msg = read_msg(fd)
        except (OSError, ValueError):
            return None
        return msg if isinstance(msg, dict) else None

    def call(self, request: RunRequest | MeasureRequest, timeout: float) -> dict[str, Any]:
        """Send one request; if the server dies or hangs, restart it and report a sandbox error."""
        assert self.proc is not None and self.proc.stdin is not None
        try:
            write_msg(self.proc.stdin.fileno(), request.to_dict())
            resp = self._read(timeout)
        except OSError as e:
            resp = None
            log.error("sandbox worker %d pipe error: %s", self.index, e)
        if resp is None:
            log.error("sandbox worker %d hung or died; restarting it", self.index)
            self.kill()
            self.start()
            return ServerError("fork-server hung or died during the request").to_dict()
        return resp

    def _remove_cgroup(self) -> None:
        """The server is gone, so its cgroup is empty: remove it even if the server was SIGKILLed."""
        cgroups.remove_cgroup(self.report.cgroup_dir if self.report is not None else None)

    def kill(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        for f in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                f.close()  # type: ignore[union-attr]
        self.proc = None
        self._remove_cgroup()

    def close(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            self.proc.stdin.close()  # type: ignore[union-attr]  # EOF: the server exits and cleans up
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(Exception):
            self.proc.stdout.close()  # type: ignore[union-attr]
        self.proc = None
        self._remove_cgroup()


class Pool:
    """The free workers; ``get`` takes any of them, or waits for one worker in particular."""

    def __init__(self) -> None:
        self._free: list[WorkerProcess] = []
        self._changed = threading.Condition()

    def put(self, worker: WorkerProcess) -> None:
        with self._changed:
            self._free.append(worker)
            self._changed.notify_all()

    def get(self, index: int | None = None) -> WorkerProcess:
        with self._changed:
            while True:
                for position, worker in enumerate(self._free):
                    if index is None or worker.index == index:
                        return self._free.pop(position)
                self._changed.wait()


def shutdown(workers: list[WorkerProcess], scratch_parent: str | None) -> None:
    """Stop every worker and remove the scratch parent (also run by the Sandbox's finalizer)."""
    for w in workers:
        with contextlib.suppress(Exception):
            w.close()
    if scratch_parent:
        shutil.rmtree(scratch_parent, ignore_errors=True)
