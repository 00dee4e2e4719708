"""Typed gateway errors: each names the model asked for and the cause.

The cause is the gateway's own words (the provider's error class and HTTP status), never the provider's
error text, which may quote the API key the platform presented."""

from __future__ import annotations


class GatewayError(Exception):
    reason = "gateway_error"

    def __init__(self, model: str, cause: str) -> None:
        self.model, self.cause = model, cause
        super().__init__(f"{self.describe()} for model {model!r}: {cause}")

    def describe(self) -> str:
        return "the language model call failed"


class RateLimited(GatewayError):
    reason = "rate_limited"

    def describe(self) -> str:
        return "the provider rate-limited the request"


class ProviderUnavailable(GatewayError):
    reason = "provider_unavailable"

    def describe(self) -> str:
        return "the provider is unavailable"


class GatewayTimeout(GatewayError):
    reason = "timeout"

    def __init__(self, model: str, cause: str, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        super().__init__(model, cause)

    def describe(self) -> str:
        return f"the provider did not answer within {self.timeout_s:g} s"


class BadRequest(GatewayError):
    reason = "bad_request"

    def describe(self) -> str:
        return "the provider refused the request as invalid"


class ProviderRefusedCredentials(GatewayError):
    reason = "provider_authentication"

    def describe(self) -> str:
        return "the provider refused the platform's credentials"


class MalformedResponse(GatewayError):
    reason = "malformed_response"

    def describe(self) -> str:
        return "the provider sent a response that could not be read"
