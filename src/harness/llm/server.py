"""The scripted language model: an OpenAI-compatible HTTP server on loopback.

Serves GET /v1/models, POST /v1/chat/completions (JSON or SSE streaming, with usage) and
POST /v1/embeddings (deterministic vectors). Like a provider it ends an answer before the first stop sequence
and after max_tokens tokens (finish_reason "length"). What it answers and which faults it plays come from a
Script; every request it takes is journalled with the headers it saw, its usage, status and latency.

Like a real provider it refuses, with a 4xx JSON error in the OpenAI shape, a body that is not a JSON
object, fields of the wrong type, dimensions outside 1..MAX_DIMENSIONS, a Content-Length that is not a
number (400), above MAX_BODY_BYTES (413) or not matched by the bytes that arrive within the read
timeout (400), an unknown route (404) and a wrong method on a known one (405).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.llm.embeddings import embed
from harness.llm.script import JournalEntry, Script, count_tokens

DEFAULT_DIMENSIONS = 384
MAX_DIMENSIONS = 4096
MAX_BODY_BYTES = 8 * 1024 * 1024
READ_TIMEOUT_S = 5.0
ROUTES = {"/v1/models": "GET", "/v1/chat/completions": "POST", "/v1/embeddings": "POST"}
MALFORMED_BODY = b'{"id": "chatcmpl-broken", "choices": [ this is not json'
# Valid JSON in a chat completion's shape, with nothing in it to read: no choice at all.
NO_CHOICES_BODY = json.dumps({"id": "chatcmpl-empty", "object": "chat.completion", "created": 0, "model": "scripted",
                              "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 0,
                                                       "total_tokens": 3}}).encode()
_MISSING = object()


class ScriptedModelServer:
    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS, host: str = "127.0.0.1",
                 read_timeout_s: float = READ_TIMEOUT_S, port: int = 0) -> None:
        self.script = Script()
        self.dimensions = dimensions
        handler = type("Handler", (_Handler,), {"model_server": self, "timeout": read_timeout_s})
        self._httpd = _Server((host, port), handler)
        # A short poll: close() waits for the serving loop to notice, up to one interval (the default is 0.5 s).
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="scripted-llm", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/v1"

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> ScriptedModelServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a caller that never finishes must not keep the run alive
    request_queue_size = 512  # the default (5) makes a burst of callers wait out SYN retries

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # a bug in the handler: show it
        # else the caller left mid-answer: that is its business, not a failure of the model


class _Refused(Exception):
    """A request the model refuses, as a real provider would."""

    def __init__(self, status: int, message: str, code: str = "invalid_request_error",
                 headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers


class _Handler(BaseHTTPRequestHandler):
    model_server: ScriptedModelServer
    protocol_version = "HTTP/1.1"
    timeout: float  # on the socket: a body that never arrives, or an idle caller, frees its thread
    disable_nagle_algorithm = True  # headers and body go out as two writes; Nagle would hold the body ~40 ms

    def log_message(self, *_args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        self._script_generation = self.model_server.script.generation  # the scenario this request belongs to
        self._began, self._request_id = time.perf_counter(), uuid.uuid4().hex[:12]
        self._breaks_off = False  # set by a "breaks-off" fault for this request's stream
        route, body = self.path.split("?")[0].rstrip("/"), None
        try:
            method = ROUTES.get(route)
            if method is None:
                raise _Refused(404, f"no route {self.command} {self.path}", "not_found")
            if method != self.command:
                raise _Refused(405, f"{self.command} is not allowed on {route}, only {method}",
                               "method_not_allowed", (("Allow", method),))
            if route == "/v1/models":
                return self._json(200, {"object": "list", "data": []})
            body = self._body()
            if route == "/v1/chat/completions":
                _check_chat(body)
                return self._chat(body)
            _check_embeddings(body)
            self._embeddings(body)
        except _Refused as refusal:
            if body is None:  # the body, if any, is still unread: this connection cannot carry another request
                self.close_connection = True
            self._json(refusal.status, _error(refusal.code, str(refusal)), refusal.headers)

    def _body(self) -> dict:
        length = self.headers.get("Content-Length", "0").strip()
        if not (length.isascii() and length.isdigit()):
            raise _Refused(400, f"Content-Length must be a non-negative integer, got {length!r}")
        if int(length) > MAX_BODY_BYTES:
            raise _Refused(413, f"request body of {length} bytes is over the limit of {MAX_BODY_BYTES} bytes",
                           "request_too_large")
        try:
            raw = self.rfile.read(int(length))
        except TimeoutError:
            raw = b""
        if len(raw) < int(length):
            raise _Refused(400, f"request body ended before its Content-Length of {length} bytes arrived")
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, RecursionError):  # RecursionError: absurdly nested arrays
            raise _Refused(400, "request body is not JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, f"request body must be a JSON object, got {_described(body)}")
        return body

    def _chat(self, body: dict) -> None:
        script = self.model_server.script
        model, messages = body["model"], body["messages"]
        parameters = {k: v for k, v in body.items() if k not in ("model", "messages")}
        if self._play_fault("chat", model, messages, parameters, ()):
            return
        answer, finish = _limited(script.answer_for(model, messages), body.get("stop"), body.get("max_tokens"))
        usage = _usage(count_tokens("\n".join(str(m.get("content", "")) for m in messages)), count_tokens(answer))
        self._record("chat", model, tuple(messages), parameters, (), "answered", answer, usage=usage)
        if body.get("stream"):
            return self._stream(model, answer, usage, bool((body.get("stream_options") or {}).get("include_usage")),
                                finish)
        self._json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": finish}
                ],
                "usage": usage,
            },
        )

    def _embeddings(self, body: dict) -> None:
        model, inputs = body["model"], body["input"]
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if self._play_fault("embeddings", model, [], {}, tuple(inputs)):
            return
        dimensions = body.get("dimensions") or self.model_server.dimensions
        tokens = sum(count_tokens(text) for text in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        data = [{"object": "embedding", "index": i, "embedding": embed(text, dimensions)}
                for i, text in enumerate(inputs)]
        parameters = {k: v for k, v in body.items() if k not in ("model", "input")}
        self._record("embeddings", model, (), parameters, tuple(inputs), "answered", usage=usage)
        self._json(200, {"object": "list", "model": model, "data": data, "usage": usage})

    def _play_fault(self, endpoint: str, model: str, messages: list, parameters: dict, inputs: tuple) -> bool:
        """Play the scripted fault for this model, if any. True when the request is finished."""
        script = self.model_server.script
        fault = script.take_fault(model)
        if fault is None:
            return False
        outcome = f"{fault.kind} {fault.status}" if fault.kind == "status" else fault.kind
        status = {"status": fault.status, "malformed": 200, "no-choices": 200, "quotes-key": 401,
                  "breaks-off": 500}.get(fault.kind)
        self._record(endpoint, model, tuple(messages), parameters, inputs, outcome, status=status)
        if fault.kind == "delay":
            time.sleep(fault.delay_s)  # then answer normally, often to a caller who gave up
            return False
        if fault.kind == "breaks-off" and parameters.get("stream"):
            self._breaks_off = True  # the stream starts, and breaks off halfway
            return False
        if fault.kind in ("status", "breaks-off"):
            code = {429: "rate_limit_exceeded", 503: "service_unavailable"}.get(fault.status, "server_error")
            self._json(fault.status, _error(code, f"scripted HTTP {fault.status} for model {model}"))
        elif fault.kind == "quotes-key":
            presented = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            self._json(401, _error("invalid_api_key", f"Incorrect API key provided: {presented}. Check the key "
                                   "you sent in the Authorization header."))
        elif fault.kind == "malformed":
            self._raw(200, "application/json", MALFORMED_BODY)
        elif fault.kind == "no-choices":
            self._raw(200, "application/json", NO_CHOICES_BODY)
        elif fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        return True

    def _record(self, *fields, usage: dict | None = None, status: int | None = 200) -> None:
        """Journal this request with the key and the headers the caller presented, and how long it took so far.

        Journalled before the response is sent, so a caller that has its answer always finds it in the journal.
        """
        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        entry = JournalEntry(*fields, usage=usage or {}, bearer=bearer,
                             headers=dict(self.headers.items()), status=status,
                             latency_s=time.perf_counter() - self._began, request_id=self._request_id)
        self.model_server.script.record(entry, generation=self._script_generation)

    def _stream(self, model: str, answer: str, usage: dict, include_usage: bool, finish: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())

        def send(data: dict | str) -> None:
            """One server-sent event: a JSON object, or OpenAI's closing "[DONE]"."""
            self.wfile.write(f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        def chunk(choices: list[dict], **extra) -> dict:
            return {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": choices, **extra}

        def event(delta: dict, finish: str | None = None) -> None:
            send(chunk([{"index": 0, "delta": delta, "finish_reason": finish}]))

        event({"role": "assistant", "content": ""})
        pieces = _pieces(answer)
        if self._breaks_off:
            for piece in pieces[:len(pieces) // 2]:
                event({"content": piece})
            send(_error("server_error", f"scripted: model {model} broke off its answer"))
            return
        for piece in pieces:
            event({"content": piece})
        event({}, finish)
        if include_usage:
            send(chunk([], usage=usage))
        send("[DONE]")

    def _json(self, status: int, payload: dict, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self._raw(status, "application/json", json.dumps(payload).encode(), headers)

    def _raw(self, status: int, content_type: str, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller timed out and left; that is the scenario


def _check_chat(body: dict) -> None:
    model, messages = body.get("model", _MISSING), body.get("messages", _MISSING)
    _check(isinstance(model, str), "model", model, "a string")
    _check(isinstance(messages, list), "messages", messages, "a list of messages")
    for i, message in enumerate(messages):
        _check(isinstance(message, dict), f"messages[{i}]", message, "an object")
        content = message.get("content")
        parts = isinstance(content, list) and all(isinstance(part, dict) for part in content)
        _check(content is None or isinstance(content, str) or parts, f"messages[{i}].content", content,
               "a string, null or a list of content parts")
    stream, options = body.get("stream"), body.get("stream_options")
    _check(stream is None or isinstance(stream, bool), "stream", stream, "a boolean")
    _check(options is None or isinstance(options, dict), "stream_options", options, "an object")


def _check_embeddings(body: dict) -> None:
    model, inputs, dimensions = body.get("model", _MISSING), body.get("input", _MISSING), body.get("dimensions")
    texts = isinstance(inputs, list) and all(isinstance(text, str) for text in inputs)
    _check(isinstance(model, str), "model", model, "a string")
    _check(isinstance(inputs, str) or texts, "input", inputs, "a string or a list of strings")
    # bool is an int to Python, not to JSON; the cap keeps one request from building gigabyte vectors
    _check(dimensions is None or (type(dimensions) is int and 0 < dimensions <= MAX_DIMENSIONS), "dimensions",
           dimensions, f"an integer from 1 to {MAX_DIMENSIONS}")


def _check(ok: bool, field: str, value: object, wanted: str) -> None:
    if not ok:
        raise _Refused(400, f"'{field}' must be {wanted}, got {_described(value)}")


def _described(value: object) -> str:
    if value is _MISSING:
        return "nothing"
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "an object"
    return json.dumps(value)[:40]


def _limited(answer: str, stop: object, max_tokens: object) -> tuple[str, str]:
    """The answer as a provider writes it for these settings, and why it ended: cut before the first stop
    sequence ("stop"), or after max_tokens tokens ("length")."""
    stops = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    cuts = [answer.find(s) for s in stops if isinstance(s, str) and s and s in answer]
    if cuts:
        answer = answer[:min(cuts)]
    if type(max_tokens) is int and count_tokens(answer) > max_tokens > 0:
        return " ".join(answer.split()[:max_tokens]), "length"
    return answer, "stop"


def _pieces(answer: str) -> list[str]:
    """Split into word-sized pieces that join back to the exact answer."""
    words = answer.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _error(code: str, message: str) -> dict:
    return {"error": {"message": message, "type": code, "code": code}}
