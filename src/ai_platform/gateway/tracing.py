"""One call through the gateway to a model provider, as traces and metrics see it: the spans
gateway.generate and gateway.provider.call with the GenAI attributes, the provider call counter,
the duration, the tokens used and, where the operator set a price, the cost, all for the current tenant."""

from __future__ import annotations

import time
from contextlib import ExitStack

from opentelemetry.trace import Span

from ai_platform import telemetry
from ai_platform.gateway.results import Usage
from ai_platform.gateway.settings import Price


class ProviderCall:
    """`with gateway._call(model, "chat") as call:` ... `call.used(usage)` once the provider answered."""

    def __init__(self, model: str, operation: str, provider: str, price: Price | None = None) -> None:
        self.model, self.operation, self.provider, self.price = model, operation, provider, price
        self.span: Span
        self._stack = ExitStack()

    def __enter__(self) -> ProviderCall:
        self._began = time.perf_counter()
        self._stack.enter_context(telemetry.span("gateway.generate", **{
            "gateway.model": self.model, "gateway.tenant_id": telemetry.current_tenant()}))
        self.span = self._stack.enter_context(telemetry.span("gateway.provider.call", **{
            "provider": self.provider, "model": self.model, "gen_ai.operation.name": self.operation,
            "gen_ai.provider.name": self.provider, "gen_ai.request.model": self.model}))
        return self

    def used(self, usage: Usage) -> None:
        self.span.set_attributes({"gen_ai.usage.input_tokens": usage.input_tokens,
                                  "gen_ai.usage.output_tokens": usage.output_tokens,
                                  "tokens.input": usage.input_tokens, "tokens.output": usage.output_tokens})
        for kind, count in (("input", usage.input_tokens), ("output", usage.output_tokens)):
            telemetry.tokens_used.record(count, telemetry.tenant_attributes(model=self.model, type=kind))
        if self.price is not None:  # the operator's price list: what this call cost, for the tenant's bill
            cost = self.price.of(usage.input_tokens, usage.output_tokens)
            self.span.set_attribute("gateway.cost.usd", cost)
            telemetry.cost.add(cost, telemetry.tenant_attributes(model=self.model))

    def __exit__(self, kind, error, tb) -> None:
        outcome = telemetry.outcome(error)
        telemetry.provider_calls.add(1, telemetry.tenant_attributes(model=self.model, **outcome))
        telemetry.request_duration.record(time.perf_counter() - self._began,
                                          telemetry.tenant_attributes(model=self.model, **outcome))
        self._stack.__exit__(kind, error, tb)
