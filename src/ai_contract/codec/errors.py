"""Typed codec errors.

Every error carries a short machine-readable ``reason`` (stable, snake_case) for dead-letter
subjects and metrics, and a one-sentence human ``message``. No raw msgspec exception ever
leaves the codec: callers catch :class:`CodecError` and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple


class CodecError(Exception):
    """Base class: a message could not be encoded, decoded, or accepted."""

    reason: str = "codec_error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason

    @property
    def details(self) -> dict[str, Any]:
        """Structured facts behind the message (limit, version, fields...)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """What a dead-letter record needs: reason, message and details."""
        return {"reason": self.reason, "message": self.message, "details": self.details}


class DecodeError(CodecError):
    """The bytes are not a readable envelope (empty, truncated, malformed, unknown format)."""

    reason = "malformed"


class MessageTooLargeError(DecodeError):
    """The message is bigger than the configured limit; checked before any decoding."""

    reason = "message_too_large"

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"The message is {size} bytes, over the limit of {limit} bytes."
        )

    @property
    def details(self) -> dict[str, Any]:
        return {"size": self.size, "limit": self.limit}


class UnsupportedFormatError(CodecError):
    """A format name or Content-Type this codec does not speak."""

    reason = "unsupported_format"

    def __init__(self, given: str, supported: Sequence[str]) -> None:
        self.given = given
        self.supported = tuple(supported)
        super().__init__(
            f"The format {given!r} is not supported; use one of {', '.join(self.supported)}."
        )

    @property
    def details(self) -> dict[str, Any]:
        return {"format": self.given, "supported": list(self.supported)}


class EncodeError(CodecError):
    """Valid data that the chosen wire format cannot carry (e.g. an int beyond 64 bits)."""

    reason = "not_encodable"


class UnsupportedVersionError(CodecError):
    """A schema version whose major this reader neither reads nor can upgrade."""

    reason = "unsupported_version"

    def __init__(self, message_type: str, version: str, supported: Sequence[str]) -> None:
        self.message_type = message_type
        self.version = version
        self.supported = tuple(supported)
        majors = "that major" if len(self.supported) == 1 else "those majors"
        super().__init__(
            f"Schema version {version} of {message_type} is not supported; this reader "
            f"supports {_join(self.supported)}, and any newer minor of {majors}."
        )

    @property
    def details(self) -> dict[str, Any]:
        return {
            "message_type": self.message_type,
            "version": self.version,
            "supported": list(self.supported),
        }


class UnknownMessageTypeError(CodecError):
    """A message_type this codec has no schema for."""

    reason = "unknown_message_type"

    def __init__(self, message_type: str, known: Sequence[str]) -> None:
        self.message_type = message_type
        self.known = tuple(known)
        super().__init__(
            f"The message type {message_type!r} is unknown; known types are "
            f"{_join(self.known)}."
        )

    @property
    def details(self) -> dict[str, Any]:
        return {"message_type": self.message_type, "known": list(self.known)}


class FieldError(NamedTuple):
    """One problem with one field: where, what, and a coarse kind for filtering."""

    path: str  # e.g. "data.chunks[0].embedding"
    problem: str  # e.g. "expected int, got str"
    kind: str  # missing | wrong_type | out_of_range | invalid_value | duplicate (a key written twice)

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


class ValidationError(CodecError):
    """The envelope or its data breaks the schema; lists every bad field, not only the first."""

    reason = "validation_failed"

    def __init__(self, errors: Iterable[FieldError], *, message_type: str | None = None) -> None:
        self.errors = tuple(errors)
        self.message_type = message_type
        what = f"The {message_type} message" if message_type else "The message"
        count = len(self.errors)
        plural = "problem" if count == 1 else "problems"
        listing = "; ".join(str(e) for e in self.errors)
        super().__init__(f"{what} is invalid ({count} {plural}): {listing}.")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(e.path for e in self.errors)

    @property
    def details(self) -> dict[str, Any]:
        return {
            "message_type": self.message_type,
            "errors": [e._asdict() for e in self.errors],
        }


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
