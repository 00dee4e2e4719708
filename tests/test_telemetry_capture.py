"""In-process capture lands spans and points in the store; the store's queries and waits behave."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from harness.traces import MetricPoint, ReceivedSpan, TelemetryStore, capture_in_process

TEST_BUDGET_S = 20


def test_spans_arrive_as_they_end_and_points_at_flush():
    store = TelemetryStore()
    capture = capture_in_process(store, service_name="agent")
    tracer = capture.tracer_provider.get_tracer("agent")
    executed = capture.meter_provider.get_meter("agent").create_counter("agent.tasks.executed")
    try:
        with tracer.start_as_current_span("agent.task.execute", attributes={"agent.id": "a-1", "task.id": "t-9"}):
            with tracer.start_as_current_span("agent.tool.execute"):
                pass
        executed.add(1, {"status": "completed"})
        capture.flush()

        task = store.spans_named("agent.task.execute")[0]
        assert task.service_name == "agent" and task.scope_name == "agent"
        assert [span.name for span in store.children(task)] == ["agent.tool.execute"]
        assert store.metric_total("agent.tasks.executed", {"status": "completed"}) == 1
    finally:
        capture.close()
    with tracer.start_as_current_span("after close"):
        pass
    assert store.spans_named("after close") == []


def test_the_global_capture_serves_the_api_and_can_be_pointed_at_a_new_store():
    # In a child process: global providers can be set once per process, and this one must stay clean.
    script = textwrap.dedent("""
        from opentelemetry import metrics, trace
        from harness.traces import TelemetryStore, capture_in_process

        first, second = TelemetryStore(), TelemetryStore()
        capture = capture_in_process(first, install_global=True)
        with trace.get_tracer("suite").start_as_current_span("one"):
            pass
        assert capture_in_process(second, install_global=True) is capture
        with trace.get_tracer("suite").start_as_current_span("two"):
            pass
        metrics.get_meter("suite").create_counter("suite.things").add(2)
        capture.close()
        assert [s.name for s in first.spans()] == ["one"], first.spans()
        assert [s.name for s in second.spans()] == ["two"], second.spans()
        assert second.metric_total("suite.things") == 2
        assert first.metric_names() == []
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=15)
    assert done.returncode == 0, done.stderr


def test_a_global_provider_set_by_other_code_is_reported_not_silently_ignored():
    script = textwrap.dedent("""
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from harness.traces import TelemetryStore, capture_in_process

        trace.set_tracer_provider(TracerProvider())
        try:
            capture_in_process(TelemetryStore(), install_global=True)
        except RuntimeError as error:
            assert "already has global OpenTelemetry providers" in str(error)
        else:
            raise AssertionError("no error")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=15)
    assert done.returncode == 0, done.stderr


def test_queries_filter_by_name_service_trace_and_attributes():
    store = TelemetryStore()
    store.add_spans([
        _span("q", "01", None, "rag.query", 1, {"rag.tenant_id": "acme"}, "rag"),
        _span("q", "02", "01", "rag.vector.search", 2, {"results.count": 0}, "rag"),
        _span("g", "03", None, "gateway.generate", 3, {"gateway.tenant_id": "acme"}, "gateway"),
        _span("q", "01", None, "rag.query", 1, {"rag.tenant_id": "acme"}, "rag"),  # a retried export
    ])
    assert len(store.spans()) == 3
    assert [s.span_id for s in store.spans(attributes={"rag.tenant_id": "acme"})] == [_id("01")]
    assert [s.name for s in store.spans(service="gateway")] == ["gateway.generate"]
    assert [s.name for s in store.spans_with_attribute("results.count", 0)] == ["rag.vector.search"]
    assert store.spans_with_attribute("results.count", 1) == []
    assert [t.trace_id for t in store.traces_with_attribute("results.count")] == [_trace("q")]
    assert [t.trace_id for t in store.traces(lambda t: t.services == ["gateway"])] == [_trace("g")]
    assert [s.name for s in store.spans_in_trace(_trace("q").upper())] == ["rag.query", "rag.vector.search"]
    store.clear()
    assert store.spans() == [] and store.metric_names() == []


def test_a_child_whose_parent_is_not_yet_exported_is_drawn_as_a_root_meanwhile():
    store = TelemetryStore()
    store.add_spans([_span("q", "02", "01", "rag.vector.search", 2)])
    trace = store.trace(_trace("q"))
    assert trace.root is None and [s.name for s in trace.roots] == ["rag.vector.search"]
    assert [s.name for s, _ in trace.walk()] == ["rag.vector.search"]


def test_a_wait_that_runs_out_says_what_it_waited_for():
    store = TelemetryStore()
    with pytest.raises(AssertionError, match="waited 0.1 s for 1 or more rag.query spans"):
        store.wait_for_spans(lambda span: span.name == "rag.query", 0.1, "rag.query spans")
    with pytest.raises(AssertionError, match="points of metric rag.queries.completed"):
        store.wait_for_metric_points("rag.queries.completed", 0.1)


def test_delta_points_add_up_and_cumulative_series_count_their_latest_point():
    store = TelemetryStore()
    store.add_metric_points([
        _point("calls", 5, "CUMULATIVE", start=1, time=2), _point("calls", 7, "CUMULATIVE", start=1, time=3),
        _point("calls", 2, "CUMULATIVE", start=10, time=11),  # the process restarted: a new series
        _point("jobs", 1, "DELTA", start=1, time=2), _point("jobs", 4, "DELTA", start=2, time=3),
    ])
    assert store.metric_total("calls") == 9
    assert store.metric_total("jobs") == 5
    assert store.metric_total("nothing") == 0


def _id(text: str) -> str:
    return text.rjust(16, "0")


def _trace(text: str) -> str:
    return text.encode().hex().rjust(32, "0")


def _span(trace: str, span: str, parent: str | None, name: str, start: int, attributes: dict | None = None,
          service: str = "svc") -> ReceivedSpan:
    return ReceivedSpan(trace_id=_trace(trace), span_id=_id(span), parent_span_id=parent and _id(parent), name=name,
                        kind="INTERNAL", start_ns=start, end_ns=start + 1, attributes=attributes or {},
                        resource={"service.name": service})


def _point(name: str, value: int, temporality: str, start: int, time: int) -> MetricPoint:
    return MetricPoint(name=name, kind="sum", attributes={}, time_ns=time, start_time_ns=start, value=value,
                       temporality=temporality, is_monotonic=True)
