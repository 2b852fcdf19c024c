"""One async client for every OpenAI-compatible teacher (vLLM, SGLang, llama.cpp, Ollama, hosted APIs).

Why it is shaped this way:
- a semaphore per teacher keeps exactly ``max_concurrency`` calls in flight, so a server is saturated but not
  flooded; it is held only during an HTTP attempt, never during a backoff sleep;
- 429/5xx/timeouts/resets/garbled bodies are retried with exponential backoff and jitter, honouring
  ``Retry-After``; anything else becomes a recorded failure reason. ``run``/``generate_many`` never raise for a
  failed call, so one bad request cannot kill a batch, and none is silently dropped;
- each sample is cached by content hash *before* it is returned, so a killed run pays for nothing twice;
- every paid call is accounted (tokens, cost, latency) per teacher and per stage.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from codefoundry.teacher.accounting import Accounting
from codefoundry.teacher.cache import TeacherCache, cache_key
from codefoundry.teacher.config import Sampling, TeacherConfig

log = logging.getLogger(__name__)

Message = dict[str, Any]
ResponseFormat = dict[str, Any] | type[BaseModel] | None

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class Completion(BaseModel):
    """One sample of a teacher's answer."""

    model_config = ConfigDict(frozen=True)
    text: str
    index: int = Field(description="sample index within its request (part of the cache key)")
    finish_reason: str | None = None
    refusal: str | None = None
    cached: bool = False
    model: str = ""


class TeacherRequest(BaseModel):
    """One logical request: messages (chat) or a prompt (completion), ``n`` samples, a stage for accounting."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    messages: list[Message] | None = None
    prompt: str | None = None
    n: int = Field(1, gt=0)
    sampling: Sampling | None = None
    response_format: dict[str, Any] | None = None
    stage: str = ""
    tag: Any = Field(None, description="the caller's id for this request (e.g. a task id); not sent")

    @model_validator(mode="after")
    def _one_input(self) -> TeacherRequest:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a TeacherRequest needs exactly one of messages or prompt")
        return self


class TeacherResponse(BaseModel):
    """What became of a request: its samples, or the reason it failed (with whatever samples did arrive)."""

    request: TeacherRequest
    completions: list[Completion] = Field(default_factory=list)
    failure: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None


class TeacherFailure(Exception):
    """A call given up on; ``reason`` is a short stable label (``timeout``, ``http_400``, ...)."""

    def __init__(self, reason: str, detail: str = "", completions: Sequence[Completion] = ()) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.completions = list(completions)


class _Retryable(Exception):
    def __init__(self, reason: str, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


def json_schema_format(schema: dict[str, Any] | type[BaseModel], name: str = "answer") -> dict[str, Any]:
    """An OpenAI ``response_format`` asking for JSON that matches ``schema`` (a dict or a pydantic model)."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        name = schema.__name__
        schema = schema.model_json_schema()
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def _schema_of(response_format: dict[str, Any]) -> dict[str, Any] | None:
    if response_format.get("type") == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema")
    return response_format.get("schema")


def _json_instruction(response_format: dict[str, Any]) -> str:
    schema = _schema_of(response_format)
    if schema is None:
        return "Answer with a single JSON object and nothing else."
    return "Answer with a single JSON object matching this JSON schema, and nothing else:\n" + json.dumps(
        schema
    )


