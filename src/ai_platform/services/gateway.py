"""The gateway service: the platform's one door to the language models, over HTTP.

Routes of the contract (`/api/v1/gateway/...`, envelopes) and the OpenAI wire format
(`/v1/chat/completions` with streaming, `/v1/embeddings`), so any OpenAI client can use it.
The only service that imports LiteLLM. Non-streamed answers are cached in NATS (`cache.py`) when
`NATS_URL` is set, for `GATEWAY_CACHE_TTL_S` seconds, and shared by every gateway instance.
"""

import asyncio
import base64
import json
import os
import struct
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Annotated, Literal

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ai_platform import telemetry
from ai_platform.gateway import (
    Completion,
    Deployment,
    Gateway,
    GatewayError,
    GatewaySettings,
    GatewayTimeout,
    Price,
    Stream,
)
from ai_platform.messaging import GatewayWorker
from ai_platform.services.cache import DEFAULT_TTL_S, CacheUnavailable, ResponseCache, request_key
from ai_platform.services.config import number, required
from ai_platform.services.http import ServiceError, caller, create_service, ok, tls
from ai_platform.services.inputs import (
    MAX_NAME,
    MAX_TOKENS,
    Name,
    NonBlank,
    Strict,
    Text,
    integer,
    non_blank,
    one_of,
    text,
)
from ai_platform.services.nats_workers import HostedWorkers, workers_wanted
from ai_platform.services.openapi import DEPENDENCIES, answers

PROVIDER = "model provider"


class Turn(Strict):
    role: Literal["system", "user", "assistant"]  # no "tool": the gateway calls no tools (a 400 names it)
    content: Text
    name: Name = None  # OpenAI clients may name a participant; it does not change the answer


Conversation = Annotated[list[Turn], Field(min_length=1, max_length=1000)]
MaxTokens = integer(1, MAX_TOKENS)
Temperature = Annotated[float, Field(ge=0, le=2)]
TopP = Annotated[float, Field(gt=0, le=1)]
StopWords = Annotated[list[non_blank(MAX_NAME)], Field(max_length=4)]
Texts = Annotated[list[NonBlank], Field(min_length=1, max_length=2048)]


def request_models(models: tuple[str, ...]) -> SimpleNamespace:
    """The request bodies of a gateway that offers `models`: its document lists them, so a model name it does
    not offer is a request the contract forbids (400 naming the field)."""
    Model = Literal[models]  # noqa: N806 - a type

    class GenerateRequest(one_of("prompt", "messages")):
        prompt: NonBlank = None
        messages: Conversation = None
        model: Model = None
        max_tokens: MaxTokens = None
        temperature: Temperature = None
        top_p: TopP = None
        stop: StopWords = None
        stream: bool = False

        def conversation(self) -> list[dict]:
            if self.messages is not None:
                return [m.model_dump(exclude={"name"}) for m in self.messages]
            return [{"role": "user", "content": self.prompt}]

    class EmbeddingsRequest(Strict):
        texts: Texts
        model: Model = None

    class OpenAIChatRequest(Strict):
        # Extras are let in to be refused by name (n > 1, tools, response_format, logprobs...: what the gateway
        # does not do is never silently dropped); the document says none are accepted.
        model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})

        model: Model
        messages: Conversation
        max_tokens: MaxTokens = None
        temperature: Temperature = None
        top_p: TopP = None
        stop: non_blank(MAX_NAME) | StopWords = None
        stream: bool = False
        n: integer(1, 1) = 1  # one choice: the gateway answers with one
        user: text(MAX_NAME) = None
        stream_options: dict[Literal["include_usage"], bool] = None

        def refuse_unsupported(self) -> None:
            unsupported = sorted(self.model_extra or {})
            if unsupported:
                raise ServiceError(400, "VALIDATION_ERROR", f"The gateway does not support {', '.join(unsupported)}.",
                                   {"field": unsupported[0], "unsupported": unsupported})

    class OpenAIEmbeddingsRequest(Strict):
        model: Model
        input: NonBlank | Texts
        encoding_format: Literal["float", "base64"] = "float"  # OpenAI's client asks for base64 by default
        user: text(MAX_NAME) = None

    return SimpleNamespace(generate=GenerateRequest, embeddings=EmbeddingsRequest, openai_chat=OpenAIChatRequest,
                           openai_embeddings=OpenAIEmbeddingsRequest)


def sampling(body: Strict) -> dict:
    """The caller's sampling parameters, as the gateway passes them to the model."""
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    return {"temperature": body.temperature, "max_tokens": body.max_tokens, "top_p": body.top_p, "stop": stop}


