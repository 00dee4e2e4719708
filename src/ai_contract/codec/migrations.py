"""Upgrades from older majors to the current shape, applied on read.

A migration takes a validated old shape and returns the next major's shape, so errors in an
old message are reported in the old producer's own field names, and each step is a plain,
typed function that is easy to test. Readers chain steps until they reach the current major.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import msgspec

from .schemas import v0, v1


class Migration(NamedTuple):
    from_version: str
    to_version: str
    upgrade: Callable[[msgspec.Struct], msgspec.Struct]


def _agent_message_0_to_1(old: v0.AgentMessageV0) -> v1.AgentMessage:
    # 0.9 -> 1.0 only renamed fields; values and types are unchanged.
    return v1.AgentMessage(
        message_id=old.id,
        source_agent_id=old.from_,
        target_agent_id=old.to,
        content=old.text,
        message_type=old.type,
        timestamp=old.time,
        metadata=old.meta,
    )


# (message_type, major read) -> step to the next major.
MIGRATIONS: dict[tuple[str, int], Migration] = {
    ("agent_message", 0): Migration("0.9", "1.0", _agent_message_0_to_1),
}


def upgrade(message_type: str, major: int, data: msgspec.Struct) -> msgspec.Struct:
    """Apply migrations from ``major`` until no further step exists (the current major)."""
    step = MIGRATIONS.get((message_type, major))
    while step is not None:
        data = step.upgrade(data)
        major = int(step.to_version.split(".", 1)[0])
        step = MIGRATIONS.get((message_type, major))
    return data


def upgradable_versions(message_type: str) -> list[str]:
    """Old versions of ``message_type`` that a chain of migrations brings to the current shape."""
    return [m.from_version for (name, _), m in MIGRATIONS.items() if name == message_type]
