"""Capture of spans and metric points made in the suite's own process, into the same store as the receiver.

Spans and points go through the OTLP encoder and the receiver's decoder, so what the store holds
looks the same whichever way it arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from harness.traces.otlp_codec import points_from_request, spans_from_request
from harness.traces.store import TelemetryStore

SUITE_SERVICE_NAME = "acceptance-suite"
_METRIC_INTERVAL_S = 0.5  # short, so a wait_for_metric_points sees points without an explicit flush()
_FLUSH_TIMEOUT_MS = 5_000

_global_capture: InProcessCapture | None = None


class InProcessCapture:
    """An SDK TracerProvider and MeterProvider whose output lands in a store.

    Spans arrive as each one ends (a simple, synchronous processor); metric points every half second
    or at flush(). Setting store to None drops what comes next.
    """

    def __init__(self, store: TelemetryStore, service_name: str = SUITE_SERVICE_NAME) -> None:
        self.store: TelemetryStore | None = store
        resource = Resource.create({SERVICE_NAME: service_name})
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(_StoreSpanExporter(self)))
        reader = PeriodicExportingMetricReader(_StoreMetricExporter(self),
                                               export_interval_millis=_METRIC_INTERVAL_S * 1000)
        self.meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        self._closed = False

    def flush(self) -> None:
        """Deliver everything recorded so far to the store now."""
        self.tracer_provider.force_flush(_FLUSH_TIMEOUT_MS)
        self.meter_provider.force_flush(_FLUSH_TIMEOUT_MS)

    def close(self) -> None:
        """Flush, then stop capturing. The process-wide capture stays installed (the API cannot replace it)."""
        if self._closed:
            return
        self.flush()
        if self is _global_capture:
            self.store = None
            return
        self._closed = True
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown(_FLUSH_TIMEOUT_MS)


def capture_in_process(
    store: TelemetryStore, service_name: str = SUITE_SERVICE_NAME, install_global: bool = False,
) -> InProcessCapture:
    """Providers that write into store; with install_global they also serve trace.get_tracer() and friends.

    OpenTelemetry lets a process set its global providers once, so the global capture is made on the
    first call and later calls point it at their store (service_name then stays the first one).
    """
    global _global_capture
    if not install_global:
        return InProcessCapture(store, service_name)
    if _global_capture is not None:
        _global_capture.store = store
        return _global_capture
    capture = InProcessCapture(store, service_name)
    trace.set_tracer_provider(capture.tracer_provider)
    metrics.set_meter_provider(capture.meter_provider)
    if trace.get_tracer_provider() is not capture.tracer_provider or \
            metrics.get_meter_provider() is not capture.meter_provider:
        capture.close()
        raise RuntimeError("this process already has global OpenTelemetry providers set by other code; "
                           "use capture_in_process(store) and hand its providers to the code under test")
    _global_capture = capture
    return capture


class _StoreSpanExporter(SpanExporter):
    def __init__(self, capture: InProcessCapture) -> None:
        self._capture = capture

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        store = self._capture.store
        if store is not None:
            store.add_spans(spans_from_request(encode_spans(spans)))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class _StoreMetricExporter(MetricExporter):
    def __init__(self, capture: InProcessCapture) -> None:
        super().__init__()  # cumulative temporality, like the OTLP exporters' default
        self._capture = capture

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        store = self._capture.store
        if store is not None:
            store.add_metric_points(points_from_request(encode_metrics(metrics_data)))
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass
