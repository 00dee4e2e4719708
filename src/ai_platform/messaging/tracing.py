"""A message's place in its trace: the publisher's PRODUCER span goes out in the NATS headers (W3C
traceparent and baggage), and the worker's CONSUMER span continues it, for the subject's tenant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nats.aio.msg import Msg
from opentelemetry import baggage, context, propagate
from opentelemetry.trace import Span, SpanKind

from ai_platform.telemetry import TENANT, tracer


def _attributes(subject: str, tenant_id: str) -> dict[str, str]:
    return {"messaging.system": "nats", "messaging.destination.name": subject, TENANT: tenant_id}


@contextmanager
def producing(subject: str, tenant_id: str) -> Iterator[Span]:
    """Inside, the headers a message is given carry this span as the consumer's parent."""
    attributes = _attributes(subject, tenant_id)
    with tracer.start_as_current_span("nats.publish", kind=SpanKind.PRODUCER, attributes=attributes) as span:
        yield span


@contextmanager
def processing(msg: Msg, tenant_id: str) -> Iterator[Span]:
    """Work on a received message, in the sender's trace; the tenant is the one the subject names,
    whatever baggage the sender claimed."""
    carried = propagate.extract(msg.headers or {})
    token = context.attach(baggage.set_baggage(TENANT, tenant_id, carried))
    try:
        with tracer.start_as_current_span("nats.process", kind=SpanKind.CONSUMER,
                                          attributes=_attributes(msg.subject, tenant_id)) as span:
            yield span
    finally:
        context.detach(token)
