"""Drive the gateway service as a platform component would: completions and streams over HTTP."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ai_contract.routes import GENERATE, GENERATE_STREAM
from harness.drivers.exchange import model_exchange
from harness.drivers.refusal import ServiceRefusal, data_or_refusal

if TYPE_CHECKING:
    from harness.world import World



@dataclass(frozen=True)
class Usage:
    """Token counts as the gateway reports them, the total as reported (not recomputed here)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class Answer:
    text: str
    model: str  # the provider model that answered
    usage: Usage
    finish_reason: str = ""  # why the answer ended, as the gateway reports it


# The two ways to ask the gateway for a stream, by the names the specs give them.
STREAM_ROUTES = {"the streaming route": (GENERATE_STREAM, {}), "the completion route, streamed": (GENERATE, {
    "stream": True})}


def limits(phrase: str) -> dict:
    """The request fields for a limit the specs name: no limit, the stop word "END", at most 3 tokens."""
    if phrase == "no limit":
        return {}
    if phrase.startswith("the stop word "):
        return {"stop": [phrase.split('"')[1]]}
    tokens = re.fullmatch(r"at most (\d+) tokens?", phrase)
    assert tokens, f"no limit called {phrase!r}"
    return {"max_tokens": int(tokens.group(1))}


@dataclass
class StreamedAnswer:
    pieces: list[str] = field(default_factory=list)
    completion: Answer | None = None  # set by the last event, with the usage


class GatewayDriver:
    def __init__(self, world: World) -> None:
        self._world = world
        self._services = world.services
        self._services.url("gateway")  # started here, so a timed request measures the request

    def complete(self, prompt: str, **parameters) -> Answer:
        with model_exchange(self._world):
            response = self._services.send("gateway", "POST", GENERATE, body={"prompt": prompt, **parameters})
        data = data_or_refusal(response)
        return Answer(data["text"], data["model"], _usage(data["usage"]), data["finish_reason"])

    def stream(self, prompt: str, route: str = "the streaming route", **parameters) -> StreamedAnswer:
        """The server-sent events, read to the end; an error event is a refusal like any other."""
        path, streamed_by = STREAM_ROUTES[route]
        with model_exchange(self._world):
            response = self._services.send("gateway", "POST", path,
                                           body={"prompt": prompt, **streamed_by, **parameters})
        media = response.headers.get("content-type", "")
        if response.is_success and not media.startswith("text/event-stream"):
            raise AssertionError(f"expected server-sent events from {path}, got {media}: {response.text[:300]}")
        if not response.is_success:
            data_or_refusal(response)
        streamed = StreamedAnswer()
        for line in response.text.splitlines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line.removeprefix("data: "))
            if "error" in event:
                error = event["error"]
                raise ServiceRefusal(response.status_code, error["code"], error["message"], error.get("details", {}),
                                     streamed_before="".join(streamed.pieces))
            if "text" in event:
                streamed.pieces.append(event["text"])
            if event.get("done"):
                streamed.completion = Answer("".join(streamed.pieces), event["model"], _usage(event["usage"]),
                                             event.get("finish_reason", ""))
        return streamed


def _usage(usage: dict) -> Usage:
    return Usage(usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"])
