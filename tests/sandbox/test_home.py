"""Children run as another uid, yet import any stdlib module even when Python lives under a closed /root."""

from __future__ import annotations

import os
import sys

import pytest

from codefoundry.sandbox import ExecRequest, Sandbox
from codefoundry.sandbox.api import TestInput
from codefoundry.sandbox.fsview import closed_ancestor

IMPORTS = """
def f(x):
    import pickle, tarfile, wave, xml.dom.minidom, email.parser
    return pickle.loads(pickle.dumps(x))
"""

LIST_HOME = """
def f(path):
    import os
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        return type(e).__name__
"""


def test_stdlib_modules_that_were_not_preimported_import_in_the_child(sandbox: Sandbox) -> None:
    result = sandbox.run(
        ExecRequest(
            code=IMPORTS,
            entry_point="f",
            tests=[TestInput(args=[[1, "a"]], expected=[1, "a"], has_expected=True)],
        )
    )
    assert result.passed, result.verdicts[0].error


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid layer needs root")
def test_a_closed_home_shows_none_of_its_own_entries(sandbox: Sandbox) -> None:
    home = closed_ancestor(sys.base_prefix)
    if home is None:
        pytest.skip("python does not live under a closed directory here")
    result = sandbox.run(
        ExecRequest(code=LIST_HOME, entry_point="f", tests=[TestInput(args=[home])], mode="collect")
    )
    listed = result.verdicts[0].output
    if sandbox.layers()["fs_view"].active:
        # the view's own directory: only the way to the interpreter (and toolchains), nothing of the host's
        prefix_top = os.path.relpath(os.path.realpath(sys.base_prefix), home).split(os.sep)[0]
        assert prefix_top in listed
        assert not set(listed) & {".ssh", ".bashrc", ".gitconfig", ".config"} - {prefix_top}
    else:
        assert listed == "PermissionError"


BYTES_ECHO = """
def f(data):
    return data[::-1]
"""


def test_bytes_and_sets_round_trip_through_the_result_cache(tmp_path) -> None:
    request = ExecRequest(
        code=BYTES_ECHO,
        entry_point="f",
        tests=[TestInput(args=[b"\xff\x00ab"]), TestInput(args=["ab"])],
        mode="collect",
    )
    with Sandbox(cache_path=tmp_path / "cache.sqlite") as sandbox:
        first = sandbox.run(request)
    with Sandbox(cache_path=tmp_path / "cache.sqlite") as sandbox:
        again = sandbox.run(request)
    assert [v.output for v in first.verdicts] == [b"ba\x00\xff", "ba"]
    assert again.cached and [v.output for v in again.verdicts] == [v.output for v in first.verdicts]


READ_FILE = """
def f(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        return type(exc).__name__
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid layer needs root")
def test_a_candidate_cannot_read_a_run_directorys_expected_outputs(sandbox: Sandbox) -> None:
    import shutil
    import tempfile
    from pathlib import Path

    from codefoundry.pipeline.rundir import RunDir

    parent = Path(tempfile.mkdtemp(prefix="cf-open-"))  # world-traversable, unlike pytest's own tmp folders
    parent.chmod(0o755)
    run_dir = RunDir(parent / "run")
    run_dir.create()
    shard = run_dir.path / "stages" / "00-x" / "shard-00000.jsonl"
    shard.parent.mkdir(parents=True)
    shard.write_text('{"expected": 42}\n')
    shard.chmod(0o644)  # world-readable inside: the private run directory is what keeps it out of reach
    result = sandbox.run(
        ExecRequest(code=READ_FILE, entry_point="f", tests=[TestInput(args=[str(shard)])], mode="collect")
    )
    shutil.rmtree(parent)
    assert result.verdicts[0].output in ("PermissionError", "FileNotFoundError"), result.verdicts[0].output
