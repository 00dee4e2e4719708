"""The LLM gateway: one LiteLLM Router for chat, streaming and embeddings, with typed errors."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

# LiteLLM fetches its cost map from the network at import time unless told otherwise.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
from litellm import Router  # noqa: E402

from ai_platform import telemetry  # noqa: E402
from ai_platform.gateway.errors import (  # noqa: E402
    BadRequest,
    GatewayError,
    GatewayTimeout,
    MalformedResponse,
    ProviderRefusedCredentials,
    ProviderUnavailable,
    RateLimited,
)
from ai_platform.gateway.results import Completion, Embeddings, Usage  # noqa: E402
from ai_platform.gateway.settings import GatewaySettings  # noqa: E402
from ai_platform.gateway.tracing import ProviderCall  # noqa: E402

log = logging.getLogger("ai_platform.gateway")
litellm.suppress_debug_info = True
litellm.telemetry = False
# Retries are the router's job (num_retries). LiteLLM's embedding path reads max_retries=0 as
# "unset" and falls back to this default, which would add two hidden SDK retries with backoff.
litellm.DEFAULT_MAX_RETRIES = 0
if not os.environ.get("LOG_LEVEL"):  # an operator who asks for a level gets LiteLLM's lines too
    for _name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
        logging.getLogger(_name).setLevel(logging.CRITICAL)


class Stream:
    """Iterate for the pieces of the answer; `completion` is complete once iteration ends."""

    def __init__(self, chunks: Iterator, model: str, gateway: Gateway) -> None:
        self._chunks, self._model, self._gateway = chunks, model, gateway
        self.pieces: list[str] = []
        self.completion: Completion | None = None

    def __iter__(self) -> Iterator[str]:
        served, usage, finish = self._model, Usage(0, 0), "stop"
        try:
            for chunk in self._chunks:
                served = getattr(chunk, "model", None) or served
                if getattr(chunk, "usage", None):
                    usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                for choice in chunk.choices or []:
                    finish = getattr(choice, "finish_reason", None) or finish
                    piece = getattr(choice.delta, "content", None)
                    if piece:
                        self.pieces.append(piece)
                        yield piece
        except Exception as exc:
            raise self._gateway._translate(exc, self._model) from None
        self.completion = Completion("".join(self.pieces), served, usage, finish)


class Gateway:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._router = Router(
            model_list=[
                {
                    "model_name": d.name,
                    "litellm_params": {
                        "model": d.provider_model,
                        "api_base": d.api_base,
                        "api_key": d.api_key,
                        "timeout": settings.timeout_s,
                        # Retries are the router's job, counted once, not also the SDK's.
                        "max_retries": 0,
                    },
                }
                for d in settings.deployments
            ],
            fallbacks=[{primary: list(backups)} for primary, backups in settings.fallbacks.items()],
            num_retries=settings.num_retries,
            timeout=settings.timeout_s,
            retry_after=0,
            # One request's failure is that request's: a cooled-down model would turn the next callers away,
            # other tenants' too, with "no deployments available" while the provider answers again.
            disable_cooldowns=True,
        )

    def warm_up(self) -> None:
        """Run LiteLLM's first-call setup now, with a canned answer and no provider call, so the first requests
        a service takes do not pay for it: a request arriving while another waits on a slow model was held up
        long enough to miss a 1 s deadline (issue 18, the timeouts scenario)."""
        if self.settings.chat_model not in self.models:
            return
        try:
            self._router.completion(model=self.settings.chat_model, messages=[{"role": "user", "content": "warm-up"}],
                                    mock_response="ready")
        except Exception as exc:  # noqa: BLE001 - a speed-up only: the first request pays instead
            log.warning("the gateway's warm-up failed: %s", type(exc).__name__)

    def complete(self, messages: list[dict], *, model: str | None = None, temperature: float | None = None,
                 max_tokens: int | None = None, top_p: float | None = None,
                 stop: list[str] | None = None) -> Completion:
        model = model or self.settings.chat_model
        with self._call(model, "chat") as call:
            if telemetry.capture_content():
                call.span.set_attribute("gen_ai.input.messages", json.dumps(messages, ensure_ascii=False))
            try:
                response = self._router.completion(model=model, messages=messages,
                                                   **_params(temperature, max_tokens, top_p, stop))
                text = response.choices[0].message.content
                finish = response.choices[0].finish_reason or "stop"
            except Exception as exc:
                raise self._translate(exc, model) from None
            if text is None:
                raise MalformedResponse(model, "the response carried no message text")
            usage = Usage(response.usage.prompt_tokens, response.usage.completion_tokens)
            call.used(usage)
            if telemetry.capture_content():
                call.span.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "content": text}]))
        return Completion(text, response.model or model, usage, finish)

    def stream(self, messages: list[dict], *, model: str | None = None, temperature: float | None = None,
               max_tokens: int | None = None, top_p: float | None = None, stop: list[str] | None = None) -> Stream:
        model = model or self.settings.chat_model
        with self._call(model, "chat"):  # the stream's first response; its pieces follow outside the span
            try:
                chunks = self._router.completion(
                    model=model, messages=messages, stream=True, stream_options={"include_usage": True},
                    **_params(temperature, max_tokens, top_p, stop),
                )
            except Exception as exc:
                raise self._translate(exc, model) from None
        return Stream(iter(chunks), model, self)

    def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        return self.embeddings(texts, model=model).vectors

    def embeddings(self, texts: list[str], *, model: str | None = None) -> Embeddings:
        """The vectors in the order of the texts, with the model that made them and the tokens used."""
        model = model or self.settings.embedding_model
        with self._call(model, "embeddings") as call:
            try:
                response = self._router.embedding(model=model, input=texts)
                vectors = [item["embedding"] for item in sorted(response.data, key=lambda item: item["index"])]
                tokens = getattr(response.usage, "prompt_tokens", 0) or 0
            except Exception as exc:
                raise self._translate(exc, model) from None
            if len(vectors) != len(texts):
                raise MalformedResponse(model, f"asked for {len(texts)} embeddings, received {len(vectors)}")
            call.used(Usage(tokens, 0))
        return Embeddings(vectors, getattr(response, "model", None) or model, Usage(tokens, 0))

    def _call(self, model: str, operation: str) -> ProviderCall:
        deployment = next((d for d in self.settings.deployments if d.name == model), None)
        provider_model = deployment.provider_model if deployment else model
        provider = provider_model.split("/", 1)[0] if "/" in provider_model else "openai"
        return ProviderCall(model, operation, provider, self.settings.prices.get(model))

    @property
    def models(self) -> tuple[str, ...]:
        """The model names callers may ask for."""
        return tuple(d.name for d in self.settings.deployments)

    def _translate(self, exc: Exception, model: str) -> GatewayError:
        """The provider's failure in the gateway's words. The provider's text only decides the class: it
        may quote the key, so no caller, log line or span ever sees it."""
        if isinstance(exc, GatewayError):
            return exc
        text, cause = str(exc).lower(), self._safe_cause(exc, model)
        if isinstance(exc, litellm.Timeout):
            return GatewayTimeout(model, cause, self.settings.timeout_s)
        if isinstance(exc, litellm.RateLimitError):
            return RateLimited(model, cause)
        if isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError):
            return ProviderRefusedCredentials(model, cause)
        if isinstance(exc, litellm.BadRequestError | litellm.NotFoundError):
            return BadRequest(model, cause)
        if isinstance(exc, litellm.ServiceUnavailableError | litellm.InternalServerError |
                      litellm.APIConnectionError):
            if "json" in text or "decode" in text or "expecting" in text:
                return MalformedResponse(model, cause)
            return ProviderUnavailable(model, cause)
        if isinstance(exc, ValueError | LookupError | TypeError | AttributeError):  # an answer with nothing to read
            return MalformedResponse(model, cause)
        # An error LiteLLM did not classify (its APIError, for a 403 say) still carries the provider's status.
        status = getattr(exc, "status_code", None)
        if status in (401, 403):
            return ProviderRefusedCredentials(model, cause)
        if status == 429:
            return RateLimited(model, cause)
        if isinstance(status, int) and 400 <= status < 500:
            return BadRequest(model, cause)
        if isinstance(status, int) and status >= 500:
            return ProviderUnavailable(model, cause)
        return GatewayError(model, cause)

    def _safe_cause(self, exc: Exception, model: str) -> str:
        """What failed, in words that cannot carry a secret: the provider, its error class and HTTP status."""
        status = getattr(exc, "status_code", None)
        return f"{self._call(model, 'chat').provider} answered with {type(exc).__name__}" + (
            f" (HTTP {status})" if isinstance(status, int) else "")


def _params(temperature: float | None, max_tokens: int | None, top_p: float | None = None,
            stop: list[str] | None = None) -> dict:
    """The sampling parameters the caller set; the provider's defaults for the rest."""
    given = {"temperature": temperature, "max_tokens": max_tokens, "top_p": top_p, "stop": stop or None}
    return {name: value for name, value in given.items() if value is not None}
