"""Encode and decode envelopes: the codec's hot path and its versioning rules.

Reading rules (the feature files say the same in business words):

* Same major, any minor: read. Fields a newer minor added are **ignored** on read, because
  the reader's typed view is its own current shape and it has no code that could use them;
  a relay that forwards a message must forward ``Envelope.raw`` (the original bytes), so
  nothing the producer wrote is lost on the way to a newer consumer. Fields an older minor
  lacks take their defaults.
* An older major with a registered migration is validated in its own shape, then upgraded;
  the reader sees the current shape, and ``source_version`` tells what was on the wire.
* Any other major, or an unknown message type, is refused with a typed error naming what
  this reader supports.
* A key written twice in one object or map is refused (``validation_failed``, each such field
  listed as ``duplicate``): readers disagree on which copy wins. ``schema_version`` is exactly
  MAJOR.MINOR, nothing around it.

Writing validates too: a mapping is converted to the shape, and a shape Struct (which msgspec
builds without checking its constraints) is checked before a byte is written.

Hot path: one typed msgspec decode into a Union of current-version envelopes tagged by
``message_type``, a set lookup of the version string, and a re-encode compared with the input
(equal bytes cannot hold a key twice; other bytes are walked key by key). Only when the
decode or the version lookup fails does the slow path run: it decodes untyped to find the
exact reason (bad bytes, unknown type, old or unsupported version, every bad field) or to read
and upgrade an older major.

JSON has no NaN or Infinity: msgspec writes them as null and readers then refuse the message
naming the field. Producers that need them must use MessagePack.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Union

import msgspec

from . import migrations
from .duplicates import duplicate_keys
from .errors import (
    DecodeError,
    EncodeError,
    FieldError,
    MessageTooLargeError,
    UnknownMessageTypeError,
    UnsupportedVersionError,
    ValidationError,
)
from .formats import Format, check_format, detect_format
from .schemas import (
    CURRENT_VERSIONS,
    MESSAGE_TYPES,
    SHAPES,
    envelope_type,
    parse_version,
    versions_of,
)
from .validation import collect_errors, from_msgspec

DEFAULT_MAX_SIZE = 1024 * 1024  # 1 MiB, the NATS server's default max_payload

# message_type -> every version this reader accepts: the current one and those it can upgrade.
SUPPORTED_VERSIONS: dict[str, tuple[str, ...]] = {
    name: tuple(
        v for v in versions_of(name)
        if v == CURRENT_VERSIONS[name] or v in migrations.upgradable_versions(name)
    )
    for name in MESSAGE_TYPES
}

_CURRENT_MAJOR: dict[str, int] = {
    name: parse_version(v)[0] for name, v in CURRENT_VERSIONS.items()  # type: ignore[index]
}
# Version strings already known to be well-formed and of the current major, per type: the
# hot path reads these with a set lookup; anything else goes through parse_version once.
_FAST_VERSIONS: dict[str, set[str]] = {name: {v} for name, v in CURRENT_VERSIONS.items()}
_FAST_VERSIONS_CAP = 64  # bound the memory a stream of odd minors can claim
# Readable majors -> the known version whose shape an incoming message is read with.
_READ_SHAPE: dict[tuple[str, int], str] = {
    (name, parse_version(v)[0]): v  # type: ignore[index]
    for name, versions in SUPPORTED_VERSIONS.items()
    for v in versions
}

_CURRENT_ENVELOPES = tuple(envelope_type(name, CURRENT_VERSIONS[name]) for name in MESSAGE_TYPES)
# Decoded envelope type -> (message_type, current version, fast versions): one lookup.
_READ_INFO = {
    envelope: (name, CURRENT_VERSIONS[name], _FAST_VERSIONS[name])
    for envelope, name in zip(_CURRENT_ENVELOPES, MESSAGE_TYPES, strict=True)
}
_AnyCurrent = Union[_CURRENT_ENVELOPES]  # noqa: UP007 - a runtime tuple needs Union[...]

_TYPED_DECODERS: dict[str, Any] = {
    "json": msgspec.json.Decoder(_AnyCurrent),
    "msgpack": msgspec.msgpack.Decoder(_AnyCurrent),
}
_UNTYPED_DECODERS: dict[str, Any] = {
    "json": msgspec.json.Decoder(),
    "msgpack": msgspec.msgpack.Decoder(),
}
# msgspec reports bad bytes as DecodeError, but invalid UTF-8 inside a string surfaces as
# UnicodeDecodeError and absurd nesting as RecursionError; all three mean "malformed".
_DECODE_FAILURES = (msgspec.MsgspecError, UnicodeDecodeError, RecursionError)
_ENCODERS: dict[str, Any] = {
    "json": msgspec.json.Encoder(),
    "msgpack": msgspec.msgpack.Encoder(),
}

# Message ids: a random per-process prefix plus a counter. Unique across processes and
# restarts like a UUID, at a tenth of uuid4's cost on the hot path.
_ID_PREFIX = os.urandom(8).hex() + "-"
_ID_COUNTER = itertools.count(1)


# (message_type, requested version or None for current) -> (shape, envelope type, version):
# one dict lookup on the hot path instead of three.
_WRITERS: dict[tuple[str, str | None], tuple[type[msgspec.Struct], type[msgspec.Struct], str]] = {
    **{(name, v): (SHAPES[(name, v)], envelope_type(name, v), v) for name, v in SHAPES},
    **{
        (name, None): (SHAPES[(name, v)], envelope_type(name, v), v)
        for name, v in CURRENT_VERSIONS.items()
    },
}


def _writer(message_type: str, version: str | None) -> Any:
    """Raise the right error for a (type, version) that cannot be written."""
    if message_type not in CURRENT_VERSIONS:
        raise UnknownMessageTypeError(message_type, MESSAGE_TYPES)
    raise UnsupportedVersionError(message_type, str(version), versions_of(message_type))


def new_message_id() -> str:
    """A fresh message id, unique across processes."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):x}"


