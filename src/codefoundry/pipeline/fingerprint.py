"""Per-stage fingerprints: what a stage's outputs depend on, and nothing else.

``fp_i = H(kind, version, data-relevant config_i, the teachers it calls, the sandbox engine it runs on,
fp_{i-1})``. Runtime knobs (batch sizes, batches in flight, concurrency, workers, timeouts, retries,
pre-imports, where a server lives) are left out, so changing them resumes a run; changing a stage's
data-relevant config changes its fingerprint and every descendant's, so exactly those stages are re-run
while the upstream work is kept. Teacher responses are cached by content anyway, so a re-run stage pays
only for prompts it has not sent before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from codefoundry.records import content_hash

if TYPE_CHECKING:
    from codefoundry.pipeline.stage import Stage, StageConfig
    from codefoundry.teacher.config import TeacherConfig

# TeacherConfig keys that say how to reach and pace a teacher, not what it answers.
TEACHER_RUNTIME_KEYS = frozenset(
    {
        "base_url",
        "api_key_env",
        "max_concurrency",
        "timeout_s",
        "max_retries",
        "backoff_base_s",
        "backoff_max_s",
        "retry_after_max_s",
        "supports_n",
        "budget_usd",
        "requests_per_minute",
        "price_per_1k_input",
        "price_per_1k_output",
        "local_n_ctx",
        "local_n_threads",
        "local_port",
        "local_startup_timeout_s",
    }
)


def identity_dump(config: BaseModel, runtime: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The config as JSON data without its runtime fields (``runtime`` plus the model's ``runtime_fields``)."""
    excluded = set(runtime) | set(getattr(config, "runtime_fields", frozenset()))
    data = config.model_dump(mode="json")
    return {key: value for key, value in sorted(data.items()) if key not in excluded}


def teacher_identity(config: TeacherConfig) -> dict[str, Any]:
    """What a teacher's answers depend on: the model, sampling, endpoint and format settings."""
    return identity_dump(config, TEACHER_RUNTIME_KEYS)


def stage_fingerprint(
    stage: type[Stage[Any, Any]],
    config: StageConfig,
    upstream: str | None,
    *,
    teachers: dict[str, TeacherConfig] | None = None,
    engine_version: str | None = None,
) -> str:
    """The fingerprint of one stage of a recipe, given its upstream's fingerprint."""
    payload = {
        "kind": stage.kind,
        "version": stage.version,
        "config": identity_dump(config),
        "teachers": {name: teacher_identity(cfg) for name, cfg in sorted((teachers or {}).items())},
        "engine": engine_version,
        "upstream": upstream,
    }
    return content_hash(payload)
