"""The SDK a service process runs: OTLP/HTTP export of traces and metrics, configured by the standard
`OTEL_*` variables, the tenant stamped on every span, and the FastAPI and httpx instrumentation."""

from __future__ import annotations

import os

from opentelemetry import baggage, metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from ai_platform.telemetry import TENANT

TENANT_HEADER = b"x-tenant-id"  # ASGI header names are lower-case bytes
EXPORT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


class TenantOnEverySpan(SpanProcessor):
    """Copies the tenant from the baggage onto each span as it starts, the instrumentation's spans too."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        tenant = baggage.get_baggage(TENANT, parent_context)
        if tenant:
            span.set_attribute(TENANT, str(tenant))


def export_wanted(environ=os.environ) -> bool:
    disabled = environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return not disabled and any(environ.get(name) for name in EXPORT_VARIABLES)


def setup_telemetry(service_name: str) -> TracerProvider | None:
    """Install the SDK when export is asked for; the caller shuts the provider down on exit (flushes)."""
    if not export_wanted():
        return None
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    named = {"service.name": os.environ.get("OTEL_SERVICE_NAME") or service_name}
    if os.environ.get("SERVICE_INSTANCE", "").strip():  # one of several replicas: which one did the work
        named["service.instance.id"] = os.environ["SERVICE_INSTANCE"].strip()
    resource = Resource.create(named)
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(TenantOnEverySpan())
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(OTLPMetricExporter())  # interval: OTEL_METRIC_EXPORT_INTERVAL
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=[reader]))
    return tracer_provider


def instrument_http(app) -> None:
    """Server spans for every route, client spans for every call to another service, W3C context both ways."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    # No spans for each ASGI receive and send: they only repeat the server span, many times per request.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready", server_request_hook=_tenant_of_request,
                                       exclude_spans=["receive", "send"])
    HTTPXClientInstrumentor().instrument()


def _tenant_of_request(span, scope: dict) -> None:
    """The server span starts before the service reads the tenant header: it reads it here."""
    for name, value in scope.get("headers") or ():
        if name == TENANT_HEADER and span.is_recording():
            span.set_attribute(TENANT, value.decode("latin-1"))


def shutdown_telemetry() -> None:
    """Export what is still buffered: a service that stops must not lose its last spans."""
    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider()):
        shutdown = getattr(provider, "shutdown", None)
        if shutdown is not None:
            shutdown()
