"""The OTLP receiver takes what the real OTLP/HTTP exporters send, rejects what they would not, and cleans up."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

from harness.traces import OtlpReceiver, TelemetryStore, otlp_json

TEST_BUDGET_S = 20
EXPORT_BUDGET_S = 5.0
PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


def gateway_provider(receiver: OtlpReceiver, compression: Compression | None = None) -> TracerProvider:
    """A service's tracer setup: a batch processor (asynchronous, as in production) and the HTTP exporter."""
    provider = TracerProvider(resource=Resource.create({"service.name": "gateway"}))
    exporter = OTLPSpanExporter(endpoint=receiver.traces_url, timeout=5, compression=compression)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=50))
    return provider


def traced_generate(provider: TracerProvider, tenant: str, fail_provider_call: bool = False) -> str:
    """A gateway request: generate -> cache check, provider call (optionally failing); returns the trace id."""
    tracer = provider.get_tracer("gateway")
    with tracer.start_as_current_span("gateway.generate", kind=SpanKind.SERVER,
                                      attributes={"gateway.tenant_id": tenant, "gateway.model": "m-small"}) as root:
        with tracer.start_as_current_span("gateway.cache.check", attributes={"cache.hit": False}):
            pass
        try:
            with tracer.start_as_current_span("gateway.provider.call", kind=SpanKind.CLIENT,
                                              attributes={"provider": "scripted", "gen_ai.usage.input_tokens": 12}):
                if fail_provider_call:
                    raise TimeoutError("model did not answer within 2 s")
        except TimeoutError:
            pass
        return format(root.get_span_context().trace_id, "032x")


def test_spans_from_the_otlp_exporter_arrive_with_their_tree_attributes_and_errors(receiver):
    provider = gateway_provider(receiver)
    failed = traced_generate(provider, "tenant-a", fail_provider_call=True)
    fine = traced_generate(provider, "tenant-b")
    store = receiver.store  # no flush: the batch processor exports on its own schedule, so wait for it

    store.wait_for_spans(lambda span: span.name == "gateway.generate", EXPORT_BUDGET_S, "gateway.generate spans", 2)
    store.wait_for_trace(failed, lambda trace: len(trace.spans) == 3, EXPORT_BUDGET_S)
    provider.shutdown()

    trace = store.trace(failed)
    assert trace.root is not None and trace.root.name == "gateway.generate"
    assert trace.root.kind == "SERVER" and trace.root.service_name == "gateway"
    assert [span.name for span in trace.children(trace.root)] == ["gateway.cache.check", "gateway.provider.call"]
    assert [(span.name, depth) for span, depth in trace.walk()] == [
        ("gateway.generate", 0), ("gateway.cache.check", 1), ("gateway.provider.call", 1)]

    call = trace.named("gateway.provider.call")[0]
    assert call.is_error and call.kind == "CLIENT"
    assert call.attributes == {"provider": "scripted", "gen_ai.usage.input_tokens": 12}
    assert [(e.attributes["exception.type"], e.attributes["exception.message"]) for e in call.exceptions] == [
        ("TimeoutError", "model did not answer within 2 s")]
    assert call.parent_span_id == trace.root.span_id and call.end_ns >= call.start_ns

    assert [span.trace_id for span in store.spans_with_attribute("gateway.tenant_id", "tenant-b")] == [fine]
    assert [t.trace_id for t in store.traces_with_attribute("gateway.tenant_id", "tenant-a")] == [failed]
    assert {t.trace_id for t in store.traces_with_attribute("cache.hit")} == {failed, fine}
    assert store.root(fine).name == "gateway.generate"
    assert [s.name for s in store.children(store.root(fine))] == ["gateway.cache.check", "gateway.provider.call"]
    assert not any(span.is_error for span in store.spans_in_trace(fine))
    assert receiver.rejections == []


def test_gzip_compressed_exports_are_read(receiver):
    provider = gateway_provider(receiver, compression=Compression.Gzip)
    trace_id = traced_generate(provider, "tenant-z")
    provider.force_flush()
    provider.shutdown()
    assert len(receiver.store.spans_in_trace(trace_id)) == 3


