"""OpenTelemetry for the platform: the span and metric names of CONTRACTS.md, the tenant on every
span, and the exporters a service process sets up.

Code everywhere uses the OpenTelemetry API (`tracer`, the instruments below); without an SDK set
up those calls cost next to nothing. `setup_telemetry` (in `setup.py`) installs the SDK in a
service process when the standard `OTEL_*` variables ask for export.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import baggage, context, metrics, trace
from opentelemetry.trace import Span, Status, StatusCode

TENANT = "tenant.id"  # on every span and metric point: whose work it was
tracer = trace.get_tracer("ai_platform")
meter = metrics.get_meter("ai_platform")

# Prompt and answer text go on spans only when asked for, as the GenAI conventions make it opt-in.
CAPTURE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

provider_calls = meter.create_counter("gateway.provider.calls", description="Calls to a model provider")
cache_hits = meter.create_counter("gateway.cache.hits", description="Answers served from the gateway cache")
cache_misses = meter.create_counter("gateway.cache.misses", description="Cache lookups that found nothing")
request_duration = meter.create_histogram("gateway.request.duration", unit="s", description="Gateway call time")
tokens_used = meter.create_histogram("gateway.tokens.used", unit="{token}", description="Tokens per call, by type")
cost = meter.create_counter("gateway.cost", unit="USD", description="What calls cost at the operator's prices")
queries_completed = meter.create_counter("rag.queries.completed", description="RAG questions answered")
documents_ingested = meter.create_counter("rag.documents.ingested", description="Documents stored")
query_duration = meter.create_histogram("rag.query.duration", unit="s", description="RAG question time")
search_duration = meter.create_histogram("rag.search.duration", unit="s", description="Vector search time")
tasks_executed = meter.create_counter("agent.tasks.executed", description="Agent tasks, by status")
task_duration = meter.create_histogram("agent.task.duration", unit="s", description="Agent task time")


def capture_content() -> bool:
    return os.environ.get(CAPTURE_CONTENT, "").strip().lower() == "true"


def current_tenant() -> str | None:
    """The tenant the current work is for, as the entry point (HTTP or NATS) put it in the baggage."""
    value = baggage.get_baggage(TENANT)
    return str(value) if value else None


@contextmanager
def for_tenant(tenant_id: str) -> Iterator[None]:
    """Work inside is the tenant's: its spans and metric points carry the id, and so do calls it makes."""
    if not tenant_id:  # an open route (/health): nobody's
        yield
        return
    token = context.attach(baggage.set_baggage(TENANT, tenant_id))
    try:
        yield
    finally:
        context.detach(token)


def outcome(error: BaseException | None) -> dict[str, str]:
    """How an operation ended, for its counters and durations: status ok, or status error with the
    error's type (the semantic conventions' error.type), so a failure is counted where it happened."""
    return {"status": "ok"} if error is None else {"status": "error", "error.type": type(error).__name__}


def tenant_attributes(**more) -> dict:
    """Metric attributes: the current tenant and whatever else the metric is split by."""
    tenant = current_tenant()
    return {**({TENANT: tenant} if tenant else {}), **{k: v for k, v in more.items() if v is not None}}


@contextmanager
def span(name: str, **attributes) -> Iterator[Span]:
    """A span of the platform's own; a failure inside marks it as an error and records the exception."""
    with tracer.start_as_current_span(name, attributes={k: v for k, v in attributes.items() if v is not None},
                                      record_exception=False, set_status_on_exception=False) as current:
        try:
            yield current
        except BaseException as exc:
            mark_failed(current, exc)
            raise


def mark_failed(failed: Span, exc: BaseException) -> None:
    """The span's operation failed: error status with the cause, and the exception recorded as an event."""
    failed.record_exception(exc)
    failed.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:300]))


__all__ = [
    "TENANT", "capture_content", "current_tenant", "for_tenant", "mark_failed", "meter", "outcome", "span",
    "tenant_attributes",
    "tracer",
]
