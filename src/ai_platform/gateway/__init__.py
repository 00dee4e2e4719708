"""The LLM gateway (LiteLLM Router): chat, streaming, embeddings, fallbacks, timeouts, usage."""

from ai_platform.gateway.errors import (
    BadRequest,
    GatewayError,
    GatewayTimeout,
    MalformedResponse,
    ProviderUnavailable,
    RateLimited,
)
from ai_platform.gateway.gateway import Completion, Gateway, Stream, Usage
from ai_platform.gateway.settings import Deployment, GatewaySettings

__all__ = [
    "BadRequest", "Completion", "Deployment", "Gateway", "GatewayError", "GatewaySettings",
    "GatewayTimeout", "MalformedResponse", "ProviderUnavailable", "RateLimited", "Stream", "Usage",
]
