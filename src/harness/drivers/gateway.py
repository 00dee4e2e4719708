"""Drive the gateway service as a platform component would: completions and streams over HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ai_contract.routes import GENERATE
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
        return Answer(data["text"], data["model"], _usage(data["usage"]))

    def stream(self, prompt: str) -> StreamedAnswer:
        """The server-sent events, read to the end; an error event is a refusal like any other."""
        with model_exchange(self._world):
            response = self._services.send("gateway", "POST", f"{GENERATE}/stream", body={"prompt": prompt})
        if not response.is_success:
            data_or_refusal(response)
        streamed = StreamedAnswer()
        for line in response.text.splitlines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line.removeprefix("data: "))
            if "error" in event:
                error = event["error"]
                raise ServiceRefusal(response.status_code, error["code"], error["message"], error.get("details", {}))
            if "text" in event:
                streamed.pieces.append(event["text"])
            if event.get("done"):
                streamed.completion = Answer("".join(streamed.pieces), event["model"], _usage(event["usage"]))
        return streamed


def _usage(usage: dict) -> Usage:
    return Usage(usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"])