def settings_from_env(environ: Mapping[str, str] = os.environ) -> GatewaySettings:
    base, key = required("LLM_API_BASE", environ), environ.get("LLM_API_KEY") or None
    models = {"chat": required("LLM_CHAT_MODEL", environ), "embedding": required("LLM_EMBEDDING_MODEL", environ)}
    if environ.get("LLM_BACKUP_MODEL"):
        models["chat-backup"] = environ["LLM_BACKUP_MODEL"]
    fallbacks: dict[str, list[str]] = {}
    for pair in filter(None, environ.get("GATEWAY_FALLBACKS", "").split(",")):
        primary, _, backup = pair.partition(":")
        fallbacks.setdefault(primary.strip(), []).append(backup.strip())
    return GatewaySettings(
        deployments=tuple(Deployment(name, provider, base, key) for name, provider in models.items()),
        fallbacks=fallbacks, timeout_s=number("GATEWAY_TIMEOUT_S", 60.0, environ),
        prices=prices_from(environ.get("GATEWAY_PRICES", ""), tuple(models)))


def prices_from(listed: str, models: tuple[str, ...]) -> dict[str, Price]:
    """`chat=2.50/10.00,embedding=0.02`: USD per million input/output tokens, by model name."""
    prices = {}
    for entry in filter(None, (part.strip() for part in listed.split(","))):
        model, _, amounts = entry.partition("=")
        try:
            prices[model.strip()] = Price(*(float(amount) for amount in amounts.split("/")))
        except (TypeError, ValueError):
            raise ValueError(f"GATEWAY_PRICES: {entry!r} is not <model>=<input per million>[/<output per million>]"
                             ) from None
        if model.strip() not in models:
            raise ValueError(f"GATEWAY_PRICES names {model.strip()!r}; the gateway offers {', '.join(models)}")
    return prices


