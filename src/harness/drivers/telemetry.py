"""The platform's traces and metrics as a scenario sees them: the trace of each request it sent, and
the metrics the services exported, read from the suite's OTLP receiver.

Every request a driver sends runs inside a CLIENT span of the suite ("acceptance.client"), so its
traceparent goes out with it and the whole journey through the services is one trace whose root is
the suite's span. Export is asynchronous (spans leave a service every 0.1 s, metric points every
0.5 s), so every query waits, with a budget, for what it expects.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from harness.reporting import attach_json, attach_svg
from harness.traces import ReceivedSpan, TelemetryStore, Trace, otlp_json, render_waterfall
from harness.waiting import wait_until

if TYPE_CHECKING:
    from harness.world import World

CLIENT_SPAN = "acceptance.client"
PLATFORM_SCOPE = "ai_platform"  # the instrumentation scope of the contract's spans and metrics
TENANT = "tenant.id"
# Spans reach the receiver within about 0.2 s and metric points within about 0.6 s here; a busy machine is slower.
EXPORT_BUDGET_S = 10.0
# A trace is taken as whole when no span of it arrived for this long (the services export every 0.1 s).
QUIET_S = 0.4
# At the end of a scenario its traces are attached as they are, after waiting at most this long for stragglers.
ATTACH_BUDGET_S = 1.0
ATTACHED_TRACES = 8  # the most recent ones; a scenario that sends dozens of requests is about something else
# A service exports what its meters counted every 0.5 s (harness.platform.environment), as one point per
# changed series covering the time since its last export. What a request counted is exported within this long
# of its answer; a reading taken that long after the scenario's previous request holds all of it.
METRICS_SETTLE_NS = 700_000_000

SERVICE_NAMES = {"query api": "query-service", "rag service": "rag-service", "agent service": "agent-service",
                 "gateway": "gateway-service"}
# What a reader calls each step of a request's journey: the span that shows it.
OPERATIONS = {
    "message bus": "nats.process",  # a worker of the platform handling a message it received
    "knowledge base query": "rag.query",
    "embedding": "rag.embedding.generate",
    "vector search": "rag.vector.search",
    "answer generation": "rag.response.generate",
    "ingestion": "rag.document.ingest",
    "agent task": "agent.task.execute",
    "memory retrieval": "agent.memory.retrieve",
    "tool": "agent.tool.execute",
    "memory update": "agent.memory.update",
    "gateway generation": "gateway.generate",
    "cache check": "gateway.cache.check",
    "language model": "gateway.provider.call",
}
# Meters in the specs' words: the metric, and the series of it that counts (a success or a failure).
OK, FAILED = {"status": "ok"}, {"status": "error"}
METERS = {
    "gateway's call counter": ("gateway.provider.calls", OK),
    "gateway's failed call counter": ("gateway.provider.calls", FAILED),
    "gateway's cache hit counter": ("gateway.cache.hits", {}),
    "gateway's cache miss counter": ("gateway.cache.misses", {}),
    "completed query counter": ("rag.queries.completed", OK),
    "failed query counter": ("rag.queries.completed", FAILED),
    "ingested document counter": ("rag.documents.ingested", OK),
    "failed ingestion counter": ("rag.documents.ingested", FAILED),
    "executed task counter": ("agent.tasks.executed", {"status": "done"}),
    "failed task counter": ("agent.tasks.executed", {"status": "failed"}),
}
# Durations in the specs' words: the histogram, its series, and the span that times the same operation.
DURATIONS = {
    "gateway request": ("gateway.request.duration", OK, "gateway.generate"),
    "failed gateway request": ("gateway.request.duration", FAILED, "gateway.generate"),
    "knowledge base query": ("rag.query.duration", OK, "rag.query"),
    "failed knowledge base query": ("rag.query.duration", FAILED, "rag.query"),
    "vector search": ("rag.search.duration", OK, "rag.vector.search"),
    "failed vector search": ("rag.search.duration", FAILED, "rag.vector.search"),
    "agent task": ("agent.task.duration", {"status": "done"}, "agent.task.execute"),
    "failed agent task": ("agent.task.duration", {"status": "failed"}, "agent.task.execute"),
}
DURATION_UNIT = "s"
# A duration the platform measured agrees with its span's when within this share of it, plus a fixed slack for
# the moments between the span's edges and the meter's clock reads.
DURATION_TOLERANCE, DURATION_SLACK_S = 0.25, 0.005

SpanTest = Callable[[ReceivedSpan], bool]


def stop(word: str) -> SpanTest:
    """The test for one stop of a journey, by its name in the specs: a service (the span where a request or a
    message enters it) or an operation (its span)."""
    word = word.strip().lower()
    if word == "the client":
        return lambda span: span.name == CLIENT_SPAN
    if word in SERVICE_NAMES:
        service = SERVICE_NAMES[word]
        return lambda span: span.service_name == service and span.kind == "SERVER"  # its HTTP entry
    if word in OPERATIONS:
        name = OPERATIONS[word]
        return lambda span: span.name == name
    raise ValueError(f"no stop of a journey called {word!r}; known: {', '.join([*SERVICE_NAMES, *OPERATIONS])}")


@dataclass(frozen=True)
class Request:
    """One request the scenario sent, and the trace it started."""

    trace_id: str
    what: str
    tenant: str
    started_ns: int


class Telemetry:
    def __init__(self, world: World) -> None:
        self._world = world
        self._session = world.session
        self._tracer = trace.get_tracer("harness.acceptance")
        self._lock = threading.Lock()
        self.requests: list[Request] = []  # what the scenario did, not what its Then steps read
        self._observations: list[str] = []  # trace ids of the requests Then steps made to look
        self._in_flight = 0
        self._action_started_ns = time.time_ns()  # when the last action's first request went out
        self._last_end_ns = 0  # when the scenario's last request (not an observation) was answered
        self._settle = False
        self.prices: tuple[float, float] | None = None  # USD per million input and output tokens, once deployed

    @property
    def store(self) -> TelemetryStore:
        assert self._session.telemetry_reachable, (
            "this scenario reads the platform's telemetry, which an external platform sends only with -D otlp_port: "
            "tag it @telemetry")
        return self._session.receiver.store

    # requests -----------------------------------------------------------------------------------

    def settle_metrics_before_actions(self) -> None:
        """From now on each action waits, before it starts, until the metrics of the requests before it are
        exported, so what a Then step measures as "grew by" is the action's own doing (@telemetry scenarios)."""
        self._settle = True

    def settle(self) -> None:
        """Wait, when asked to, until the earlier requests' metric points have surely been exported. Called in
        the thread that sends the request, never on the event loop. A Given's request does not wait: no step
        measures a Given, and the first action after the Givens waits for all of them."""
        if self._world.step_type == "given":
            return
        if self._settle and self._in_flight == 0 and self._last_end_ns:
            wait_until(lambda: time.time_ns() >= self._last_end_ns + METRICS_SETTLE_NS, 5.0,
                       "the metric export of the scenario's earlier requests")

    @contextmanager
    def client_span(self, what: str, tenant: str, *, observation: bool = False) -> Iterator[dict[str, str]]:
        """The suite's CLIENT span around one request, current while it runs; yields the headers that carry
        its trace context. An observation (a Then step reading the platform) is traced but is not "the request"."""
        if not self._session.telemetry_reachable:  # nowhere to send spans: send the request untraced
            yield {}
            return
        self._session.receiver  # noqa: B018 - started, so the suite's spans have somewhere to go
        with self._lock:
            if self._in_flight == 0 and not observation:
                self._action_started_ns = time.time_ns()
            self._in_flight += 1
        try:
            with self._tracer.start_as_current_span(CLIENT_SPAN, kind=SpanKind.CLIENT,
                                                    attributes={TENANT: tenant, "acceptance.request": what}) as span:
                carrier: dict[str, str] = {}
                propagate.inject(carrier)
                self._record(format(span.get_span_context().trace_id, "032x"), what, tenant, observation)
                yield carrier
        finally:
            with self._lock:
                self._in_flight -= 1
                if not observation:
                    self._last_end_ns = time.time_ns()

    @staticmethod
    def mark_status(status: int) -> None:
        """The current client span records the HTTP status the request got; a 5xx marks it failed."""
        span = trace.get_current_span()
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))

    def _record(self, trace_id: str, what: str, tenant: str, observation: bool) -> None:
        with self._lock:
            first = not self.requests and not self._observations
            if observation:
                self._observations.append(trace_id)
            else:
                self.requests.append(Request(trace_id, what, tenant, time.time_ns()))
        if first:
            self._world.add_cleanup(self._report)

    def last_request(self) -> Request:
        assert self.requests, "expected the scenario to have sent a request to the platform, it sent none"
        return self.requests[-1]

    def last_requests(self, count: int) -> list[Request]:
        assert len(self.requests) >= count, f"expected {count} requests, the scenario sent {len(self.requests)}"
        return self.requests[-count:]

    # traces -------------------------------------------------------------------------------------

    def trace_of(self, request: Request | None = None) -> Trace:
        """The trace as received so far."""
        return self.store.trace((request or self.last_request()).trace_id)

    def await_trace(self, what: str, check: Callable[[Trace], Any], request: Request | None = None,
                    budget_s: float = EXPORT_BUDGET_S):
        """Wait until check(trace) gives something truthy and return it; fail saying what was awaited and what
        the trace holds."""
        request = request or self.last_request()
        try:
            return wait_until(lambda: check(self.trace_of(request)), budget_s, what)
        except AssertionError:
            raise AssertionError(f"expected {what} in the trace of {request.what}; it holds:\n"
                                 f"{outline(self.trace_of(request))}") from None

    def settled_trace(self, request: Request | None = None, budget_s: float = EXPORT_BUDGET_S) -> Trace:
        """The whole trace: every span's parent has arrived, the services answered under the suite's span, and
        nothing new came for a moment (counted from the trace's latest span, so an old trace is settled at once)."""
        store = self.store

        def settled(found: Trace) -> Trace | None:
            whole = len(found.roots) == 1 and len(found.spans) > 1
            return found if whole and store.quiet_for(found.trace_id) >= QUIET_S else None

        return self.await_trace("the whole trace", settled, request, budget_s)

    def journey(self, stops: Sequence[str], request: Request | None = None,
                last: SpanTest | None = None) -> list[ReceivedSpan]:
        """The spans of the stops, in the order they happen, each directly inside the one before; `last`
        narrows what the final stop must be (failed, say)."""
        tests = [stop(word) for word in stops]
        if last is not None:
            final = tests[-1]
            tests[-1] = lambda span: final(span) and last(span)
        return self.await_trace(f"a journey through {' > '.join(stops)}", lambda found: find_path(found, tests),
                                request)

    def steps_inside(self, outer: str, inner: Sequence[str], request: Request | None = None) -> list[ReceivedSpan]:
        """The direct children of the outer stop's span that show the inner steps, in the order they started."""
        outer_test, tests = stop(outer), [stop(word) for word in inner]

        def found(received: Trace) -> list[ReceivedSpan] | None:
            for span in received.spans:
                if outer_test(span):
                    children, matched = iter(received.children(span)), []
                    for test in tests:  # each step is a later child than the one before
                        matched.append(next((child for child in children if test(child)), None))
                    if all(matched):
                        return matched
            return None

        return self.await_trace(f"{' then '.join(inner)} directly inside the {outer}", found, request)

    def tree(self, rows: Sequence[tuple[str, str]], request: Request | None = None) -> Trace:
        """The trace holds each (step, inside) pair as a span directly inside the other, and every span of a
        step the rows name sits directly inside one of the steps they allow it. Directly: a service's entry
        (a SERVER or CONSUMER span) counts as inside the operation that made the call, never further up."""
        tests = {word: stop(word) for row in rows for word in row}

        def holds(found: Trace, row: tuple[str, str]) -> bool:
            step, inside = row
            return any(tests[step](span) and (parent := step_parent(found, span)) is not None
                       and tests[inside](parent) for span in found.spans)

        self.await_trace(f"the steps {', '.join(f'{a} inside {b}' for a, b in rows)}",
                         lambda found: all(holds(found, row) for row in rows), request)
        found = self.settled_trace(request)
        missing = [f"{step} directly inside {inside}" for step, inside in rows if not holds(found, (step, inside))]
        misplaced = []
        for step in dict.fromkeys(step for step, _ in rows):
            allowed = [tests[inside] for each, inside in rows if each == step]
            for span in filter(tests[step], found.spans):
                parent = step_parent(found, span)
                if parent is None or not any(test(parent) for test in allowed):
                    misplaced.append(f"{step} ({span.name}) directly inside {parent.name if parent else 'nothing'}")
        assert not missing and not misplaced, (
            f"expected the trace to be the tree the table gives; missing: {missing or 'none'}; "
            f"elsewhere: {misplaced or 'none'}; it holds:\n{outline(found)}")
        return found

    def failed_exactly(self, stops: Sequence[str], request: Request | None = None) -> Trace:
        """The steps marked failed in the trace are the ones named, each of them at least once, and no other
        (the calls between services are their callers' business and not counted)."""
        tests = {word: stop(word) for word in stops}
        self.await_trace(f"failures at {', '.join(stops)}", lambda found: all(
            any(test(span) and span.is_error for span in found.spans) for test in tests.values()), request)
        found = self.settled_trace(request)
        unnamed = [f"{span.name} [{span.service_name}]" for span in found.spans
                   if span.is_error and not is_transport(span) and span.name != CLIENT_SPAN
                   and not any(t(span) for t in tests.values())]
        assert not unnamed, (f"expected only {', '.join(stops)} to be marked failed, these are too: {unnamed}; "
                             f"the trace:\n{outline(found)}")
        return found

    def span_named(self, name: str, request: Request | None = None) -> ReceivedSpan:
        found = self.await_trace(f"a span {name!r}", lambda t: t.named(name), request)
        return found[-1]

    # metrics ------------------------------------------------------------------------------------

    def growth(self, metric: str, attributes: dict[str, Any], *, of: str = "count") -> float:
        """How much the metric grew since the last action began (its series with these attributes)."""
        store = self.store
        before = store.metric_total(metric, attributes, of=of, until_ns=self._action_started_ns)
        return store.metric_total(metric, attributes, of=of) - before

    def await_growth(self, metric: str, attributes: dict[str, Any], expected: float, *, of: str = "count",
                     at_least: bool = False, budget_s: float = EXPORT_BUDGET_S, within: float = 0.0) -> float:
        """Wait until the metric has grown by expected (or more, with at_least; give or take `within`, for sums of
        fractions) since the last action began."""
        def grown() -> bool:
            growth = self.growth(metric, attributes, of=of)
            return growth >= expected - within if at_least else abs(growth - expected) <= within
        try:
            wait_until(grown, budget_s, f"{metric} {attributes} to grow by {expected:g}")
        except AssertionError:
            points = [f"  {p.service_name} {p.attributes} {p.value if p.count is None else (p.count, p.sum)}"
                      for p in self.store.metric_points(metric)][-12:]
            raise AssertionError(
                f"expected {metric} with {attributes} to grow by {'at least ' if at_least else ''}{expected:g} since "
                f"the action, it grew by {self.growth(metric, attributes, of=of):g}; its latest points:\n"
                + ("\n".join(points) or "  none received")) from None
        return self.growth(metric, attributes, of=of)

    def durations_match_spans(self, operation: str, tenant: str) -> float:
        """The operation's duration histogram grew by one measurement, in seconds, per span of it in the traces of
        the tenant's requests since the action began, and the measurements add up to what those spans took."""
        metric, series, span_name = DURATIONS[operation]
        failed = series.get("status") in ("error", "failed")
        requests = [r for r in self.requests if r.tenant == tenant and r.started_ns >= self._action_started_ns]
        assert requests, f"expected a request of the tenant {tenant} in the last action, there is none"
        spans = []
        for request in requests:
            found = self.settled_trace(request)
            spans += [span for span in found.named(span_name) if span.is_error == failed]
        assert spans, f"expected a{' failed' if failed else ''} {span_name} span in the action's traces, there is none"
        attributes = {TENANT: tenant, **series}
        self.await_growth(metric, attributes, len(spans))
        units = {point.unit for point in self.store.metric_points(metric, attributes)}
        assert units == {DURATION_UNIT}, f"expected {metric} in {DURATION_UNIT!r}, its points say {sorted(units)}"
        measured = self.growth(metric, attributes, of="sum")
        timed = sum(span.duration_ns for span in spans) / 1e9
        assert abs(measured - timed) <= timed * DURATION_TOLERANCE + DURATION_SLACK_S * len(spans), (
            f"expected the {operation} durations to add up to what their {len(spans)} {span_name} span(s) took, "
            f"{timed:.4f} s; {metric} grew by {measured:.4f} s")
        return measured

    def no_untenanted_points(self) -> None:
        """Every point of the platform's own meters (the contract's metrics, not the HTTP instrumentation's, which
        counts a request before anyone knows whose it is) exported since the action began names a tenant."""
        store = self.store
        bare = []
        for name in store.metric_names():
            points = [p for p in store.metric_points(name) if TENANT not in p.attributes
                      and p.scope_name == PLATFORM_SCOPE and p.time_ns > self._action_started_ns]
            bare += [f"{name} {dict(p.attributes)} ({p.service_name})" for p in points]
        assert not bare, f"expected every metric point to name a tenant, these do not: {sorted(set(bare))[:8]}"

    # report -------------------------------------------------------------------------------------

    def _report(self) -> None:
        """Attach the scenario's traces (waterfall and OTLP JSON), then forget them and its tenants' metrics."""
        store = self._session.receiver.store
        requests = self.requests[-ATTACHED_TRACES:]
        # A scenario about telemetry waits a moment for its whole traces; any other attaches what has arrived
        # (export runs every 100 ms), so that reporting adds no time to the run.
        deadline = time.monotonic() + (ATTACH_BUDGET_S if self._settle else 0.0)
        for request in requests:
            try:
                if self._settle:
                    self.settled_trace(request, max(0.0, deadline - time.monotonic()))
            except AssertionError:
                pass  # attached as it is: a request the platform never answered has only the suite's span
            found = store.trace(request.trace_id)
            name = f"trace of {request.what} ({request.trace_id[:8]})"
            attach_svg(name, render_waterfall(found))
            attach_json(f"{name}, OTLP JSON", json.loads(otlp_json(found)))
        store.forget([r.trace_id for r in self.requests] + self._observations, TENANT,
                     self._world.tenants.all_ids())


