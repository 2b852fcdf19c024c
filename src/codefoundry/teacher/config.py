"""Teacher configuration: what a recipe says about one teacher model, validated at the boundary.

A recipe holds ``teachers: {name: TeacherConfig}`` (e.g. ``strong`` for tasks, ``cheap`` for solutions).
The API key itself never appears here: only the *name* of the environment variable that holds it, so configs,
run directories and logs can be shared without leaking it.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from codefoundry.errors import UserError

LOCAL_PREFIX = "local:"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ChatTemplate(StrEnum):
    """Chat templates codefoundry can apply itself, to begin a model's answer for it (``chat_prefill``)."""

    CHATML = "chatml"  # Qwen and many others: <|im_start|>role\n...<|im_end|>


class Sampling(BaseModel):
    """Sampling parameters; a stage may override any of the teacher's defaults with its own."""

    model_config = ConfigDict(extra="forbid")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, gt=0)
    seed: int | None = None
    stop: list[str] | None = None

    def merged_over(self, base: Sampling) -> Sampling:
        """This sampling where set, ``base`` elsewhere."""
        mine = self.model_dump(exclude_none=True)
        return base.model_copy(update=mine)


class TeacherConfig(BaseModel):
    """One teacher: an OpenAI-compatible server (or ``local:`` embedded model) plus how to talk to it."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(
        None, description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1; None for a local: model"
    )
    model: str = Field(min_length=1, description="model name sent to the server, or local:<name>")
    api_key_env: str | None = Field(None, description="name of the environment variable holding the API key")
    max_concurrency: int = Field(8, gt=0, le=4096)
    timeout_s: float = Field(120.0, gt=0, description="total deadline of one HTTP attempt")
    max_retries: int = Field(
        6, ge=0, description="retries after the first attempt on 429/5xx/timeouts/resets"
    )
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(30.0, gt=0)
    retry_after_max_s: float = Field(120.0, gt=0, description="cap on a server's Retry-After")
    endpoint: Literal["chat", "completion"] = "chat"
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    max_tokens: int = Field(1024, gt=0)
    seed: int | None = None
    stop: list[str] | None = None
    supports_n: bool = Field(True, description="ask for n samples in one call; short answers are topped up")
    structured_output: Literal["json_schema", "json_object", "none"] = Field(
        "json_schema", description="how response_format is sent; the fallback parser always runs"
    )
    price_per_1k_input: float = Field(0.0, ge=0)
    price_per_1k_output: float = Field(0.0, ge=0)
    budget_usd: float | None = Field(
        None, gt=0, description="stop calling this teacher once its recorded cost in the run reaches this"
    )
    requests_per_minute: float | None = Field(
        None, gt=0, description="space request starts evenly to stay under a provider's rate limit"
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="extra request fields (e.g. vLLM top_k, repetition_penalty)"
    )
    chat_template: ChatTemplate | None = Field(
        None, description="the model's chat template, when known: lets a solution's answer be begun for it"
    )
    local_n_ctx: int = Field(4096, gt=0, description="context size of an embedded local: model")
    local_n_threads: int | None = Field(
        None,
        gt=0,
        description="threads of an embedded local: model (default: all cores; fewer on a busy host)",
    )

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("must be the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key")
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            if not value.startswith(("http://", "https://")):
                raise ValueError("must start with http:// or https://")
            value = value.rstrip("/")
        return value

    @model_validator(mode="after")
    def _where(self) -> TeacherConfig:
        if self.base_url is None and not self.is_local:
            raise ValueError(
                f"base_url is required unless model is '{LOCAL_PREFIX}<name>' (embedded teacher)"
            )
        return self

    @property
    def is_local(self) -> bool:
        """True for an embedded model that codefoundry starts itself."""
        return self.model.startswith(LOCAL_PREFIX)

    @property
    def local_name(self) -> str:
        return self.model[len(LOCAL_PREFIX) :]

    def sampling(self, override: Sampling | None = None) -> Sampling:
        """The teacher's defaults, with a stage's override on top."""
        base = Sampling(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            seed=self.seed,
            stop=self.stop,
        )
        return override.merged_over(base) if override is not None else base

    def api_key(self) -> str | None:
        """Read the key from the named environment variable at call time (never stored)."""
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env)
        if not key:
            raise UserError(
                f"teacher {self.model!r}: environment variable {self.api_key_env} (api_key_env) is not set"
            )
        return key