def create_app():
    settings = settings_from_env()
    gateway = Gateway(settings)
    base = settings.deployments[0].api_base or ""
    cache = ResponseCache(os.environ.get("NATS_URL") or None, number("GATEWAY_CACHE_TTL_S", DEFAULT_TTL_S))
    served = tuple(d.name for d in settings.deployments)
    workers = HostedWorkers("gateway", lambda bus: [GatewayWorker(bus, None, gateway.complete, served)])
    bodies = request_models(tuple(gateway.models))
    GenerateRequest, EmbeddingsRequest = bodies.generate, bodies.embeddings  # noqa: N806 - types
    OpenAIChatRequest, OpenAIEmbeddingsRequest = bodies.openai_chat, bodies.openai_embeddings  # noqa: N806

    @asynccontextmanager
    async def lifespan(_app):
        await asyncio.to_thread(gateway.warm_up)
        await cache.connect()  # best effort: while NATS cannot be reached, /ready names it
        await workers.start()
        yield
        await workers.close()
        await cache.close()

    async def provider_problem() -> str | None:
        try:
            async with httpx.AsyncClient(timeout=2.0, verify=tls()) as client:
                answer = await client.get(f"{base.rstrip('/')}/models")
        except httpx.HTTPError as exc:
            return f"cannot be reached: {type(exc).__name__}"
        refused = answer.status_code in (401, 403)  # the platform's key is not (or no longer) accepted
        return None if answer.status_code < 500 and not refused else f"answered {answer.status_code}"

    async def ready() -> dict[str, str | None]:
        provider, nats = await asyncio.gather(provider_problem(), cache.problem())
        checked = {PROVIDER: provider}
        if cache.enabled or workers_wanted():  # NATS holds the cache and carries the workers' requests
            checked["nats"] = nats or workers.problem()
        return checked

    app = create_service("gateway", ready, lifespan)

    def model_of(requested: str | None, default: str) -> str:
        return requested or default  # a model the gateway does not offer is refused by the body's own type

    async def completion(tenant_id: str, body: Strict,
                         conversation: list[dict]) -> tuple[Completion, bool]:
        """The answer, and whether it came from the cache; a model's answer is stored, a failure is not."""
        model = model_of(body.model, settings.chat_model)
        key = request_key(tenant_id, model, conversation, **sampling(body))
        with telemetry.span("gateway.cache.check", **{"gateway.model": model}) as checking:
            cached = await cache.lookup(tenant_id, key)
            checking.set_attribute("cache.hit", cached is not None)
        if cache.enabled:
            counter = telemetry.cache_hits if cached else telemetry.cache_misses
            counter.add(1, telemetry.tenant_attributes(model=model))
        if cached is not None:
            return cached, True
        done = await run_in_threadpool(_guarded, lambda: gateway.complete(conversation, model=model, **sampling(body)))
        await cache.store(key, done)
        return done, False

    def stream(body: Strict, conversation: list[dict]) -> Stream:
        model = model_of(body.model, settings.chat_model)
        return _guarded(lambda: gateway.stream(conversation, model=model, **sampling(body)))

    @app.post("/api/v1/gateway/generate", **answers(*DEPENDENCIES, streams="also"))
    async def generate(request: Request, body: GenerateRequest):
        if body.stream:  # never cached: the pieces come from the model as it writes them
            return _sse(_contract_events(await run_in_threadpool(stream, body, body.conversation())))
        done, cached = await completion(caller(request).tenant_id, body, body.conversation())
        return ok(request, _generated(done, cached))

    @app.post("/api/v1/gateway/generate/stream", **answers(*DEPENDENCIES, streams=True))
    def generate_stream(body: GenerateRequest):
        return _sse(_contract_events(stream(body, body.conversation())))

    @app.post("/api/v1/gateway/embeddings", **answers(*DEPENDENCIES))
    def embeddings(request: Request, body: EmbeddingsRequest):
        model = model_of(body.model, settings.embedding_model)
        made = _guarded(lambda: gateway.embeddings(body.texts, model=model))
        return ok(request, {"embeddings": made.vectors, "model": made.model,
                            "usage": {"prompt_tokens": made.usage.input_tokens,
                                      "total_tokens": made.usage.input_tokens}})

    @app.get("/api/v1/gateway/cache/stats", **answers(503))
    async def cache_stats(request: Request):
        try:
            return ok(request, await cache.stats(caller(request).tenant_id))
        except CacheUnavailable as exc:
            raise ServiceError(503, "DEPENDENCY_UNAVAILABLE", f"The response cache cannot be reached: {exc}",
                               {"dependency": "nats"}) from None

    @app.post("/v1/chat/completions", **answers(*DEPENDENCIES, streams="also"))
    async def openai_chat(request: Request, body: OpenAIChatRequest):
        body.refuse_unsupported()
        conversation = [m.model_dump(exclude={"name"}) for m in body.messages]
        if body.stream:
            return _sse(_openai_events(await run_in_threadpool(stream, body, conversation), body.model), done=True)
        done, _ = await completion(caller(request).tenant_id, body, conversation)
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": "chat.completion", "created": int(time.time()),
            "model": done.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": done.text},
                         "finish_reason": done.finish_reason}],
            "usage": _usage(done)})

    @app.get("/v1/models")
    def openai_models():
        return JSONResponse({"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "ai-platform"} for name in gateway.models]})

    @app.post("/v1/embeddings", **answers(*DEPENDENCIES))
    def openai_embeddings(body: OpenAIEmbeddingsRequest):
        texts = [body.input] if isinstance(body.input, str) else body.input
        made = _guarded(lambda: gateway.embeddings(texts, model=model_of(body.model, settings.embedding_model)))
        return JSONResponse({
            "object": "list", "model": made.model,
            "data": [{"object": "embedding", "index": i, "embedding": _encoded(v, body.encoding_format)}
                     for i, v in enumerate(made.vectors)],
            "usage": {"prompt_tokens": made.usage.input_tokens, "total_tokens": made.usage.input_tokens}})

    return app


def _guarded(call):
    """The gateway's typed errors as the contract's statuses: the provider is this service's dependency."""
    try:
        return call()
    except GatewayTimeout as exc:
        raise ServiceError(504, "DEPENDENCY_TIMEOUT", str(exc), _details(exc)) from None
    except GatewayError as exc:
        raise ServiceError(502, "DEPENDENCY_ERROR", str(exc), _details(exc)) from None


def _details(exc: GatewayError) -> dict:
    return {"dependency": PROVIDER, "model": exc.model, "reason": exc.reason, "cause": exc.cause}


def _encoded(vector: list[float], encoding_format: str) -> list[float] | str:
    """OpenAI's base64 form: the vector's 32-bit little-endian floats."""
    if encoding_format == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def _usage(done: Completion) -> dict:
    return {"prompt_tokens": done.usage.input_tokens, "completion_tokens": done.usage.output_tokens,
            "total_tokens": done.usage.total_tokens}


def _generated(done: Completion, cached: bool) -> dict:
    return {"text": done.text, "model": done.model, "usage": _usage(done), "finish_reason": done.finish_reason,
            "cached": cached}


def _contract_events(stream: Stream) -> Iterator[dict]:
    """One event per piece, then the usage; a failure midway is an error event, not a cut stream."""
    try:
        for piece in stream:
            yield {"text": piece}
    except GatewayError as exc:
        yield {"error": {"code": "DEPENDENCY_ERROR", "message": str(exc), "details": _details(exc)}}
        return
    done = stream.completion
    yield {"done": True, "model": done.model, "usage": _usage(done), "finish_reason": done.finish_reason}


def _openai_events(stream: Stream, model: str) -> Iterator[dict]:
    ident, created = f"chatcmpl-{uuid.uuid4().hex[:16]}", int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra) -> dict:
        return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}

    yield chunk({"role": "assistant", "content": ""})
    try:
        for piece in stream:
            yield chunk({"content": piece})
    except GatewayError as exc:
        yield {"error": {"message": str(exc), "type": exc.reason, "code": "DEPENDENCY_ERROR"}}
        return
    yield chunk({}, stream.completion.finish_reason, usage=_usage(stream.completion))


def _sse(events: Iterator[dict], *, done: bool = False) -> StreamingResponse:
    def lines() -> Iterator[bytes]:
        for event in events:
            yield b"data: " + json.dumps(event).encode() + b"\n\n"
        if done:
            yield b"data: [DONE]\n\n"
    return StreamingResponse(lines(), media_type="text/event-stream")
