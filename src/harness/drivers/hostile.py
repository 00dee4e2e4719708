"""Hostile input, sent byte for byte as a careless or malicious client would: values JSON or the contract
forbids, header values outside the id alphabet, bodies over the limit or that stop halfway.

Requests go over a plain `http.client` connection, so the driver controls every byte and can tell whether
the service kept the connection open after its refusal.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from ai_contract import routes
from ai_contract.headers import AUTHORIZATION, TENANT
from harness.reporting import attach_json
from harness.world import World

MARK = "__hostile__"
WAIT_S = 30.0  # the most any refusal may take, the stalled body's included
# The requests the specs name: (service, method, path, a body the service accepts).
REQUESTS: dict[str, tuple[str, str, str, dict]] = {
    "a document": ("rag", "POST", routes.DOCUMENTS, {"title": "Holiday hours",
                                                     "content": "The office closes on 24 December."}),
    "a question": ("rag", "POST", routes.RAG_QUERY, {"query": "When does the office close?", "top_k": 3}),
    "a search": ("rag", "POST", routes.RAG_SEARCH, {"query_text": "office hours", "top_k": 3}),
    "a completion request": ("gateway", "POST", routes.GENERATE, {"prompt": "Say hello", "max_tokens": 20}),
    "an OpenAI chat request": ("gateway", "POST", routes.OPENAI_CHAT, {
        "model": "chat", "messages": [{"role": "user", "content": "Say hello"}]}),
    "an embeddings request": ("gateway", "POST", routes.EMBEDDINGS, {"texts": ["office hours"]}),
    "an agent": ("agent", "POST", routes.AGENTS, {"name": "Helper", "tool_ids": []}),
    "a chat message": ("agent", "POST", routes.agent_chat("helper"), {"message": "Hello"}),
    "a task": ("agent", "POST", routes.agent_execute("helper"), {"task_type": "answer",
                                                                 "parameters": {"question": "Why?"}}),
    "a unified query": ("query", "POST", routes.QUERY, {"query": "When does the office close?", "mode": "rag"}),
}
# Values, as the JSON text that goes in the field.
BODY_VALUES: dict[str, str] = {
    "a NUL character": r'"Holiday\u0000hours"',
    "an unpaired surrogate": r'"Holiday \ud800 hours"',
    "an escape character": r'"\u001b[31mred"',
    "NaN": "NaN",
    "Infinity": "Infinity",
    "a number too large to be finite": "1e999",
    "1e40": "1e40",
    "1,001 characters": json.dumps("x" * 1001),
    "65 characters": json.dumps("a" * 65),
    "a dot": '"acme.eu"',
    "a star": '"acme*"',
    "a greater-than sign": '"acme>"',
    "the number 5": "5",
    "the number 0": "0",
    "the number 2": "2",
    "the number 101": "101",
    "true": "true",
    'the text "yes"': '"yes"',
    'the text "tool"': '"tool"',
    "an embedding of 3 numbers": "[0.1, 0.2, 0.3]",
    "a tool list": '[{"type": "function", "function": {"name": "lookup"}}]',
    "a JSON schema": '{"type": "json_object"}',
    "an empty list": "[]",
}
HEADER_VALUES: dict[str, bytes] = {
    "non-ASCII letters": "Zoë".encode(),
    "a dot": b"acme.eu",
    "a star": b"acme*",
    "a greater-than sign": b"acme>",
    "a space": b"acme eu",
    "65 characters": b"a" * 65,
}


class HostileClient:
    def __init__(self, world: World) -> None:
        self._world = world
        self._connection: http.client.HTTPConnection | None = None
        self._local_port: int | None = None
        self._service: str | None = None
        self.waited_s: float | None = None  # how long the stalled body's answer took
        world.add_cleanup(self._close)

    # the requests --------------------------------------------------------------------------------

    def with_value(self, request: str, value: str, field: str) -> httpx.Response:
        """The request, its `field` (a dotted path; a new field is added) holding the named value."""
        assert value in BODY_VALUES, f"no hostile value called {value!r}; known: {', '.join(BODY_VALUES)}"
        service, method, path, body = self._request(request)
        raw = json.dumps(_with_field(body, field, MARK)).replace(json.dumps(MARK), BODY_VALUES[value])
        return self._send(service, method, path, raw.encode())

    def with_header(self, request: str, value: str, header: str) -> httpx.Response:
        assert value in HEADER_VALUES, f"no hostile header value called {value!r}; known: {', '.join(HEADER_VALUES)}"
        service, method, path, body = self._request(request)
        return self._send(service, method, path, json.dumps(body).encode(), headers={header: HEADER_VALUES[value]})

    def chunked(self, request: str, size: int) -> httpx.Response:
        """The request with a body of `size` bytes sent in chunks, its length never said."""
        service, method, path, body = self._request(request)
        padded = json.dumps({**body, "padding": ""})[:-2]  # the body up to the padding's closing quote
        pieces = [padded.encode()] + [b"x" * 65536] * (size // 65536) + [b'"}']
        return self._send(service, method, path, iter(pieces), chunked=True)

    def stalled(self, request: str) -> httpx.Response:
        """The request announcing a body it sends only half of; the answer (its time in `waited_s`)."""
        service, method, path, body = self._request(request)
        whole = json.dumps(body).encode()
        connection = self._open(service)
        connection.putrequest(method, path)
        for name, value in {**self._headers(service), "Content-Length": str(len(whole))}.items():
            connection.putheader(name, value)
        connection.endheaders(whole[: len(whole) // 2])
        began = time.monotonic()
        try:
            return self._read(connection, method, path, "(half of the announced body)")
        finally:
            self.waited_s = time.monotonic() - began

    # what the client sees afterwards -------------------------------------------------------------

    def health_afterwards(self) -> tuple[int, bool]:
        """/health's status, on the refused request's connection unless the service closed it, and whether it
        was the same connection."""
        connection = self._connection
        assert connection is not None and self._service, "send a hostile request first"
        before = self._local_port
        connection.request("GET", routes.HEALTH)  # http.client opens a new connection if the old one was closed
        status = connection.getresponse()
        status.read()
        return status.status, connection.sock is not None and connection.sock.getsockname()[1] == before

    def body_timeout_s(self, service: str) -> float:
        """The time a body may take, as the service's OpenAPI document states it."""
        document = httpx.get(self._world.services.url(service) + "/openapi.json", timeout=10).json()
        return float(document["info"]["x-body-timeout-s"])

    # plumbing -------------------------------------------------------------------------------------

    def _request(self, request: str) -> tuple[str, str, str, dict]:
        assert request in REQUESTS, f"no request called {request!r}; known: {', '.join(REQUESTS)}"
        return REQUESTS[request]

    def _headers(self, service: str) -> dict[str, str]:
        tenant = self._world.tenants.id_of(None)
        key = self._world.services.key_of(tenant, self._world.services.url(service))
        self._world.services.holds_tenant_data()
        return {"Content-Type": "application/json", AUTHORIZATION: f"Bearer {key}", TENANT: tenant}

    def _open(self, service: str) -> http.client.HTTPConnection:
        self._close()
        address = urlsplit(self._world.services.url(service))
        self._connection = http.client.HTTPConnection(address.hostname, address.port, timeout=WAIT_S)
        self._connection.connect()
        self._local_port, self._service = self._connection.sock.getsockname()[1], service
        return self._connection

    def _send(self, service: str, method: str, path: str, body: Any, *, headers: dict[str, bytes] | None = None,
              chunked: bool = False) -> httpx.Response:
        connection = self._open(service)
        sent = {**self._headers(service), **(headers or {})}
        shown = "(chunked)" if chunked else body.decode("utf-8", "backslashreplace")[:2000]
        try:
            connection.request(method, path, body=body, headers=sent, encode_chunked=chunked)
        except (BrokenPipeError, ConnectionResetError) as cut:
            # The service stopped reading the body: it may have answered first (a 413), which is what counts.
            try:
                return self._read(connection, method, path, shown)
            except (OSError, http.client.HTTPException):
                raise AssertionError(f"expected an answer to {method} {path}, the service dropped the connection "
                                     f"while the body was still being sent ({type(cut).__name__})") from None
        return self._read(connection, method, path, shown, {k: _shown(v) for k, v in (headers or {}).items()})

    def _read(self, connection: http.client.HTTPConnection, method: str, path: str, shown: str,
              headers: dict | None = None) -> httpx.Response:
        answer = connection.getresponse()
        content = answer.read()
        response = httpx.Response(answer.status, headers=answer.getheaders(), content=content,
                                  request=httpx.Request(method, path))
        attach_json(f"{method} {path} -> {answer.status}", {
            "request": {"headers": headers or {}, "body": shown},
            "response": {"status": answer.status, "headers": dict(answer.getheaders()),
                         "body": content.decode("utf-8", "replace")[:2000]}})
        return response

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _with_field(body: dict, path: str, value: Any) -> dict:
    """A copy of the body with `value` at the dotted path ("messages.0.content")."""
    copied = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    target: Any = copied
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return copied


def _shown(value: bytes) -> str:
    return value.decode("utf-8", "backslashreplace")
