"""The services a run's stages share: the sandbox, one client per named teacher, and worker threads.

One ``Services`` lives for one run and one event loop. Every teacher client of a run writes to the same
response cache (``cache/teacher.sqlite``) and usage file, so a resumed run pays for no call twice and
``codefoundry status`` shows calls, tokens, cost and cache hits; each client keeps one HTTP session for the
whole run. Embedded ``local:`` models are started on first use and stopped on close. The sandbox is started
on first use (warm fork-servers are not free) and is called from worker threads, so the event loop keeps
serving teacher calls while code runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from codefoundry.errors import UserError

if TYPE_CHECKING:
    from codefoundry.sandbox import ExecRequest, ExecResult, Sandbox, SandboxConfig
    from codefoundry.teacher.client import TeacherClient
    from codefoundry.teacher.config import TeacherConfig

T = TypeVar("T")

# threads for stage work and sandbox calls: several batches of several stages may wait on the sandbox at once
THREADS = 32


class Services:
    """Sandbox, teachers and threads for one run (use from one event loop; ``aclose`` at the end)."""

    def __init__(
        self,
        run_dir: Path,
        *,
        sandbox_config: SandboxConfig | None = None,
        teachers: dict[str, TeacherConfig] | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.run_dir = run_dir
        self._sandbox_config = sandbox_config
        self._sandbox: Sandbox | None = sandbox  # a started sandbox given by the caller is not closed here
        self._owns_sandbox = sandbox is None
        self._sandbox_lock = threading.Lock()  # several threads may ask for it first at once: start it once
        self._warming: asyncio.Future[Any] | None = None
        self._teacher_configs = teachers or {}
        self._clients: dict[str, TeacherClient] = {}
        self._teacher_lock = threading.Lock()
        self._stack = contextlib.ExitStack()
        self._cache: Any = None
        self._accounting: Any = None
        self.executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="stage")
        # Stage code (parsing, test generation, mutants) runs one thread at a time: it gains nothing from
        # threads under the GIL, much of it is not thread-safe (CPython 3.11's ``ast`` constructors keep a
        # per-interpreter recursion counter), and the thread holding it releases it to wait for the sandbox.
        self.python_lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ threads
    async def in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work (I/O, sandbox waits) in one of the run's worker threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def in_python(self, fn: Callable[..., T], *args: Any) -> T:
        """Run stage code in a worker thread, holding the run's Python lock (see ``python_lock``)."""

        def locked() -> T:
            with self.python_lock:
                return fn(*args)

        return await self.in_thread(locked)

    # ------------------------------------------------------------------------------------------ sandbox
    def sandbox(self) -> Sandbox:
        """The run's sandbox, started on first use (once, whichever thread asks first)."""
        with self._sandbox_lock:
            return self._sandbox_or_start()

    def _sandbox_or_start(self) -> Sandbox:
        if self._sandbox is None:
            from codefoundry.sandbox import Sandbox, SandboxConfig

            sandbox = Sandbox(
                self._sandbox_config or SandboxConfig(),
                cache_path=self.run_dir / "cache" / "executions.sqlite",
            )
            sandbox.__enter__()
            self._sandbox = sandbox
            self._owns_sandbox = True
        return self._sandbox

    def sandbox_workers(self) -> int:
        """How many fork-servers the sandbox runs (without starting it)."""
        from codefoundry.sandbox import SandboxConfig

        return (self._sandbox_config or SandboxConfig()).worker_count()

    async def warm_sandbox(self) -> None:
        """Start the sandbox in a worker thread (once; later callers wait for the same start)."""
        if self._warming is None:
            self._warming = asyncio.ensure_future(self.in_thread(self.sandbox))
        await self._warming

    async def run_sandbox(self, requests: list[ExecRequest]) -> list[ExecResult]:
        """``Sandbox.run_many`` in a worker thread: the event loop stays free for teacher calls."""
        return await self.in_thread(lambda: self.sandbox().run_many(requests))

    # ------------------------------------------------------------------------------------------ teachers
    def teacher_names(self) -> list[str]:
        return sorted(self._teacher_configs)

    def teacher_config(self, name: str) -> TeacherConfig:
        """The validated config of teacher ``name`` (a user error if the recipe has no such teacher)."""
        if name not in self._teacher_configs:
            known = ", ".join(self.teacher_names()) or "none"
            raise UserError(f"recipe: teachers.{name}: no such teacher (the recipe defines: {known})")
        return self._teacher_configs[name]

    def teacher(self, name: str) -> TeacherClient:
        """The client of teacher ``name``, started on first use (an embedded model is started here, once,
        whichever thread asks first)."""
        with self._teacher_lock:
            if name not in self._clients:
                self._clients[name] = self._start(name)
            return self._clients[name]

    async def start_teacher(self, name: str) -> None:
        """Start teacher ``name`` off the event loop (an embedded model takes seconds to load)."""
        await self.in_thread(self.teacher, name)

    def _start(self, name: str) -> TeacherClient:
        from codefoundry.teacher.accounting import Accounting
        from codefoundry.teacher.cache import TeacherCache
        from codefoundry.teacher.client import TeacherClient

        config = self.teacher_config(name)
        if config.is_local:
            from codefoundry.teacher.local import LocalTeacher

            config = self._stack.enter_context(LocalTeacher.from_config(config))
        if self._cache is None:
            self._cache = TeacherCache(self.run_dir / "cache" / "teacher.sqlite")
            self._accounting = Accounting.for_run(self.run_dir)
        return TeacherClient(config, cache=self._cache, accounting=self._accounting, name=name)

    def flush_accounting(self) -> None:
        if self._accounting is not None:
            self._accounting.flush()

    # ------------------------------------------------------------------------------------------ close
    async def aclose(self) -> None:
        """Close the teachers' HTTP sessions, flush usage, stop local models and the sandbox."""
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        self._clients.clear()
        self.flush_accounting()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        self._stack.close()
        if self._sandbox is not None and self._owns_sandbox:
            self._sandbox.close()
        self._sandbox = None
        self.executor.shutdown(wait=False, cancel_futures=True)