def test_counters_and_histograms_from_the_otlp_exporter_are_queryable(receiver):
    # A long interval: only force_flush exports, so the test decides when points are sent.
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=receiver.metrics_url, timeout=5),
                                           export_interval_millis=60_000)
    provider = MeterProvider(resource=Resource.create({"service.name": "gateway"}), metric_readers=[reader])
    meter = provider.get_meter("gateway")
    calls = meter.create_counter("gateway.provider.calls")
    tokens = meter.create_histogram("gateway.tokens.used", unit="{token}")
    calls.add(1, {"provider": "scripted", "model": "m-small"})
    calls.add(1, {"provider": "scripted", "model": "m-small"})
    calls.add(1, {"provider": "scripted", "model": "m-large"})
    tokens.record(12, {"model": "m-small", "type": "prompt"})
    tokens.record(30, {"model": "m-small", "type": "prompt"})
    tokens.record(7, {"model": "m-small", "type": "completion"})

    provider.force_flush()
    provider.force_flush()  # cumulative temporality repeats the running totals; they must not double
    store = receiver.store
    prompt = store.wait_for_metric_points("gateway.tokens.used", EXPORT_BUDGET_S, {"type": "prompt"})[-1]
    provider.shutdown()

    assert (prompt.kind, prompt.count, prompt.sum, prompt.unit) == ("histogram", 2, 42, "{token}")
    assert prompt.attributes == {"model": "m-small", "type": "prompt"} and prompt.service_name == "gateway"
    assert sum(prompt.bucket_counts) == 2 and len(prompt.bucket_counts) == len(prompt.explicit_bounds) + 1
    small = store.metric_points("gateway.provider.calls", {"model": "m-small"})[-1]
    assert (small.kind, small.value, small.temporality, small.is_monotonic) == ("sum", 2, "CUMULATIVE", True)
    assert store.metric_total("gateway.provider.calls", {"model": "m-small"}) == 2
    assert store.metric_total("gateway.provider.calls", {"provider": "scripted"}) == 3
    assert store.metric_total("gateway.tokens.used", {"model": "m-small"}) == 3
    assert {"gateway.provider.calls", "gateway.tokens.used"} <= set(store.metric_names())


@pytest.mark.parametrize(("body", "content_type"), [
    (b"\x0a\x05ab", "application/x-protobuf"),  # a field that says 5 bytes follow, then only 2
    (ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
        Span(trace_id=b"short", span_id=b"\x01" * 8, name="x")])])]).SerializeToString(), "application/x-protobuf"),
    (b"{not json", "application/json"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "01"}]}]}]}', "application/json"),
    (b"trace please", "text/plain"),
])
def test_a_bad_payload_gets_400_and_leaves_the_store_untouched(receiver, body, content_type):
    answer = httpx.post(receiver.traces_url, content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 400, answer.text
    if content_type == "application/x-protobuf":
        assert Status.FromString(answer.content).message  # the OTLP spec's error body: a google.rpc.Status
    assert receiver.store.spans() == []
    assert len(receiver.rejections) == 1


def test_an_unknown_path_gets_404_and_a_valid_empty_request_gets_an_empty_answer(receiver):
    assert httpx.post(receiver.endpoint + "/v1/nothing", content=b"", headers=PROTOBUF).status_code == 404
    answer = httpx.post(receiver.traces_url, content=ExportTraceServiceRequest().SerializeToString(), headers=PROTOBUF)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/x-protobuf"
    assert ExportTraceServiceResponse.FromString(answer.content) == ExportTraceServiceResponse()


def test_otlp_json_posted_back_yields_the_same_spans(receiver):
    provider = gateway_provider(receiver)
    trace_id = traced_generate(provider, "tenant-j", fail_provider_call=True)
    provider.force_flush()
    provider.shutdown()
    original = receiver.store.trace(trace_id)

    with OtlpReceiver() as second:
        answer = httpx.post(second.traces_url, content=otlp_json(original),
                            headers={"Content-Type": "application/json"})
        assert (answer.status_code, answer.json()) == (200, {})
        assert second.store.trace(trace_id) == original


def test_stop_frees_the_port_and_leaves_no_thread():
    before = set(threading.enumerate())
    receiver = OtlpReceiver(TelemetryStore()).start()
    port = receiver.port
    assert httpx.post(receiver.traces_url, content=b"", headers=PROTOBUF).status_code == 200
    receiver.stop()

    assert set(threading.enumerate()) <= before
    assert not receiver.running
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"http://127.0.0.1:{port}/v1/traces", content=b"", headers=PROTOBUF)
    with OtlpReceiver(port=port) as again:  # services keep their configured endpoint across a restart
        assert again.endpoint == f"http://127.0.0.1:{port}"
