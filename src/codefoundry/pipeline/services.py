"""The teachers a run's stages share: one client per named teacher, created (and started) on first use.

Every client of a run writes to the same response cache (``cache/teacher.sqlite``) and usage file, so a
resumed run pays for no call twice and ``codefoundry status`` can show calls, tokens, cost and cache hits.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codefoundry.errors import UserError

if TYPE_CHECKING:
    from codefoundry.teacher.client import TeacherClient


class Teachers:
    """Named teacher clients for one run. Embedded ``local:`` models are started here and stopped on close."""

    def __init__(self, configs: dict[str, dict[str, Any]], run_dir: Path) -> None:
        self._configs = configs
        self._run_dir = run_dir
        self._clients: dict[str, TeacherClient] = {}
        self._stack = contextlib.ExitStack()
        self._cache: Any = None
        self._accounting: Any = None

    def names(self) -> list[str]:
        return sorted(self._configs)

    def client(self, name: str) -> TeacherClient:
        """The client of teacher ``name`` (a user error if the recipe has no such teacher)."""
        if name not in self._clients:
            self._clients[name] = self._start(name)
        return self._clients[name]

    def _start(self, name: str) -> TeacherClient:
        from codefoundry.teacher.accounting import Accounting
        from codefoundry.teacher.cache import TeacherCache
        from codefoundry.teacher.client import TeacherClient
        from codefoundry.teacher.config import TeacherConfig

        if name not in self._configs:
            known = ", ".join(self.names()) or "none"
            raise UserError(f"recipe: teachers.{name}: no such teacher (the recipe defines: {known})")
        config = TeacherConfig.model_validate(self._configs[name])
        if config.is_local:
            from codefoundry.teacher.local import LocalTeacher

            config = self._stack.enter_context(LocalTeacher.from_config(config))
        if self._cache is None:
            self._cache = TeacherCache(self._run_dir / "cache" / "teacher.sqlite")
            self._accounting = Accounting.for_run(self._run_dir)
        return TeacherClient(config, cache=self._cache, accounting=self._accounting, name=name)

    def close(self) -> None:
        if self._accounting is not None:
            self._accounting.flush()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        self._clients.clear()
        self._stack.close()
