"""Attach every prompt sent to the language model, and its answer, during a block of work."""

from __future__ import annotations

from contextlib import contextmanager

from harness.reporting import attach_json, attach_text
from harness.world import World


@contextmanager
def model_exchange(world: World):
    if not world.session.scripted:
        yield
        return
    seen = len(world.llm.journal("chat"))
    try:
        yield
    finally:
        for entry in world.llm.journal("chat")[seen:]:
            attach_json(f"prompt sent to {entry.model}", {"messages": list(entry.messages),
                                                          "parameters": entry.parameters})
            attach_text(f"answer from {entry.model}", entry.answer if entry.outcome == "answered"
                        else f"(no answer: {entry.outcome})")
