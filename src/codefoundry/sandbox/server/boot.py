"""Start-up and the serving loop of a fork-server process.

The supervisor runs ``python -s -P -c <boot code> SERVER_CONFIG_JSON`` with an almost empty environment and
the request pipe on stdin, the reply pipe on stdout (``pool.py``). ``main`` moves those pipes off fds 0/1,
becomes PID 1 of a new PID namespace when it may, sets the worker up, says hello with its probe report,
then answers requests until end of file.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from codefoundry.sandbox import cgroups, isolation
from codefoundry.sandbox.protocol import Hello, ServerConfig, ServerError
from codefoundry.sandbox.server.diagnostics import probe
from codefoundry.sandbox.server.framing import read_msg, write_msg
from codefoundry.sandbox.server.requests import handle
from codefoundry.sandbox.server.setup import set_up_worker


def _become_pid1(rfd: int, wfd: int) -> None:
    """Re-run the server as PID 1 of a new PID namespace; this outer process only waits for it.

    The inner server dies with the outer one (PDEATHSIG), and when it dies the kernel kills everything
    left in its namespace, so nothing a candidate starts can outlive the worker.
    """
    try:
        isolation.unshare(isolation.CLONE_NEWPID)
    except OSError:
        return
    pid = os.fork()
    if pid == 0:
        isolation._libc.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return
    os.close(rfd)
    os.close(wfd)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def main() -> None:
    """Entry point: ``python -c 'from codefoundry.sandbox.server.boot import main; main()' CFG_JSON``."""
    cfg = ServerConfig.from_dict(json.loads(sys.argv[1]))
    rfd = os.dup(0)
    wfd = os.dup(1)
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.set_inheritable(rfd, False)
    os.set_inheritable(wfd, False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.geteuid() == 0 and "pidns" in cfg.layers:
        _become_pid1(rfd, wfd)
    try:
        worker = set_up_worker(cfg)
    except Exception as e:
        write_msg(wfd, Hello(report=None, fatal=f"{type(e).__name__}: {e}").to_dict())
        return
    try:
        write_msg(wfd, Hello(report=probe(worker)).to_dict())
        while True:
            msg = read_msg(rfd)
            if msg is None:
                break
            try:
                reply = handle(worker, msg)
            except Exception as e:  # a bug in the server: report it loudly, keep serving
                import traceback

                reply = ServerError(
                    f"{type(e).__name__}: {e}", trace=traceback.format_exc()[-4000:]
                ).to_dict()
            write_msg(wfd, reply)
    finally:
        cgroups.remove_cgroup(worker.setup.cgroup_dir, leave=True)
