"""The LLM gateway (LiteLLM Router): chat, streaming, embeddings, fallbacks, timeouts, usage.

`Gateway` and `Stream` load on first use: importing LiteLLM takes seconds, and code that only
reads results or errors (RAG, agents, most services) never needs it.
"""

from ai_platform.gateway.errors import (
    BadRequest,
    GatewayError,
    GatewayTimeout,
    MalformedResponse,
    ProviderUnavailable,
    RateLimited,
)
from ai_platform.gateway.results import Completion, Embeddings, Usage
from ai_platform.gateway.settings import Deployment, GatewaySettings, Price

__all__ = [
    "BadRequest", "Completion", "Deployment", "Embeddings", "Gateway", "GatewayError", "GatewaySettings",
    "GatewayTimeout", "MalformedResponse", "Price", "ProviderUnavailable", "RateLimited", "Stream", "Usage",
]


def __getattr__(name: str):
    if name in ("Gateway", "Stream"):
        from ai_platform.gateway import gateway

        return getattr(gateway, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
