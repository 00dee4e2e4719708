"""One alphabet for tenant ids and other ids, on HTTP and on NATS: a subject token can never widen."""

from __future__ import annotations

import re

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_ID = re.compile(ID_PATTERN)


def is_valid_id(value: str | None) -> bool:
    return bool(value) and _ID.match(value) is not None
