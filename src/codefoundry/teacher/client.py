"""One async client for every OpenAI-compatible teacher (vLLM, SGLang, llama.cpp, Ollama, hosted APIs).

Why it is shaped this way:
- a semaphore per teacher keeps exactly ``max_concurrency`` calls in flight, so a server is saturated but not
  flooded; it is held only during an HTTP attempt, never during a backoff sleep (``transport``);
- 429/5xx/timeouts/resets/garbled bodies are retried with exponential backoff and jitter, honouring
  ``Retry-After``; anything else becomes a recorded failure reason (``retry``). ``run``/``run_many``/
  ``generate_many`` never raise for a failed call, so one bad request cannot kill a batch, and none is
  silently dropped;
- each sample is cached by content hash *before* it is returned, so a killed run pays for nothing twice;
- every paid call is accounted (tokens, cost, latency) per teacher and per stage.

A run drives every client from one long-lived event loop: stages and batches call ``await run_many(...)``
concurrently on the same client (one HTTP session and one concurrency limit per teacher) and the run calls
``await aclose()`` at the end. ``generate_many`` is the synchronous entry point for code outside a loop.

This module is the orchestration: cache lookup, joining identical requests in flight, ``n``-sample fan-out,
the retry loop, accounting. The request types live in ``types``, the wire format in ``formats``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable, Sequence
from typing import Any, Unpack

from codefoundry.teacher.accounting import Accounting
from codefoundry.teacher.cache import TeacherCache, cache_key
from codefoundry.teacher.config import Sampling, TeacherConfig
from codefoundry.teacher.formats import Message, json_schema_format, read_choices, request_body
from codefoundry.teacher.retry import Retryable, backoff_delay, raise_for_status
from codefoundry.teacher.transport import Transport
from codefoundry.teacher.types import (
    Completion,
    RequestOptions,
    TeacherFailure,
    TeacherRequest,
    TeacherResponse,
)

log = logging.getLogger(__name__)

# the request types, importable from here too (the client's API speaks them)
__all__ = [
    "Completion",
    "TeacherClient",
    "TeacherFailure",
    "TeacherRequest",
    "TeacherResponse",
    "json_schema_format",
]


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
        self._transport = Transport(config, config.api_key())
        self._n_supported = config.supports_n
        self._structured_supported = config.structured_output != "none"

    # ----------------------------------------------------------------------------------------- public API

    @property
    def structured_output_native(self) -> bool:
        """False once the server rejected ``response_format`` (JSON is then asked for in words)."""
        return self._structured_supported

    async def generate(self, request: TeacherRequest) -> list[Completion]:
        """The ``n`` samples of ``request``; raises TeacherFailure if the call is given up on."""
        sampling = self.config.sampling(request.sampling)
        keys = self.cache_keys(request, sampling)
        # an identical request already in flight (same prompt, sampling and samples) is joined, not paid twice
        state = self._transport.state()
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
            completions = await self._generate_keys(request, sampling, keys)
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

    async def chat(self, messages: list[Message], **options: Unpack[RequestOptions]) -> list[Completion]:
        """``generate`` for chat messages (``n``, ``sampling``, ``response_format``, ``stage`` as keywords)."""
        return await self.generate(TeacherRequest(messages=messages, **options))

    async def complete(self, prompt: str, **options: Unpack[RequestOptions]) -> list[Completion]:
        """``generate`` for a raw prompt on the completion endpoint (keywords as for ``chat``)."""
        return await self.generate(TeacherRequest(prompt=prompt, **options))

    async def run(self, request: TeacherRequest) -> TeacherResponse:
        """Like ``generate``, but never raises: a failure is a field of the response."""
        try:
            completions = await self.generate(request)
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

        Several ``run_many`` calls may run at once on one loop: they share its session and its limit.
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
        """Synchronous batch entry point; runs an event loop of its own (in a thread if the caller is
        already inside one) and closes that loop's session at the end."""

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
        await self._transport.aclose()

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

    # ----------------------------------------------------------------------------------------- internals

    def _endpoint_of(self, request: TeacherRequest) -> str:
        if request.prompt is not None:
            return "completion"
        return self.config.endpoint

    async def _generate_keys(
        self, request: TeacherRequest, sampling: Sampling, keys: list[str]
    ) -> list[Completion]:
        """Cached samples first, then the missing ones in as few calls as the server allows."""
        done: dict[int, Completion] = {}
        if self.cache is not None:
            stored = self.cache.get_many(keys)
            for index, key in enumerate(keys):
                if key in stored:
                    done[index] = Completion.from_payload(stored[key], index, cached=True)
            if done:
                self.accounting.record_cache_hits(self.name, self.config.model, request.stage, len(done))
        missing = [i for i in range(request.n) if i not in done]
        while missing:
            batch = missing if (self._n_supported and len(missing) > 1) else missing[:1]
            try:
                choices = await self._call(request, sampling, batch)
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
                done[index] = Completion.from_payload(payload, index, cached=False)
            missing = [i for i in missing if i not in done]
        return [done[i] for i in range(request.n)]

    def _body(
        self, request: TeacherRequest, sampling: Sampling, batch: list[int]
    ) -> tuple[str, dict[str, Any]]:
        return request_body(
            model=self.config.local_name if self.config.is_local else self.config.model,
            extra_body=self.config.extra_body,
            endpoint=self._endpoint_of(request),
            messages=request.messages,
            prompt=request.prompt,
            response_format=request.response_format,
            structured_output=self.config.structured_output if self._structured_supported else "none",
            sampling=sampling,
            batch=batch,
        )

    async def _call(
        self, request: TeacherRequest, sampling: Sampling, batch: list[int]
    ) -> list[dict[str, Any]]:
        """One logical call with retries; returns the choices as cache payloads (paid calls accounted)."""
        attempt = 0
        while True:
            path, body = self._body(request, sampling, batch)
            try:
                return await self._attempt(path, body, request)
            except Retryable as exc:
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
                delay = backoff_delay(
                    attempt,
                    exc.retry_after,
                    base_s=self.config.backoff_base_s,
                    max_s=self.config.backoff_max_s,
                    retry_after_max_s=self.config.retry_after_max_s,
                    rng=self._rng,
                )
                self.accounting.record_retry(self.name, self.config.model, request.stage, exc.reason)
                log.debug("teacher %s: %s, retry %d in %.2fs", self.name, exc.reason, attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)

    def _check_budget(self) -> None:
        """Run with a slot held, so every call that held one before is already accounted."""
        budget = self.config.budget_usd
        if budget is not None and self.accounting.usage(teacher=self.name).cost_usd >= budget:
            raise TeacherFailure("budget_exhausted", f"teacher {self.name} has spent its ${budget:g} budget")

    async def _attempt(
        self, path: str, body: dict[str, Any], request: TeacherRequest
    ) -> list[dict[str, Any]]:
        """One HTTP attempt, judged: payloads of a good answer (accounted), else Retryable or TeacherFailure."""
        reply = await self._transport.post(path, body, admit=self._check_budget)
        raise_for_status(reply.status, reply.body, reply.retry_after, sent_format="response_format" in body)
        try:
            payloads, usage = read_choices(reply.body, self._endpoint_of(request))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Retryable("bad_response", f"{type(exc).__name__}: {reply.body[:200]!r}") from exc
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        cost = (
            prompt_tokens * self.config.price_per_1k_input
            + completion_tokens * self.config.price_per_1k_output
        ) / 1000.0
        self.accounting.record_call(
            self.name,
            self.config.model,
            request.stage,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost,
            latency_s=reply.latency_s,
            samples=len(payloads),
            sent_at=reply.sent_at,
        )
        # the slot is free and the call accounted (so a budget check sees it): let the request waiting for the
        # slot go out before this answer is stored and wrapped, keeping that work off the server's busy path
        await asyncio.sleep(0)
        return payloads
