"""OTLP export requests (protobuf or the OTLP JSON mapping) to and from the harness's plain values.

OTLP JSON is proto3 JSON with two differences that json_format does not know: trace and span ids are
hex strings (not base64) and enums are integers. The id rewrite below bridges the first.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1 import trace_pb2

from harness.traces.model import MetricPoint, ReceivedSpan, SpanEvent, Trace

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
_TRACE_ID_BYTES = 16
_SPAN_ID_BYTES = 8


class InvalidPayload(ValueError):
    """The body is not an OTLP export request the receiver can read; the sender gets a 400."""


# --- decoding -------------------------------------------------------------------------------------


def decode_traces(body: bytes, content_type: str = PROTOBUF) -> list[ReceivedSpan]:
    request = _parse(ExportTraceServiceRequest(), body, content_type)
    return spans_from_request(request)


def decode_metrics(body: bytes, content_type: str = PROTOBUF) -> list[MetricPoint]:
    request = _parse(ExportMetricsServiceRequest(), body, content_type)
    return points_from_request(request)


def _parse(message: Message, body: bytes, content_type: str) -> Any:
    media_type = content_type.split(";")[0].strip().lower()
    try:
        if media_type == PROTOBUF:
            message.ParseFromString(body)
        elif media_type == JSON:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise InvalidPayload("an OTLP JSON request is an object")
            json_format.ParseDict(_rewrite_ids(document, _hex_to_base64), message, ignore_unknown_fields=True)
        else:
            raise InvalidPayload(f"unsupported content type {content_type!r}; send {PROTOBUF} or {JSON}")
    except InvalidPayload:
        raise
    except (DecodeError, json_format.ParseError, ValueError, TypeError) as error:
        raise InvalidPayload(f"not a readable {type(message).__name__}: {error}") from error
    return message


def spans_from_request(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in request.resource_spans:
        resource = attributes_from(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(_span_from(span, resource, scope_spans.scope))
    return spans


def _span_from(span: trace_pb2.Span, resource: dict[str, Any], scope: InstrumentationScope) -> ReceivedSpan:
    _check_id(span.trace_id, _TRACE_ID_BYTES, "trace_id")
    _check_id(span.span_id, _SPAN_ID_BYTES, "span_id")
    if span.parent_span_id:
        _check_id(span.parent_span_id, _SPAN_ID_BYTES, "parent_span_id")
    return ReceivedSpan(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_span_id=span.parent_span_id.hex() or None,
        name=span.name,
        kind=_enum_name(trace_pb2.Span.SpanKind, span.kind, "SPAN_KIND_"),
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        status_code=_enum_name(trace_pb2.Status.StatusCode, span.status.code, "STATUS_CODE_"),
        status_message=span.status.message,
        attributes=attributes_from(span.attributes),
        events=tuple(SpanEvent(e.name, e.time_unix_nano, attributes_from(e.attributes)) for e in span.events),
        resource=resource,
        scope_name=scope.name,
        scope_version=scope.version,
    )


def _enum_name(enum: Any, number: int, prefix: str) -> str:
    """The value's name without its prefix; a number from a newer protocol version stays a number."""
    try:
        return enum.Name(number).removeprefix(prefix)
    except ValueError:
        return str(number)


def _check_id(value: bytes, size: int, what: str) -> None:
    if len(value) != size or not any(value):
        raise InvalidPayload(f"{what} must be {size} bytes, not all zero; got {value.hex() or 'nothing'}")


