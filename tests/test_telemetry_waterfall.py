"""A trace drawn as a waterfall shows every span in call order and marks failures; its OTLP JSON round-trips."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator

import pytest
from opentelemetry.trace import Status, StatusCode

from harness.traces import (
    InProcessCapture,
    ReceivedSpan,
    TelemetryStore,
    Trace,
    capture_in_process,
    decode_traces,
)
from harness.traces.waterfall import ERROR_COLOUR, otlp_json, render_waterfall

TEST_BUDGET_S = 10
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def capture() -> Iterator[InProcessCapture]:
    capture = capture_in_process(TelemetryStore(), service_name="rag")
    yield capture
    capture.close()


@pytest.fixture
def rag_trace(capture: InProcessCapture) -> Trace:
    """rag.query -> embedding, search, response (failed, with an exception); attribute types of every kind."""
    tracer = capture.tracer_provider.get_tracer("rag")
    with tracer.start_as_current_span("rag.query", attributes={"rag.tenant_id": "t-1", "rag.query.length": 31,
                                                               "score": 0.75, "tags": ("a", "b")}) as root:
        with tracer.start_as_current_span("rag.embedding.generate"):
            pass
        with tracer.start_as_current_span("rag.vector.search", attributes={"results.count": 3}):
            pass
        with tracer.start_as_current_span("rag.response.generate") as failing:
            failing.record_exception(ConnectionError("gateway unreachable"))
            failing.set_status(Status(StatusCode.ERROR, "gateway unreachable"))
    return capture.store.trace(format(root.get_span_context().trace_id, "032x"))


def test_every_span_is_a_row_in_call_order_with_service_and_duration(rag_trace):
    svg = render_waterfall(rag_trace)
    rows = ElementTree.fromstring(svg).findall(f"{SVG}g")  # well-formed XML, one group per span

    labels = [row.find(f"{SVG}text").text for row in rows]
    names = ["rag.query", "rag.embedding.generate", "rag.vector.search", "rag.response.generate"]
    assert len(labels) == len(names)
    for label, name in zip(labels, names, strict=True):
        assert name in label and " · rag · " in label and label.endswith(" ms")
    indents = [float(row.find(f"{SVG}text").get("x")) for row in rows]
    assert indents[0] < indents[1] == indents[2] == indents[3]  # children indented under their parent


def test_the_failed_span_is_red_and_its_exception_is_in_the_tooltip(rag_trace):
    rows = ElementTree.fromstring(render_waterfall(rag_trace)).findall(f"{SVG}g")
    failed = [row for row in rows if "error" in row.get("class").split()]
    assert len(failed) == 1
    assert "rag.response.generate" in failed[0].find(f"{SVG}text").text
    assert failed[0].find(f"{SVG}rect[@rx]").get("fill") == ERROR_COLOUR
    assert "ConnectionError: gateway unreachable" in failed[0].find(f"{SVG}title").text
    healthy_bars = [row.find(f"{SVG}rect[@rx]").get("fill") for row in rows if row is not failed[0]]
    assert ERROR_COLOUR not in healthy_bars


def test_bars_follow_the_clock():
    spans = [_span("a", None, 0, 100), _span("b", "a", 0, 50), _span("c", "a", 50, 100)]
    rows = ElementTree.fromstring(render_waterfall(Trace("ab" * 16, tuple(spans)))).findall(f"{SVG}g")
    bars = [row.find(f"{SVG}rect[@rx]") for row in rows]
    x = [float(bar.get("x")) for bar in bars]
    width = [float(bar.get("width")) for bar in bars]
    assert x[0] == x[1] < x[2] == pytest.approx(x[0] + width[1], abs=0.2)
    assert width[0] == pytest.approx(width[1] + width[2], abs=0.2)


def test_an_empty_trace_still_renders():
    assert "no spans received" in render_waterfall(Trace("00" * 16, ()))


def test_otlp_json_round_trips(rag_trace):
    text = otlp_json(rag_trace)
    document = json.loads(text)
    span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == rag_trace.trace_id  # OTLP JSON spells ids in hex, not proto3's base64
    assert isinstance(span["kind"], int)  # and enums as integers

    assert decode_traces(text.encode(), "application/json") == list(rag_trace.spans)


def _span(name: str, parent: str | None, start_ms: int, end_ms: int) -> ReceivedSpan:
    def span_id(text: str) -> str:
        return text.encode().hex().rjust(16, "0")
    return ReceivedSpan(trace_id="ab" * 16, span_id=span_id(name), parent_span_id=parent and span_id(parent),
                        name=name, kind="INTERNAL", start_ns=start_ms * 1_000_000, end_ns=end_ms * 1_000_000,
                        resource={"service.name": "svc"})