def messages_to_prompt(messages: list[Message]) -> str:
    """Flatten chat messages for a base model on the completion endpoint (no chat template there)."""
    parts = [str(m.get("content") or "") for m in messages]
    return "\n\n".join(p for p in parts if p) + "\n\n"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _LoopState:
    """Objects bound to one event loop: the concurrency semaphore and the HTTP session.

    aiohttp, not httpx: measured here, httpx spends ~1.05 ms of CPU per request (and its pool scans every
    connection per queued request: 10 ms per request at C=64), aiohttp ~0.26 ms with an O(1) pool. With a
    fixed-latency server the client's CPU per request is what separates achieved from theoretical rate.
    """

    def __init__(self, config: TeacherConfig, api_key: str | None) -> None:
        import aiohttp

        self.loop = asyncio.get_running_loop()
        self.semaphore = asyncio.Semaphore(config.max_concurrency)
        self.inflight: dict[str, asyncio.Future[list[Completion]]] = {}
        self._next_start = 0.0
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        connector = aiohttp.TCPConnector(
            limit=config.max_concurrency, limit_per_host=config.max_concurrency, ttl_dns_cache=300
        )
        self.session = aiohttp.ClientSession(
            base_url=(config.base_url or "") + "/",
            headers=headers,
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=config.timeout_s),
            trust_env=False,  # True costs two thread-pool hops per request (proxy and netrc lookups)
        )

    async def pace(self, interval: float) -> None:
        """Wait for this request's start time: starts are spaced ``interval`` apart (requests_per_minute)."""
        now = self.loop.time()
        start = max(now, self._next_start)
        self._next_start = start + interval
        if start > now:
            await asyncio.sleep(start - now)

    async def aclose(self) -> None:
        await self.session.close()


