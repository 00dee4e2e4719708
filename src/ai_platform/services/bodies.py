"""The body of every request, read before a route sees it: at most MAX_BODY_BYTES whether or not the
client said its length (413), arriving within BODY_TIMEOUT_S (408), and, when it is JSON, holding only
finite numbers and text the contract allows (400 naming the field). The route reads the same bytes."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from ai_contract.text import text_problem

Refuse = Callable[..., Awaitable[None]]  # (scope, send, status, code, message, details)
# How much of an oversized body is read (and thrown away) before the 413, so the client can read the answer.
DISCARD_BYTES, DISCARD_S = 16 * 1024 * 1024, 2.0


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class BodyGuard:
    """Pure ASGI, so that it counts bytes as they arrive and can stop reading a body that never ends."""

    def __init__(self, app, *, max_bytes: int, timeout_s: float, refuse: Refuse) -> None:
        self.app, self.max_bytes, self.timeout_s, self.refuse = app, max_bytes, timeout_s, refuse

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            body = await asyncio.wait_for(self._read(receive), self.timeout_s)
        except BodyTooLarge:
            await self._discard_rest(receive)
            return await self.refuse(scope, send, 413, "PAYLOAD_TOO_LARGE",
                                     f"The body is larger than {self.max_bytes} bytes, the most accepted.",
                                     {"limit_bytes": self.max_bytes})
        except ClientGone:
            return None  # nobody to answer
        except TimeoutError:
            return await self.refuse(scope, send, 408, "REQUEST_TIMEOUT",
                                     f"The body did not arrive within {self.timeout_s:g} s.",
                                     {"timeout_s": self.timeout_s})
        if body and _is_json(scope):
            problem = json_problem(body)
            if problem:
                field, said = problem
                return await self.refuse(scope, send, 400, "VALIDATION_ERROR", f"{field}: {said}.",
                                         {"field": field, "problem": said})
        await self.app(scope, _replaying(body, receive), send)

    async def _discard_rest(self, receive) -> None:
        """Read what is left of an oversized body, within bounds, before answering: a client still sending when
        the connection closes may never read the 413 (its write fails, and a reset can drop the answer)."""
        async def drain() -> None:
            size = 0
            while size <= DISCARD_BYTES:
                message = await receive()
                size += len(message.get("body", b""))
                if message["type"] == "http.disconnect" or not message.get("more_body", False):
                    return
        try:
            await asyncio.wait_for(drain(), DISCARD_S)
        except TimeoutError:
            pass  # a body that never ends is cut off: the answer goes out anyway

    async def _read(self, receive) -> bytes:
        parts, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise BodyTooLarge
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)


def json_problem(body: bytes) -> tuple[str, str] | None:
    """(field, problem) for the first value the contract forbids, or None (also for a body that is not JSON
    at all: the route's own parser names that). Python's JSON reader takes NaN and Infinity; JSON has none."""
    try:
        value = json.loads(body, parse_constant=_NonFinite)
    except ValueError:
        return None
    return _first_problem(value, "")


class _NonFinite(str):
    """NaN, Infinity or -Infinity where the body has it, so the field can be named."""


def _first_problem(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, _NonFinite):
        return path or "body", f"{value} is not a number JSON allows"
    if isinstance(value, str):
        problem = text_problem(value)
        return (path or "body", f"contains {problem}") if problem else None
    if isinstance(value, float) and not math.isfinite(value):  # 1e999 reads as infinity
        return path or "body", "is too large to be a finite number"
    if isinstance(value, dict):  # field names are the models' to refuse: unknown ones are, known ones are clean
        for key, item in value.items():
            found = _first_problem(item, f"{path}.{key}" if path else key)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_problem(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def _is_json(scope) -> bool:
    """JSON, or no type at all (the routes read that as JSON too)."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True


def _replaying(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the client's disconnect, for streaming responses
    return replay
