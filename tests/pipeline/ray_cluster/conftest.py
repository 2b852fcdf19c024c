"""A local Ray cluster for a module's tests, and the project's scripted teacher server (its answers depend
only on the request, so runs on different runners, in any order, get the same answers)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from codefoundry.testing.teacher_server import ScriptedServer

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local cluster for a module's tests (the runner uses it rather than starting its own); its address.
    Shut down after the module: its processes would otherwise take CPU from every later test."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture()
def teacher_server() -> Iterator[ScriptedServer]:
    """Verifiable tasks by the request's hash (one in ten with a solution that disagrees with its tests)."""
    with ScriptedServer(tasks=True) as server:
        yield server
