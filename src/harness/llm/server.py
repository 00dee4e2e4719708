"""The scripted language model: an OpenAI-compatible HTTP server on loopback.

Serves POST /v1/chat/completions (JSON or SSE streaming, with usage) and POST /v1/embeddings
(deterministic vectors). What it answers and which faults it plays come from a Script.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.llm.embeddings import embed
from harness.llm.script import JournalEntry, Script, count_tokens

DEFAULT_DIMENSIONS = 384
MALFORMED_BODY = b'{"id": "chatcmpl-broken", "choices": [ this is not json'


class ScriptedModelServer:
    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS, host: str = "127.0.0.1") -> None:
        self.script = Script()
        self.dimensions = dimensions
        handler = type("Handler", (_Handler,), {"model_server": self})
        self._httpd = ThreadingHTTPServer((host, 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-llm", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ScriptedModelServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    model_server: ScriptedModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            return self._json(200, {"object": "list", "data": []})
        self._json(404, _error("not_found", f"no route GET {self.path}"))

    def do_POST(self) -> None:
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except ValueError:
            return self._json(400, _error("invalid_request_error", "request body is not JSON"))
        route = self.path.rstrip("/")
        if route == "/v1/chat/completions":
            return self._chat(body)
        if route == "/v1/embeddings":
            return self._embeddings(body)
        self._json(404, _error("not_found", f"no route POST {self.path}"))

    def _chat(self, body: dict) -> None:
        script = self.model_server.script
        model, messages = str(body.get("model", "")), list(body.get("messages") or [])
        parameters = {k: v for k, v in body.items() if k not in ("model", "messages")}
        if self._play_fault("chat", model, messages, parameters, ()):
            return
        answer = script.answer_for(model, messages)
        usage = _usage(count_tokens("\n".join(str(m.get("content", "")) for m in messages)), count_tokens(answer))
        script.record(JournalEntry("chat", model, tuple(messages), parameters, (), "answered", answer, usage,
                                   self._bearer()))
        if body.get("stream"):
            return self._stream(model, answer, usage, bool((body.get("stream_options") or {}).get("include_usage")))
        self._json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
                ],
                "usage": usage,
            },
        )

    def _embeddings(self, body: dict) -> None:
        model = str(body.get("model", ""))
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        if not all(isinstance(text, str) for text in inputs):
            return self._json(400, _error("invalid_request_error", "input must be text"))
        if self._play_fault("embeddings", model, [], {}, tuple(inputs)):
            return
        dimensions = int(body.get("dimensions") or self.model_server.dimensions)
        self.model_server.script.record(
            JournalEntry("embeddings", model, (), {}, tuple(inputs), "answered", bearer=self._bearer())
        )
        tokens = sum(count_tokens(text) for text in inputs)
        self._json(
            200,
            {
                "object": "list",
                "model": model,
                "data": [
                    {"object": "embedding", "index": i, "embedding": embed(text, dimensions)}
                    for i, text in enumerate(inputs)
                ],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _play_fault(self, endpoint: str, model: str, messages: list, parameters: dict, inputs: tuple) -> bool:
        """Play the scripted fault for this model, if any. True when the request is finished."""
        script = self.model_server.script
        fault = script.take_fault(model)
        if fault is None:
            return False
        outcome = f"{fault.kind} {fault.status}" if fault.kind == "status" else fault.kind
        script.record(JournalEntry(endpoint, model, tuple(messages), parameters, inputs, outcome,
                                   bearer=self._bearer()))
        if fault.kind == "delay":
            time.sleep(fault.delay_s)  # then answer normally, often to a caller who gave up
            return False
        if fault.kind == "status":
            code = {429: "rate_limit_exceeded", 503: "service_unavailable"}.get(fault.status, "server_error")
            self._json(fault.status, _error(code, f"scripted HTTP {fault.status} for model {model}"))
        elif fault.kind == "malformed":
            self._raw(200, "application/json", MALFORMED_BODY)
        elif fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        return True

    def _bearer(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ").strip()

    def _stream(self, model: str, answer: str, usage: dict, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())

        def event(delta: dict, finish: str | None = None, extra: dict | None = None) -> None:
            chunk = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **(extra or {}),
            }
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for piece in _pieces(answer):
            event({"content": piece})
        event({}, "stop")
        if include_usage:
            chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [], "usage": usage}
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _json(self, status: int, payload: dict) -> None:
        self._raw(status, "application/json", json.dumps(payload).encode())

    def _raw(self, status: int, content_type: str, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller timed out and left; that is the scenario


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