class TeacherClient:
    """Async client of one teacher; share one per teacher across a run's coroutines and threads."""

    def __init__(
        self,
        config: TeacherConfig,
        cache: TeacherCache | None = None,
        accounting: Accounting | None = None,
        *,
        name: str = "teacher",
        rng: random.Random | None = None,
    ) -> None:
        if config.base_url is None:
            raise ValueError(
                f"teacher {name!r} ({config.model}) has no base_url: start it with "
                "codefoundry.teacher.local.LocalTeacher (the run's teacher service does) first"
            )
        self.config = config
        self.cache = cache
        self.accounting = accounting if accounting is not None else Accounting()
        self.name = name
        self._rng = rng or random.Random()
        self._api_key = config.api_key()
        # connection pool + semaphore per event loop: generate_many runs a loop of its own per call, and may be
        # called from several threads at once (the concurrency limit then holds per loop)
        self._states: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._states_lock = threading.Lock()
        self._n_supported = config.supports_n
        self._structured_supported = config.structured_output != "none"

    # ----------------------------------------------------------------------------------------- public API

    @property
    def structured_output_native(self) -> bool:
        """False once the server rejected ``response_format`` (JSON is then asked for in words)."""
        return self._structured_supported

    async def chat(
        self,
        messages: list[Message],
        *,
        n: int = 1,
        sampling: Sampling | None = None,
        response_format: ResponseFormat = None,
        stage: str = "",
    ) -> list[Completion]:
        """``n`` samples for a chat; raises TeacherFailure if the call is given up on."""
        request = TeacherRequest(
            messages=messages,
            n=n,
            sampling=sampling,
            response_format=_as_format(response_format),
            stage=stage,
        )
        return await self._generate(request)

    async def complete(
        self,
        prompt: str,
        *,
        n: int = 1,
        sampling: Sampling | None = None,
        response_format: ResponseFormat = None,
        stage: str = "",
    ) -> list[Completion]:
        """``n`` samples for a raw prompt (completion endpoint); raises TeacherFailure if given up on."""
        request = TeacherRequest(
            prompt=prompt, n=n, sampling=sampling, response_format=_as_format(response_format), stage=stage
        )
        return await self._generate(request)

    async def run(self, request: TeacherRequest) -> TeacherResponse:
        """Like chat/complete for a TeacherRequest, but never raises: a failure is a field of the response."""
        try:
            completions = await self._generate(request)
        except TeacherFailure as exc:
            return TeacherResponse(
                request=request, completions=exc.completions, failure=exc.reason, detail=exc.detail
            )
        except Exception as exc:  # a bug or an unforeseen fault: recorded, never fatal to the batch
            log.exception("teacher %s: unexpected error", self.name)
            reason = f"client_error:{type(exc).__name__}"
            self.accounting.record_failure(self.name, self.config.model, request.stage, reason)
            return TeacherResponse(request=request, failure=reason, detail=str(exc)[:500])
        return TeacherResponse(request=request, completions=completions)

    async def run_many(
        self,
        requests: Sequence[TeacherRequest],
        on_done: Callable[[TeacherResponse], None] | None = None,
    ) -> list[TeacherResponse]:
        """All requests concurrently (the semaphore bounds the calls in flight), in request order.

        A fixed set of workers pulls requests in order rather than one task per request: with 100k tasks
        created at once, each would run its cache lookup before the first answer is read, stalling the loop.
        Twice the concurrency keeps every slot busy while some workers sleep in a retry backoff.
        """
        results: list[TeacherResponse | None] = [None] * len(requests)
        cursor = iter(range(len(requests)))

        async def worker() -> None:
            for position in cursor:
                response = await self.run(requests[position])
                results[position] = response
                if on_done is not None:
                    on_done(response)

        workers = min(len(requests), 2 * self.config.max_concurrency)
        await asyncio.gather(*(worker() for _ in range(workers)))
        done = [r for r in results if r is not None]
        if len(done) != len(requests):  # run() never raises, so this is a bug: say so rather than drop
            raise RuntimeError(f"{len(requests) - len(done)} teacher requests have no response")
        return done

    def generate_many(
        self,
        requests: Sequence[TeacherRequest],
        on_done: Callable[[TeacherResponse], None] | None = None,
    ) -> list[TeacherResponse]:
        """Synchronous batch entry point for stage code; runs an event loop of its own (in a thread if the
        caller is already inside one)."""

        async def main() -> list[TeacherResponse]:
            try:
                return await self.run_many(requests, on_done)
            finally:
                await self.aclose()
                self.accounting.flush()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(main())
        box: list[list[TeacherResponse]] = []
        errors: list[BaseException] = []

        def target() -> None:
            try:
                box.append(asyncio.run(main()))
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)

        thread = threading.Thread(target=target, name=f"teacher-{self.name}")
        thread.start()
        thread.join()
        if errors:
            raise errors[0]
        return box[0]

    async def __aenter__(self) -> TeacherClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
        self.accounting.flush()

    async def aclose(self) -> None:
        """Close the connection pool of the current loop (a new one is made on next use)."""
        with self._states_lock:
            state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.aclose()

    # ----------------------------------------------------------------------------------------- internals

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            with self._states_lock:
                for old in [old for old in self._states if old.is_closed()]:
                    del self._states[old]  # a loop closed without aclose(): drop its (dead) pool
                state = self._states[loop] = _LoopState(self.config, self._api_key)
        return state

    def _endpoint_of(self, request: TeacherRequest) -> str:
        if request.prompt is not None:
            return "completion"
        return self.config.endpoint

    def cache_keys(self, request: TeacherRequest, sampling: Sampling | None = None) -> list[str]:
        """The cache key of each sample of ``request`` (what a resumed run looks up)."""
        sampling_dict = (sampling or self.config.sampling(request.sampling)).model_dump()
        return [
            cache_key(
                model=self.config.model,
                endpoint=self._endpoint_of(request),
                messages=request.messages,
                prompt=request.prompt,
                sampling=sampling_dict,
                response_format=request.response_format,
                sample_index=index,
            )
            for index in range(request.n)
        ]

    async def _generate(self, request: TeacherRequest) -> list[Completion]:
        sampling = self.config.sampling(request.sampling)
        endpoint = self._endpoint_of(request)
        keys = self.cache_keys(request, sampling)
        # an identical request already in flight (same prompt, sampling and samples) is joined, not paid twice
        state = self._loop_state()
        signature = keys[0] + ":" + str(len(keys))
        running = state.inflight.get(signature)
        if running is not None:
            try:
                completions = await asyncio.shield(running)
            except TeacherFailure as exc:  # each request that ends in a failure is counted
                self.accounting.record_failure(self.name, self.config.model, request.stage, exc.reason)
                raise TeacherFailure(exc.reason, exc.detail, exc.completions) from None
            self.accounting.record_cache_hits(self.name, self.config.model, request.stage, len(completions))
            return [c.model_copy(update={"cached": True}) for c in completions]
        future: asyncio.Future[list[Completion]] = state.loop.create_future()
        state.inflight[signature] = future
        try:
            completions = await self._generate_keys(request, endpoint, sampling, keys)
        except BaseException as exc:
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved here, so a future nobody joined does not warn
            else:
                future.cancel()
            raise
        else:
            future.set_result(completions)
            return completions
        finally:
            state.inflight.pop(signature, None)

    async def _generate_keys(
        self, request: TeacherRequest, endpoint: str, sampling: Sampling, keys: list[str]
    ) -> list[Completion]:
        done: dict[int, Completion] = {}
        if self.cache is not None:
            stored = self.cache.get_many(keys)
            for index, key in enumerate(keys):
                if key in stored:
                    done[index] = _completion_from(stored[key], index, cached=True)
            if done:
                self.accounting.record_cache_hits(self.name, self.config.model, request.stage, len(done))
        missing = [i for i in range(request.n) if i not in done]
        while missing:
            batch = missing if (self._n_supported and len(missing) > 1) else missing[:1]
            try:
                choices = await self._call(request, endpoint, sampling, batch)
            except TeacherFailure as exc:
                self.accounting.record_failure(self.name, self.config.model, request.stage, exc.reason)
                raise TeacherFailure(exc.reason, exc.detail, [done[i] for i in sorted(done)]) from None
            if len(batch) > 1 and len(choices) < len(batch):
                log.info(
                    "teacher %s: server returned %d of n=%d choices; using one call per sample",
                    self.name,
                    len(choices),
                    len(batch),
                )
                self._n_supported = False
            got = list(zip(batch, choices, strict=False))
            if self.cache is not None and got:
                # committed before it is returned; synchronous on purpose: a WAL commit is a page-cache write
                # (no fsync), and a hop to a writer thread measured ~0.3 ms more CPU per request
                self.cache.put_many(
                    [(keys[i], payload) for i, payload in got], model=self.config.model, stage=request.stage
                )
            for index, payload in got:
                done[index] = _completion_from(payload, index, cached=False)
            missing = [i for i in missing if i not in done]
        return [done[i] for i in range(request.n)]

    def _body(
        self, request: TeacherRequest, endpoint: str, sampling: Sampling, batch: list[int]
    ) -> tuple[str, dict[str, Any]]:
        params = sampling.model_dump(exclude_none=True)
        if len(batch) == 1 and batch[0] > 0 and sampling.seed is not None:
            # one call per sample with a fixed seed would repeat sample 0: derive a seed per sample index
            params["seed"] = sampling.seed + batch[0]
        body: dict[str, Any] = {**self.config.extra_body, "model": self._served_model(), **params}
        if len(batch) > 1:
            body["n"] = len(batch)
        messages = request.messages
        prompt = request.prompt
        fmt = request.response_format
        if fmt is not None and endpoint == "completion":
            # no portable structured output on /completions: ask in words, the fallback parser does the rest
            if prompt is not None:
                prompt = f"{prompt}\n{_json_instruction(fmt)}\n"
            else:
                messages = [*(messages or []), {"role": "user", "content": _json_instruction(fmt)}]
        elif fmt is not None:
            if self._structured_supported:
                body["response_format"] = (
                    {"type": "json_object", "schema": _schema_of(fmt)}
                    if self.config.structured_output == "json_object" and fmt.get("type") == "json_schema"
                    else fmt
                )
            elif messages is not None:
                messages = [*messages, {"role": "user", "content": _json_instruction(fmt)}]
        if endpoint == "chat":
            body["messages"] = messages
            return "chat/completions", body
        body["prompt"] = prompt if prompt is not None else messages_to_prompt(messages or [])
        return "completions", body

    def _served_model(self) -> str:
        return self.config.local_name if self.config.is_local else self.config.model

    async def _call(
        self, request: TeacherRequest, endpoint: str, sampling: Sampling, batch: list[int]
    ) -> list[dict[str, Any]]:
        """One logical call with retries; returns the choices as cache payloads (paid calls accounted)."""
        attempt = 0
        while True:
            path, body = self._body(request, endpoint, sampling, batch)
            try:
                return await self._attempt(path, body, request.stage, endpoint)
            except _Retryable as exc:
                if exc.reason == "response_format_rejected":
                    # the server cannot do structured output: ask in words and rely on the fallback parser
                    self._structured_supported = False
                    log.warning(
                        "teacher %s: response_format rejected (%s); falling back to prompting for JSON",
                        self.name,
                        exc.detail[:200],
                    )
                    self.accounting.record_retry(self.name, self.config.model, request.stage, exc.reason)
                    continue
                if attempt >= self.config.max_retries:
                    raise TeacherFailure(
                        exc.reason, f"gave up after {attempt} retries: {exc.detail}"[:500]
                    ) from None
                delay = self._backoff(attempt, exc.retry_after)
                self.accounting.record_retry(self.name, self.config.model, request.stage, exc.reason)
                log.debug("teacher %s: %s, retry %d in %.2fs", self.name, exc.reason, attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * (2**attempt))
        delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)  # "equal jitter": spread, never zero
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.retry_after_max_s))
        return delay

    async def _attempt(
        self, path: str, body: dict[str, Any], stage: str, endpoint: str
    ) -> list[dict[str, Any]]:
        import aiohttp

        state = self._loop_state()
        if self.config.requests_per_minute is not None:
            await state.pace(60.0 / self.config.requests_per_minute)
        async with state.semaphore:
            budget = self.config.budget_usd  # checked with the slot held: calls before this one are accounted
            if budget is not None and self.accounting.usage(teacher=self.name).cost_usd >= budget:
                raise TeacherFailure(
                    "budget_exhausted", f"teacher {self.name} has spent its ${budget:g} budget"
                )
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    async with state.session.post(path, data=json.dumps(body)) as response:
                        status = response.status
                        raw = await response.read()
                        retry_after = response.headers.get("Retry-After")
            except TimeoutError as exc:
                raise _Retryable("timeout", f"no answer within {self.config.timeout_s}s") from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise _Retryable("connection", f"{type(exc).__name__}: {exc}") from exc
            latency = time.monotonic() - started
        if status != 200:
            detail = raw[:300].decode("utf-8", "replace")
            if status in _RETRY_STATUS or status >= 500:
                reason = "rate_limited" if status == 429 else f"http_{status}"
                raise _Retryable(reason, detail, parse_retry_after(retry_after))
            if status in (400, 422) and "response_format" in body and _about_format(detail):
                raise _Retryable("response_format_rejected", detail)
            raise TeacherFailure(f"http_{status}", detail)
        try:
            data = json.loads(raw)
            choices = data["choices"]
            if not isinstance(choices, list) or not choices:
                raise ValueError("no choices")
            payloads = [
                _payload_of(choice, endpoint, data.get("model", ""))
                for choice in sorted(choices, key=lambda c: c.get("index", 0))
            ]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _Retryable("bad_response", f"{type(exc).__name__}: {raw[:200]!r}") from exc
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        cost = (
            prompt_tokens * self.config.price_per_1k_input
            + completion_tokens * self.config.price_per_1k_output
        ) / 1000.0
        self.accounting.record_call(
            self.name,
            self.config.model,
            stage,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost,
            latency_s=latency,
            samples=len(payloads),
        )
        # the slot is free and the call accounted (so a budget check sees it): let the request waiting for the
        # slot go out before this answer is stored and wrapped, keeping that work off the server's busy path
        await asyncio.sleep(0)
        return payloads


def _about_format(error: str) -> bool:
    """Does a 400/422 complain about structured output (not, say, a prompt too long for the context)?"""
    error = error.lower()
    return any(
        word in error for word in ("response_format", "json_schema", "json_object", "schema", "guided")
    )


def _payload_of(choice: dict[str, Any], endpoint: str, model: str) -> dict[str, Any]:
    if endpoint == "chat":
        message = choice["message"]
        text = message.get("content") or ""
        refusal = message.get("refusal")
    else:
        text = choice["text"]
        refusal = None
    if not isinstance(text, str):
        raise TypeError("choice text is not a string")
    return {"text": text, "finish_reason": choice.get("finish_reason"), "refusal": refusal, "model": model}


def _completion_from(payload: dict[str, Any], index: int, *, cached: bool) -> Completion:
    return Completion(
        text=payload["text"],
        index=index,
        finish_reason=payload.get("finish_reason"),
        refusal=payload.get("refusal"),
        cached=cached,
        model=payload.get("model", ""),
    )


def _as_format(response_format: ResponseFormat) -> dict[str, Any] | None:
    if response_format is None or isinstance(response_format, dict):
        return response_format
    return json_schema_format(response_format)
