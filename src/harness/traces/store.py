"""Everything the harness received, kept for Then steps to query; filled by the receiver and in-process capture.

Export is asynchronous (batch processors, periodic metric readers), so a check waits with a budget
through the wait_for_* methods instead of reading once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from harness.traces.model import Attributes, MetricPoint, ReceivedSpan, Trace
from harness.waiting import wait_until

SpanPredicate = Callable[[ReceivedSpan], bool]
_PRESENT = object()  # "the attribute is set, whatever its value"


class TelemetryStore:
    """Thread-safe: receiver handler threads add while steps query. Queries return snapshots."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: dict[tuple[str, str], ReceivedSpan] = {}  # keyed by ids: a retried export adds nothing
        self._points: list[MetricPoint] = []
        self._arrived: dict[str, float] = {}  # trace id -> when its latest span arrived (time.monotonic)
        self._listeners: list[Callable[[list[ReceivedSpan]], None]] = []

    def listen(self, listener: Callable[[list[ReceivedSpan]], None]) -> None:
        """Hand every span, as it arrives, to the listener too (a tally of the whole run: forget drops spans)."""
        self._listeners.append(listener)

    # --- filling ----------------------------------------------------------------------------------

    def add_spans(self, spans: Iterable[ReceivedSpan]) -> None:
        spans = list(spans)
        now = time.monotonic()
        with self._lock:
            for span in spans:
                self._spans.setdefault((span.trace_id, span.span_id), span)
                self._arrived[span.trace_id] = now
        for listener in self._listeners:
            listener(spans)

    def add_metric_points(self, points: Iterable[MetricPoint]) -> None:
        with self._lock:
            self._points.extend(points)

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()
            self._points.clear()
            self._arrived.clear()

    def forget(self, trace_ids: Iterable[str] = (), attribute: str = "", values: Iterable[Any] = ()) -> None:
        """Drop the spans of these traces, and the spans and metric points whose attribute has one of the values
        (a finished scenario's tenants): a long run keeps only what its running scenario may still ask about."""
        traces, dropped = {t.lower() for t in trace_ids}, set(values)
        with self._lock:
            self._spans = {key: span for key, span in self._spans.items() if span.trace_id not in traces
                           and not (attribute and span.attributes.get(attribute) in dropped)}
            kept = {span.trace_id for span in self._spans.values()}
            self._arrived = {trace: at for trace, at in self._arrived.items() if trace in kept}
            if attribute:
                self._points = [p for p in self._points if p.attributes.get(attribute) not in dropped]

    # --- spans ------------------------------------------------------------------------------------

    def quiet_for(self, trace_id: str) -> float:
        """Seconds since a span of the trace last arrived; infinite when none did."""
        with self._lock:
            arrived = self._arrived.get(trace_id.lower())
        return float("inf") if arrived is None else time.monotonic() - arrived

    def spans(
        self, name: str | None = None, attributes: Attributes | None = None, trace_id: str | None = None,
        service: str | None = None,
    ) -> list[ReceivedSpan]:
        """Spans matching every given condition, by start time; attributes match as a subset."""
        with self._lock:
            found = list(self._spans.values())
        found = [
            span for span in found
            if (name is None or span.name == name)
            and (trace_id is None or span.trace_id == trace_id.lower())
            and (service is None or span.service_name == service)
            and (attributes is None or span.has_attributes(attributes))
        ]
        return sorted(found, key=lambda span: span.start_ns)

    def spans_named(self, name: str) -> list[ReceivedSpan]:
        return self.spans(name=name)

    def spans_in_trace(self, trace_id: str) -> list[ReceivedSpan]:
        return self.spans(trace_id=trace_id)

    def spans_with_attribute(self, key: str, value: Any = _PRESENT) -> list[ReceivedSpan]:
        """Spans carrying the attribute (with that value, when one is given), e.g. a tenant's spans."""
        return [span for span in self.spans() if _attribute_matches(span.attributes, key, value)]

    def trace(self, trace_id: str) -> Trace:
        return Trace(trace_id.lower(), tuple(self.spans_in_trace(trace_id)))

    def traces(self, where: Callable[[Trace], bool] | None = None) -> list[Trace]:
        """All traces (optionally those satisfying where), ordered by their first span's start."""
        by_id: dict[str, list[ReceivedSpan]] = {}
        for span in self.spans():
            by_id.setdefault(span.trace_id, []).append(span)
        traces = [Trace(trace_id, tuple(spans)) for trace_id, spans in by_id.items()]
        return [trace for trace in traces if where is None or where(trace)]

    def traces_with_attribute(self, key: str, value: Any = _PRESENT) -> list[Trace]:
        """Whole traces in which at least one span carries the attribute (with that value, when given)."""
        return self.traces(lambda trace: any(_attribute_matches(s.attributes, key, value) for s in trace.spans))

    def children(self, span: ReceivedSpan) -> list[ReceivedSpan]:
        return [child for child in self.spans_in_trace(span.trace_id) if child.parent_span_id == span.span_id]

    def root(self, trace_id: str) -> ReceivedSpan | None:
        return self.trace(trace_id).root

    def wait_for_spans(
        self, predicate: SpanPredicate, budget_s: float, what: str = "matching spans", count: int = 1,
    ) -> list[ReceivedSpan]:
        """Wait until at least count received spans satisfy predicate and return all that do."""
        return wait_until(lambda: _at_least(count, [s for s in self.spans() if predicate(s)]), budget_s,
                          f"{count} or more {what} to be exported")

    def wait_for_trace(
        self, trace_id: str, complete: Callable[[Trace], bool], budget_s: float, what: str = "the trace",
    ) -> Trace:
        """Wait until the trace satisfies complete (e.g. has its root and N spans) and return it."""
        def ready() -> Trace | None:
            trace = self.trace(trace_id)
            return trace if trace.spans and complete(trace) else None
        return wait_until(ready, budget_s, f"{what} ({trace_id}) to be exported")

    # --- metrics ----------------------------------------------------------------------------------

    def metric_points(self, name: str, attributes: Attributes | None = None) -> list[MetricPoint]:
        """Points of the metric whose attributes include the given ones, by time."""
        with self._lock:
            found = [p for p in self._points if p.name == name and (attributes is None or p.has_attributes(attributes))]
        return sorted(found, key=lambda point: point.time_ns)

    def metric_names(self) -> list[str]:
        with self._lock:
            return sorted({point.name for point in self._points})

    def wait_for_metric_points(
        self, name: str, budget_s: float, attributes: Attributes | None = None,
        predicate: Callable[[MetricPoint], bool] | None = None,
    ) -> list[MetricPoint]:
        def found() -> list[MetricPoint]:
            return [p for p in self.metric_points(name, attributes) if predicate is None or predicate(p)]
        return wait_until(found, budget_s, f"points of metric {name} with {dict(attributes or {})} to be exported")

    def metric_total(self, name: str, attributes: Attributes | None = None, *, of: str = "count",
                     until_ns: int | None = None) -> float:
        """What a counter (sum) or histogram amounts to across the matching series: a histogram's count of
        measurements, or with of="sum" the sum of what it measured (tokens, seconds).

        Cumulative exports repeat the running total, so only the latest point of each series counts;
        a series restarted by its process has a new start time and adds its own total. Delta points add up.
        With until_ns, only points exported up to that time count: the total as it stood then.
        """
        latest: dict[tuple[str, str, int], MetricPoint] = {}
        total = 0.0
        for point in self.metric_points(name, attributes):
            if until_ns is not None and point.time_ns > until_ns:
                continue
            if point.temporality == "DELTA":
                total += _amount(point, of)
            else:
                latest[(_canonical(point.resource), _canonical(point.attributes), point.start_time_ns)] = point
        return total + sum(_amount(point, of) for point in latest.values())


def _amount(point: MetricPoint, of: str = "count") -> float:
    if point.count is None:
        return point.value or 0
    return (point.sum if of == "sum" else point.count) or 0


def _attribute_matches(attributes: Mapping[str, Any], key: str, value: Any) -> bool:
    return key in attributes and (value is _PRESENT or attributes[key] == value)


def _at_least(count: int, items: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return items if len(items) >= count else []


def _canonical(attributes: Mapping[str, Any]) -> str:
    return json.dumps(attributes, sort_keys=True, default=repr)
