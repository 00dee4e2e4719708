"""Version 0.9 shapes: what older producers still send. Read only through a migration."""

from __future__ import annotations

import msgspec

from .v1 import Id, Metadata, Name, Timestamp

VERSION = "0.9"


class AgentMessageV0(msgspec.Struct, kw_only=True):
    """agent_message as the first SDK wrote it: short field names."""

    id: Id
    from_: Id = msgspec.field(name="from")
    to: Id
    text: str
    type: Name = "text"
    time: Timestamp
    meta: Metadata = {}


SHAPES: dict[str, type[msgspec.Struct]] = {"agent_message": AgentMessageV0}