def is_transport(span: ReceivedSpan) -> bool:
    """A call or publish on its way to another span: the HTTP client's and the message producer's spans."""
    return span.kind in ("CLIENT", "PRODUCER") and span.name != CLIENT_SPAN


def step_parent(found: Trace, span: ReceivedSpan) -> ReceivedSpan | None:
    """The step a span is directly inside: its parent, or for a service's entry (SERVER or CONSUMER) reached
    through a call or a message, the operation that made the call."""
    by_id = {each.span_id: each for each in found.spans}
    parent = by_id.get(span.parent_span_id or "")
    if parent is not None and span.kind in ("SERVER", "CONSUMER") and is_transport(parent):
        return by_id.get(parent.parent_span_id or "")
    return parent


def find_path(found: Trace, tests: Sequence[SpanTest]) -> list[ReceivedSpan] | None:
    """Spans passing the tests in order, each directly inside the one before (step_parent: a service's entry
    counts as inside the operation that called it); the first may be anywhere. None when the trace holds no
    such path yet."""

    def search(chosen: list[ReceivedSpan]) -> list[ReceivedSpan] | None:
        if len(chosen) == len(tests):
            return chosen
        test = tests[len(chosen)]
        for span in found.spans:
            if span in chosen or not test(span):
                continue
            if chosen and step_parent(found, span) != chosen[-1]:
                continue
            path = search([*chosen, span])
            if path:
                return path
        return None

    return search([])


def outline(found: Trace) -> str:
    """The trace as indented lines, for an assertion message."""
    if not found.spans:
        return "  (no span received)"
    lines = []
    for span, depth in found.walk():
        status = " FAILED" if span.is_error else ""
        lines.append(f"  {'  ' * depth}{span.name} [{span.service_name} {span.kind}]{status} {dict(span.attributes)}")
    return "\n".join(lines)