class Envelope(msgspec.Struct):
    """A decoded message, with data in the reader's current shape.

    ``schema_version`` is the version of ``data`` as held here (the reader's current
    version); ``source_version`` is what the producer wrote. ``raw`` and ``format`` are the
    bytes and format it was read from (None when built locally); forward ``raw`` to relay a
    message without losing fields this reader does not know.
    """

    message_type: str
    data: msgspec.Struct
    schema_version: str
    source_version: str
    message_id: str
    created_at: datetime
    format: Format | None = None
    raw: bytes | None = None

    @property
    def upgraded(self) -> bool:
        """True when a migration turned an older major into the current shape."""
        return self.source_version.split(".", 1)[0] != self.schema_version.split(".", 1)[0]

    def encode(self, format: Format | None = None, *, max_size: int = DEFAULT_MAX_SIZE) -> bytes:
        """Re-encode in the current shape, keeping message id and creation time."""
        return encode(
            self.message_type,
            self.data,
            format=format or self.format or "json",
            message_id=self.message_id,
            created_at=self.created_at,
            max_size=max_size,
        )


def encode(
    message_type: str,
    data: Mapping[str, Any] | msgspec.Struct,
    *,
    format: Format = "json",
    version: str | None = None,
    message_id: str | None = None,
    created_at: datetime | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> bytes:
    """Wrap ``data`` in an envelope and encode it.

    ``data`` is a mapping or an instance of the shape Struct; either is validated first, every
    bad field reported, and nothing is written for an invalid message. ``version`` defaults to
    the current version; a known older version writes the legacy shape, as an old producer
    would.
    """
    writer = _WRITERS.get((message_type, version)) or _writer(message_type, version)
    shape, wire_type, shape_version = writer
    encoder = _ENCODERS.get(format)
    if encoder is None:
        check_format(format)
    data = validate(message_type, data, version=shape_version)
    if created_at is None:
        created_at = datetime.now(UTC)
    elif created_at.tzinfo is None:
        problem = FieldError("created_at", "expected datetime with a timezone", "invalid_value")
        raise ValidationError([problem], message_type=message_type)
    wire = wire_type(
        schema_version=shape_version,
        message_id=message_id or new_message_id(),
        created_at=created_at,
        data=data,
    )
    try:
        raw = encoder.encode(wire)
    except (TypeError, ValueError, OverflowError) as error:
        raise EncodeError(
            f"The {message_type} message cannot be written as {format}: {error}."
        ) from None
    if len(raw) > max_size:
        raise MessageTooLargeError(len(raw), max_size)
    return raw


def validate(
    message_type: str, data: Mapping[str, Any] | msgspec.Struct, *, version: str | None = None
) -> msgspec.Struct:
    """Check ``data`` against a message type's shape; return it typed or list every problem.

    A Struct of the shape is checked too (msgspec builds Structs without checking their
    constraints) and returned as it is.
    """
    shape, _, _ = _WRITERS.get((message_type, version)) or _writer(message_type, version)
    built = type(data) is shape
    plain = data
    if built:
        try:
            plain = msgspec.to_builtins(data, builtin_types=_KEPT_ON_CHECK)
        except (TypeError, ValueError, OverflowError) as error:
            raise EncodeError(f"The {message_type} message holds a value that cannot be written: {error}.") from None
    try:
        typed = msgspec.convert(plain, shape)
    except msgspec.ValidationError as error:
        errors = collect_errors(plain, shape, "data") or [from_msgspec(error, "data")]
        raise ValidationError(errors, message_type=message_type) from None
    return data if built else typed


# Kept as they are when a Struct is checked, so the check sees them as a reader would.
_KEPT_ON_CHECK = (datetime,)


def decode(
    raw: bytes | bytearray | memoryview,
    *,
    format: Format | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> Envelope:
    """Decode an envelope; ``format`` is detected from the bytes when None.

    Raises a :class:`CodecError` subclass for anything that is not a readable message.
    """
    size = len(raw)
    if size > max_size:
        raise MessageTooLargeError(size, max_size)
    if format is None:
        format = detect_format(raw)
    elif size == 0:
        raise DecodeError("The message is empty.", reason="empty_payload")
    decoder = _TYPED_DECODERS.get(format)
    if decoder is None:
        check_format(format)
    try:
        wire = decoder.decode(raw)
    except _DECODE_FAILURES:
        return _decode_slow(raw, format)
    message_type, current_version, fast_versions = _READ_INFO[type(wire)]
    if wire.schema_version not in fast_versions:
        return _decode_slow(raw, format)
    if not _written_as_is(wire, raw, format):
        _refuse_duplicate_keys(raw, format, message_type)
    # Positional: this runs for every message, and keywords cost a measurable share of it.
    return Envelope(
        message_type,
        wire.data,
        current_version,
        wire.schema_version,
        wire.message_id,
        wire.created_at,
        format,
        raw if type(raw) is bytes else bytes(raw),
    )


def _decode_slow(raw: bytes | bytearray | memoryview, format: Format) -> Envelope:
    """Find out exactly why the typed decode failed, or read an older major."""
    try:
        obj = _UNTYPED_DECODERS[format].decode(raw)
    except _DECODE_FAILURES as error:
        raise _decode_error(error, format) from None
    if not isinstance(obj, dict):
        raise DecodeError(
            f"The {format} message holds a {type(obj).__name__}, not an envelope object.",
            reason="not_an_envelope",
        )
    if not _written_as_is(obj, raw, format):
        name = obj.get("message_type")
        known = name if isinstance(name, str) and name in CURRENT_VERSIONS else None
        _refuse_duplicate_keys(raw, format, known)

    message_type = obj.get("message_type", _ABSENT)
    version = obj.get("schema_version", _ABSENT)
    problems: list[FieldError] = []
    if not isinstance(message_type, str):
        problems.append(_envelope_field_problem("message_type", message_type, "a type name"))
    elif message_type not in CURRENT_VERSIONS:
        raise UnknownMessageTypeError(message_type, MESSAGE_TYPES)
    parsed = parse_version(version) if isinstance(version, str) else None
    if parsed is None:
        problems.append(_envelope_field_problem("schema_version", version, "MAJOR.MINOR, e.g. 1.0"))
    if problems:
        # Without a type and version there is no data shape to check; report the envelope.
        for name in ("message_id", "created_at"):
            if name not in obj:
                problems.append(FieldError(name, "missing required field", "missing"))
        known = message_type if isinstance(message_type, str) else None
        raise ValidationError(problems, message_type=known)

    major = parsed[0]  # type: ignore[index]
    shape_version = _READ_SHAPE.get((message_type, major))
    if shape_version is None:
        raise UnsupportedVersionError(message_type, version, SUPPORTED_VERSIONS[message_type])
    target = envelope_type(message_type, shape_version)
    try:
        wire = msgspec.convert(obj, target)
    except msgspec.ValidationError as error:
        errors = collect_errors(obj, target) or [from_msgspec(error)]
        raise ValidationError(errors, message_type=message_type) from None

    data = wire.data
    if major != _CURRENT_MAJOR[message_type]:
        data = migrations.upgrade(message_type, major, data)
    elif len(fast := _FAST_VERSIONS[message_type]) < _FAST_VERSIONS_CAP:
        fast.add(version)
    return Envelope(
        message_type=message_type,
        data=data,
        schema_version=CURRENT_VERSIONS[message_type],
        source_version=version,
        message_id=wire.message_id,
        created_at=wire.created_at,
        format=format,
        raw=bytes(raw),
    )


_ABSENT = object()


def _written_as_is(decoded: Any, raw: bytes | bytearray | memoryview, format: Format) -> bool:
    """True when encoding what was read gives back the very bytes: then no key is there twice,
    because an encoder writes each key of a dict or Struct once."""
    try:
        return _ENCODERS[format].encode(decoded) == raw
    except (TypeError, ValueError, OverflowError):
        return False


def _refuse_duplicate_keys(raw: bytes | bytearray | memoryview, format: Format, message_type: str | None) -> None:
    """Raise ValidationError naming every key the message holds twice, if any."""
    try:
        paths = duplicate_keys(raw, format)
    except ValueError as error:
        name = "JSON" if format == "json" else "MessagePack"
        raise DecodeError(f"The {name} message is malformed: {error}.", reason="malformed") from None
    if paths:
        problems = [FieldError(path, "key written more than once", "duplicate") for path in paths]
        raise ValidationError(problems, message_type=message_type)


def _envelope_field_problem(name: str, value: Any, expected: str) -> FieldError:
    if value is _ABSENT:
        return FieldError(name, "missing required field", "missing")
    if not isinstance(value, str):
        got = "null" if value is None else type(value).__name__
        return FieldError(name, f"expected str, got {got}", "wrong_type")
    return FieldError(name, f"{value!r} is not {expected}", "invalid_value")


def _decode_error(error: Exception, format: str) -> DecodeError:
    text = str(error)
    name = "JSON" if format == "json" else "MessagePack"
    if isinstance(error, UnicodeDecodeError):
        return DecodeError(f"The {name} message holds text that is not valid UTF-8.")
    if isinstance(error, RecursionError):
        return DecodeError(f"The {name} message is nested too deeply to read.")
    if "truncated" in text:
        return DecodeError(f"The {name} message is truncated.", reason="truncated")
    detail = text.split(": ", 1)[-1]
    return DecodeError(f"The {name} message is malformed: {detail}.", reason="malformed")


__all__ = [
    "DEFAULT_MAX_SIZE",
    "SUPPORTED_VERSIONS",
    "Envelope",
    "decode",
    "encode",
    "new_message_id",
    "validate",
]
