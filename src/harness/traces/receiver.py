"""An OTLP/HTTP receiver the platform's services export to (no installable collector has one here).

Plain threads from the standard library keep it usable from synchronous steps. HTTP/1.0 closes each
connection after its answer, so no handler thread lingers on an idle keep-alive connection and
stop() can join them all.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from harness.traces.otlp_codec import JSON, PROTOBUF, InvalidPayload, decode_metrics, decode_traces
from harness.traces.store import TelemetryStore

_log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
METRICS_PATH = "/v1/metrics"
MAX_BODY_BYTES = 64 * 1024 * 1024  # the OTLP exporters' own default limit for one request
_CLIENT_SOCKET_TIMEOUT_S = 10.0  # a sender that stalls mid-body must not pin a handler thread forever
# The google.rpc.Code in the Status body the OTLP spec asks for with every 4xx and 5xx answer.
_RPC_CODES = {400: 3, 413: 8, 500: 13}  # INVALID_ARGUMENT, RESOURCE_EXHAUSTED, INTERNAL


class OtlpReceiver:
    """Receives OTLP/HTTP traces and metrics on 127.0.0.1 into a TelemetryStore.

    Point services at it with OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint (the exporters append
    /v1/traces and /v1/metrics themselves).
    """

    def __init__(self, store: TelemetryStore | None = None, port: int = 0, host: str = "127.0.0.1") -> None:
        self.store = store if store is not None else TelemetryStore()
        self.rejections: list[str] = []  # why payloads got a 400, for a report when spans go missing
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> OtlpReceiver:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(self._address, _handler_for(self))
        server.daemon_threads = False  # so server_close() joins handler threads: stop() leaves none behind
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"otlp-receiver-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the OTLP receiver is not running; call start() first")
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        """The base URL for OTEL_EXPORTER_OTLP_ENDPOINT."""
        return f"http://{self._address[0]}:{self.port}"

    @property
    def traces_url(self) -> str:
        """The full URL for an OTLPSpanExporter(endpoint=...) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT."""
        return self.endpoint + TRACES_PATH

    @property
    def metrics_url(self) -> str:
        return self.endpoint + METRICS_PATH

    def environment(self) -> dict[str, str]:
        """Variables that make an OpenTelemetry SDK process export here, over protobuf."""
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}


# Each route: the decoder, what to do with the decoded items, the empty success answer.
Route = tuple[Callable[[bytes, str], list[Any]], Callable[[TelemetryStore, list[Any]], None], Any]
_ROUTES: dict[str, Route] = {
    TRACES_PATH: (decode_traces, TelemetryStore.add_spans, ExportTraceServiceResponse()),
    METRICS_PATH: (decode_metrics, TelemetryStore.add_metric_points, ExportMetricsServiceResponse()),
}


def _handler_for(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(_OtlpHandler):
        pass

    Handler.receiver = receiver
    return Handler


class _OtlpHandler(BaseHTTPRequestHandler):
    receiver: OtlpReceiver
    timeout = _CLIENT_SOCKET_TIMEOUT_S
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:  # noqa: N802 (the name http.server dispatches to)
        route = _ROUTES.get(self.path.split("?")[0])
        if route is None:
            self._answer(404, b"", "text/plain")
            return
        decode, add, empty_answer = route
        content_type = self.headers.get("Content-Type", PROTOBUF)
        try:
            items = decode(self._body(), content_type)
        except InvalidPayload as error:
            self._reject(400, str(error), content_type)
            return
        except _TooLarge as error:
            self._reject(413, str(error), content_type)
            return
        except Exception as error:  # a harness bug: answer it and record it rather than drop the connection
            _log.exception("OTLP receiver failed on a request to %s", self.path)
            self._reject(500, f"{type(error).__name__}: {error}", content_type)
            return
        add(self.receiver.store, items)
        if _is_json(content_type):
            self._answer(200, b"{}", JSON)
        else:
            self._answer(200, empty_answer.SerializeToString(), PROTOBUF)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(405, b"", "text/plain")

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as error:
            raise InvalidPayload(f"Content-Length is not a number: {error}") from error
        if length > MAX_BODY_BYTES:
            raise _TooLarge(f"request body of {length} bytes exceeds {MAX_BODY_BYTES}")
        body = self.rfile.read(length)
        encoding = (self.headers.get("Content-Encoding") or "identity").lower()
        try:
            if encoding == "gzip":
                return gzip.decompress(body)
            if encoding == "deflate":
                return zlib.decompress(body)
        except (OSError, zlib.error, EOFError) as error:
            raise InvalidPayload(f"body is not valid {encoding}: {error}") from error
        if encoding != "identity":
            raise InvalidPayload(f"unsupported Content-Encoding {encoding!r}")
        return body

    def _reject(self, code: int, reason: str, content_type: str) -> None:
        self.receiver.rejections.append(f"{self.path}: {reason}")
        _log.warning("OTLP receiver rejected a request to %s: %s", self.path, reason)
        if _is_json(content_type):
            self._answer(code, json.dumps({"code": _RPC_CODES[code], "message": reason}).encode(), JSON)
        else:
            self._answer(code, Status(code=_RPC_CODES[code], message=reason).SerializeToString(), PROTOBUF)

    def _answer(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        _log.debug("OTLP receiver: " + format, *args)


class _TooLarge(Exception):
    pass


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == JSON