def points_from_request(request: ExportMetricsServiceRequest) -> list[MetricPoint]:
    points = []
    for resource_metrics in request.resource_metrics:
        resource = attributes_from(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points.extend(_points_from(metric, resource, scope_metrics.scope.name))
    return points


def _points_from(metric: metrics_pb2.Metric, resource: dict[str, Any], scope_name: str) -> list[MetricPoint]:
    kind = metric.WhichOneof("data")
    if kind is None:
        return []
    data = getattr(metric, kind)
    temporality = ""
    if kind in ("sum", "histogram", "exponential_histogram"):
        temporality = _enum_name(metrics_pb2.AggregationTemporality, data.aggregation_temporality,
                                 "AGGREGATION_TEMPORALITY_")
    common = {"name": metric.name, "kind": kind, "unit": metric.unit, "temporality": temporality,
              "is_monotonic": kind == "sum" and data.is_monotonic, "resource": resource, "scope_name": scope_name}
    points = []
    for point in data.data_points:
        values: dict[str, Any]
        if kind in ("sum", "gauge"):
            number = point.WhichOneof("value")
            values = {"value": getattr(point, number) if number else None}
        else:
            # sum is optional for histograms (absent when negative values were recorded)
            has_sum = kind == "summary" or point.HasField("sum")
            values = {"count": point.count, "sum": point.sum if has_sum else None}
            if kind == "histogram":
                values |= {"bucket_counts": tuple(point.bucket_counts), "explicit_bounds": tuple(point.explicit_bounds)}
        points.append(MetricPoint(attributes=attributes_from(point.attributes), time_ns=point.time_unix_nano,
                                  start_time_ns=point.start_time_unix_nano, **common, **values))
    return points


def attributes_from(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: _value_from(pair.value) for pair in pairs}


def _value_from(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value_from(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_from(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


# --- encoding -------------------------------------------------------------------------------------


def request_from_spans(spans: Iterable[ReceivedSpan]) -> ExportTraceServiceRequest:
    """Rebuild an export request, one ResourceSpans per resource and one ScopeSpans per scope."""
    request = ExportTraceServiceRequest()
    by_resource: dict[str, trace_pb2.ResourceSpans] = {}
    by_scope: dict[tuple[str, str, str], trace_pb2.ScopeSpans] = {}
    for span in spans:
        resource_key = _canonical(span.resource)
        if resource_key not in by_resource:
            resource = Resource(attributes=_key_values(span.resource))
            by_resource[resource_key] = request.resource_spans.add(resource=resource)
        scope_key = (resource_key, span.scope_name, span.scope_version)
        if scope_key not in by_scope:
            scope = InstrumentationScope(name=span.scope_name, version=span.scope_version)
            by_scope[scope_key] = by_resource[resource_key].scope_spans.add(scope=scope)
        by_scope[scope_key].spans.append(_span_to(span))
    return request


def _span_to(span: ReceivedSpan) -> trace_pb2.Span:
    return trace_pb2.Span(
        trace_id=bytes.fromhex(span.trace_id),
        span_id=bytes.fromhex(span.span_id),
        parent_span_id=bytes.fromhex(span.parent_span_id or ""),
        name=span.name,
        kind=_enum_number(trace_pb2.Span.SpanKind, span.kind, "SPAN_KIND_"),
        start_time_unix_nano=span.start_ns,
        end_time_unix_nano=span.end_ns,
        attributes=_key_values(span.attributes),
        events=[trace_pb2.Span.Event(name=e.name, time_unix_nano=e.time_ns, attributes=_key_values(e.attributes))
                for e in span.events],
        status=trace_pb2.Status(code=_enum_number(trace_pb2.Status.StatusCode, span.status_code, "STATUS_CODE_"),
                                message=span.status_message),
    )


def _enum_number(enum: Any, name: str, prefix: str) -> int:
    return int(name) if name.isdigit() else enum.Value(prefix + name)


def _key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=_value_to(value)) for key, value in attributes.items()]


def _value_to(value: Any) -> AnyValue:
    # bool before int: True is an int in Python but a bool_value on the wire.
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Mapping):
        return AnyValue(kvlist_value={"values": _key_values(value)})
    if isinstance(value, list | tuple):
        return AnyValue(array_value={"values": [_value_to(item) for item in value]})
    if value is None:
        return AnyValue()
    return AnyValue(string_value=str(value))


def _canonical(attributes: Mapping[str, Any]) -> str:
    return json.dumps(attributes, sort_keys=True, default=repr)


def otlp_json_of(message: Message) -> dict[str, Any]:
    """The OTLP JSON mapping of any OTLP message: camelCase keys, integer enums, hex ids."""
    document = json_format.MessageToDict(message, use_integers_for_enums=True)
    return _rewrite_ids(document, _base64_to_hex)


def otlp_json(trace: Trace | Iterable[ReceivedSpan], indent: int | None = 2) -> str:
    """One trace (or any spans) as an OTLP JSON ExportTraceServiceRequest, for a report attachment."""
    spans = trace.spans if isinstance(trace, Trace) else trace
    return json.dumps(otlp_json_of(request_from_spans(spans)), indent=indent)


# --- id spelling between OTLP JSON (hex) and proto3 JSON (base64) ---------------------------------


def _rewrite_ids(node: Any, convert: Callable[[str], str]) -> Any:
    if isinstance(node, dict):
        return {key: convert(value) if key in _ID_KEYS and isinstance(value, str) else _rewrite_ids(value, convert)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_ids(item, convert) for item in node]
    return node


def _hex_to_base64(text: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(text)).decode("ascii")
    except ValueError as error:
        raise InvalidPayload(f"ids in OTLP JSON are hex strings, got {text!r}") from error


def _base64_to_hex(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).hex()
    except binascii.Error:
        return text
