"""What the platform reports through OpenTelemetry, as the harness sees it.

An OTLP/HTTP receiver (for service processes) and an in-process capture (for code in the suite's own
process) fill one TelemetryStore; Then steps query it and reports draw traces as waterfalls.
"""

from harness.traces.in_process import InProcessCapture, capture_in_process
from harness.traces.model import MetricPoint, ReceivedSpan, SpanEvent, Trace
from harness.traces.otlp_codec import InvalidPayload, decode_metrics, decode_traces, otlp_json
from harness.traces.receiver import OtlpReceiver
from harness.traces.store import TelemetryStore
from harness.traces.waterfall import render_waterfall

__all__ = [
    "InProcessCapture",
    "InvalidPayload",
    "MetricPoint",
    "OtlpReceiver",
    "ReceivedSpan",
    "SpanEvent",
    "TelemetryStore",
    "Trace",
    "capture_in_process",
    "decode_metrics",
    "decode_traces",
    "otlp_json",
    "render_waterfall",
]
