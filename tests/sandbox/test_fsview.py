"""The filesystem view: what a worker is built from, and that it leaves nothing on the host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codefoundry.sandbox import ExecRequest, Sandbox, SandboxConfig, TestInput
from codefoundry.sandbox.fsview import minimal, readable_paths

LIST_ROOT = """
import os
def f():
    return sorted(os.listdir("/"))
"""


def test_minimal_drops_paths_inside_others() -> None:
    assert minimal(["/usr/lib/jvm", "/usr", "/opt/x/bin", "/opt/x", "relative", "/usr"]) == ["/opt/x", "/usr"]


def test_without_a_view_landlock_gets_what_the_view_would_hold() -> None:
    paths = readable_paths(["/opt/toolchain"], "/var/cache/build")
    assert {"/usr", "/opt/toolchain", "/var/cache/build", "/dev/null", "/proc"} <= set(paths)
    assert not {"/", "/tmp", "/home", "/root", "/etc"} & set(paths)


@pytest.mark.skipif(os.geteuid() != 0, reason="the view needs root and a mount namespace")
def test_a_worker_with_a_view_creates_nothing_on_the_host(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(workers=1, scratch_root=str(tmp_path))) as sandbox:
        if not sandbox.layers()["fs_view"].active:
            pytest.skip("no filesystem view here")
        result = sandbox.run(
            ExecRequest(code=LIST_ROOT, entry_point="f", tests=[TestInput(args=[])], mode="collect")
        )
        during = list(tmp_path.iterdir())
    assert during == []
    root = result.verdicts[0].output
    assert {"usr", "tmp", "proc", "dev", "etc"} <= set(root)
    assert not {"home", "srv", "mnt", "var", "boot"} & set(root), root


def test_scratch_left_by_a_killed_sandbox_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / "codefoundry-sandbox-4999999-abcd1234"  # above any pid_max: its process is gone
    (stale / "w0").mkdir(parents=True)
    live = tmp_path / f"codefoundry-sandbox-{os.getpid()}-abcd1234"
    live.mkdir()
    with Sandbox(SandboxConfig(workers=1, scratch_root=str(tmp_path))) as sandbox:
        sandbox.layers()
    assert not stale.exists()
    assert live.exists()
