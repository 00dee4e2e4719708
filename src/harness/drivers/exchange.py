"""Attach every prompt sent to the language model, the headers it came with, and its answer.

Everything goes through the redacting attachments, so the API key the model saw is never shown."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from harness.reporting import attach_json, attach_text

if TYPE_CHECKING:
    from harness.world import World


@contextmanager
def model_exchange(world: World):
    if world.session.llm_profile == "local":
        world.session.local_models  # noqa: B018 - started before the call, so its journal sees the call
    script = world.session.model_server.script if world.session.scripted else world.session.model_journal
    if script is None:  # the live profile: no server of the suite's sees the calls
        yield
        return
    seen = len(script.journal("chat"))
    try:
        yield
    finally:
        for entry in script.journal("chat")[seen:]:
            attach_json(f"prompt sent to {entry.model}", {"messages": list(entry.messages),
                                                          "parameters": entry.parameters})
            attach_json(f"request headers seen by {entry.model}", entry.headers)
            attach_text(f"answer from {entry.model}", entry.answer if entry.outcome == "answered"
                        else f"(no answer: {entry.outcome})")
