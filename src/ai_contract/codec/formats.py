"""Wire formats: names, Content-Types, and telling them apart on raw bytes.

An envelope is always a map at the top level, so its first byte identifies the format:
JSON objects start with ``{`` (after optional whitespace); MessagePack maps start with a
fixmap byte 0x80-0x8f or map16/map32 (0xde/0xdf). The two ranges do not overlap, so
detection is exact for well-formed envelopes and needs no header. When a header is
present (NATS Content-Type) it wins, so a reader never has to guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from .errors import DecodeError, UnsupportedFormatError

Format = Literal["json", "msgpack"]

FORMATS: tuple[Format, ...] = ("json", "msgpack")

CONTENT_TYPES: dict[str, str] = {
    "json": "application/json",
    "msgpack": "application/msgpack",
}

CONTENT_TYPE_HEADER = "Content-Type"

# Media types seen in the wild for MessagePack before application/msgpack was registered.
_FORMAT_OF_MEDIA_TYPE: dict[str, Format] = {
    "application/json": "json",
    "application/msgpack": "msgpack",
    "application/x-msgpack": "msgpack",
    "application/vnd.msgpack": "msgpack",
}

_JSON_WHITESPACE = b" \t\r\n"


def check_format(format: str) -> Format:
    """Return ``format`` if the codec speaks it, else raise :class:`UnsupportedFormatError`."""
    if format == "json" or format == "msgpack":
        return format
    raise UnsupportedFormatError(str(format), FORMATS)


def detect_format(raw: bytes | bytearray | memoryview) -> Format:
    """Tell JSON from MessagePack by the first byte of an envelope.

    Raises :class:`DecodeError` with reason ``empty_payload`` or ``unknown_format``.
    """
    if not raw:
        raise DecodeError("The message is empty.", reason="empty_payload")
    first = raw[0]
    if first == 0x7B:  # "{"
        return "json"
    if 0x80 <= first <= 0x8F or first in (0xDE, 0xDF):
        return "msgpack"
    if first in _JSON_WHITESPACE:
        head = bytes(raw[:64]).lstrip(_JSON_WHITESPACE)
        if head[:1] == b"{" or not head:  # only whitespace so far: the JSON decoder judges
            return "json"
    raise DecodeError(
        f"The message is neither a JSON object nor a MessagePack map (first byte 0x{first:02x}).",
        reason="unknown_format",
    )


def headers_for(format: str) -> dict[str, str]:
    """NATS headers announcing ``format``: ``{"Content-Type": ...}``."""
    return {CONTENT_TYPE_HEADER: CONTENT_TYPES[check_format(format)]}


def format_from_headers(headers: Mapping[str, str] | None) -> Format | None:
    """The format named by a Content-Type header, or None when there is no such header.

    The header name is matched case-insensitively and media-type parameters
    (``; charset=utf-8``) are ignored. An unknown media type raises
    :class:`UnsupportedFormatError`, because guessing would hide a producer's mistake.
    """
    if not headers:
        return None
    value = headers.get(CONTENT_TYPE_HEADER)
    if value is None:
        lowered = CONTENT_TYPE_HEADER.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    if value is None:
        return None
    media_type = value.split(";", 1)[0].strip().lower()
    try:
        return _FORMAT_OF_MEDIA_TYPE[media_type]
    except KeyError:
        raise UnsupportedFormatError(value, tuple(CONTENT_TYPES.values())) from None
