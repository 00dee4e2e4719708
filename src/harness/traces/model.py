"""What the harness received: spans, traces and metric points as plain values, free of protobuf types."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Attributes = Mapping[str, Any]


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedSpan:
    """One finished span. Ids are lower-case hex, as in traceparent headers and log lines."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str  # INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER or UNSPECIFIED
    start_ns: int
    end_ns: int
    status_code: str = "UNSET"  # UNSET, OK or ERROR
    status_message: str = ""
    attributes: Attributes = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    resource: Attributes = field(default_factory=dict)
    scope_name: str = ""
    scope_version: str = ""

    @property
    def service_name(self) -> str:
        return str(self.resource.get("service.name", ""))

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    @property
    def duration_ms(self) -> float:
        return self.duration_ns / 1e6

    @property
    def is_error(self) -> bool:
        return self.status_code == "ERROR"

    @property
    def exceptions(self) -> list[SpanEvent]:
        """The exception events (span.record_exception), which carry exception.type and exception.message."""
        return [event for event in self.events if event.name == "exception"]

    def has_attributes(self, expected: Attributes) -> bool:
        return all(key in self.attributes and self.attributes[key] == value for key, value in expected.items())


@dataclass(frozen=True)
class Trace:
    """The spans of one trace id received so far, ordered by start time."""

    trace_id: str
    spans: tuple[ReceivedSpan, ...]

    @property
    def roots(self) -> list[ReceivedSpan]:
        """Spans without a parent here: the true root, or spans whose parent was not (yet) received."""
        ids = {span.span_id for span in self.spans}
        return [span for span in self.spans if span.parent_span_id is None or span.parent_span_id not in ids]

    @property
    def root(self) -> ReceivedSpan | None:
        """The span without a parent; None while only children whose parent has not been exported arrived."""
        return next((span for span in self.spans if span.parent_span_id is None), None)

    @property
    def services(self) -> list[str]:
        return sorted({span.service_name for span in self.spans})

    def children(self, span: ReceivedSpan) -> list[ReceivedSpan]:
        return [child for child in self.spans if child.parent_span_id == span.span_id]

    def named(self, name: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.name == name]

    def walk(self) -> Iterator[tuple[ReceivedSpan, int]]:
        """Depth-first (parent before children, siblings by start time), with each span's depth."""
        stack = [(span, 0) for span in reversed(self.roots)]
        while stack:
            span, depth = stack.pop()
            yield span, depth
            stack.extend((child, depth + 1) for child in reversed(self.children(span)))

    @property
    def start_ns(self) -> int:
        return min((span.start_ns for span in self.spans), default=0)

    @property
    def end_ns(self) -> int:
        return max((span.end_ns for span in self.spans), default=0)


@dataclass(frozen=True)
class MetricPoint:
    """One data point of one metric. Sums and gauges carry value; histograms carry count, sum and buckets."""

    name: str
    kind: str  # sum, gauge, histogram, exponential_histogram or summary
    attributes: Attributes
    time_ns: int
    start_time_ns: int = 0
    value: float | int | None = None
    count: int | None = None
    sum: float | None = None
    bucket_counts: tuple[int, ...] = ()
    explicit_bounds: tuple[float, ...] = ()
    temporality: str = ""  # CUMULATIVE or DELTA for sums and histograms
    is_monotonic: bool = False
    unit: str = ""
    resource: Attributes = field(default_factory=dict)
    scope_name: str = ""

    @property
    def service_name(self) -> str:
        return str(self.resource.get("service.name", ""))

    def has_attributes(self, expected: Attributes) -> bool:
        return all(key in self.attributes and self.attributes[key] == value for key, value in expected.items())
