"""Find keys written twice in one JSON object or MessagePack map.

msgspec, like most decoders, keeps the last of two equal keys without a word; other readers
keep the first. A message with a key written twice can therefore mean one thing to one
consumer and another thing to the next, so the codec refuses it, naming every such field.

The check is cheap for what this codec writes: the decoder re-encodes what it read, and
bytes identical to the input cannot hold a key twice (an encoder writes each key of a dict or
Struct once). Only other bytes (another producer's spacing, field order or number encoding)
are walked key by key, by the functions here.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_MSGPACK_KEY = msgspec.msgpack.Decoder()


def duplicate_keys(raw: bytes | bytearray | memoryview, format: str) -> list[str]:
    """Field paths (``data.chunks[1].chunk_id``) of every key written more than once.

    ``raw`` must already have decoded as ``format``; anything unexpected raises ValueError.
    """
    try:
        if format == "json":
            return _json_duplicates(bytes(raw))
        return _MsgpackWalk(bytes(raw)).duplicates()
    except (IndexError, TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"cannot walk the {format} message: {error}") from None


class _Twice(list):
    """The (key, value) pairs of a JSON object that holds a key more than once."""


def _json_duplicates(raw: bytes) -> list[str]:
    repeated = False

    def pairs_hook(pairs: list[tuple[str, Any]]) -> Any:
        nonlocal repeated
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        repeated = True
        return _Twice(pairs)

    tree = json.loads(raw, object_pairs_hook=pairs_hook)
    if not repeated:
        return []
    found: list[str] = []
    _json_paths(tree, "", found)
    return found


def _json_paths(value: Any, path: str, found: list[str]) -> None:
    if isinstance(value, _Twice):
        seen: set[str] = set()
        for key, item in value:
            here = _join(path, key)
            if key in seen and here not in found:
                found.append(here)
            seen.add(key)
            _json_paths(item, here, found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _json_paths(item, _join(path, key), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_paths(item, f"{path}[{index}]", found)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


# MessagePack type bytes -> (length of the fixed part, size of the length field or 0).
_FIXED: dict[int, int] = {
    0xC0: 1, 0xC2: 1, 0xC3: 1,  # nil, false, true
    0xCA: 5, 0xCB: 9,  # float32, float64
    0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9,  # uint 8-64
    0xD0: 2, 0xD1: 3, 0xD2: 5, 0xD3: 9,  # int 8-64
    0xD4: 3, 0xD5: 4, 0xD6: 6, 0xD7: 10, 0xD8: 18,  # fixext 1-16
}
# str, bin and ext with a length field: type byte -> (length bytes, extra bytes after it).
_SIZED: dict[int, tuple[int, int]] = {
    0xD9: (1, 0), 0xDA: (2, 0), 0xDB: (4, 0),  # str 8-32
    0xC4: (1, 0), 0xC5: (2, 0), 0xC6: (4, 0),  # bin 8-32
    0xC7: (1, 1), 0xC8: (2, 1), 0xC9: (4, 1),  # ext 8-32 (one type byte)
}
_FLOAT64 = 0xCB


class _MsgpackWalk:
    """Steps through MessagePack bytes, remembering the keys of every map on the way."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.pos = 0
        self.found: list[str] = []

    def duplicates(self) -> list[str]:
        self.value("")
        return self.found

    def value(self, path: str) -> None:
        raw, t = self.raw, self.raw[self.pos]
        if t <= 0x7F or t >= 0xE0:  # fixint
            self.pos += 1
        elif t <= 0x8F:
            self.pos += 1
            self.map(t & 0x0F, path)
        elif t <= 0x9F:
            self.pos += 1
            self.array(t & 0x0F, path)
        elif t <= 0xBF:  # fixstr
            self.pos += 1 + (t & 0x1F)
        elif t in _FIXED:
            self.pos += _FIXED[t]
        elif t in _SIZED:
            size, extra = _SIZED[t]
            length = int.from_bytes(raw[self.pos + 1 : self.pos + 1 + size], "big")
            self.pos += 1 + size + extra + length
        elif t in (0xDC, 0xDD, 0xDE, 0xDF):
            size = 2 if t in (0xDC, 0xDE) else 4
            count = int.from_bytes(raw[self.pos + 1 : self.pos + 1 + size], "big")
            self.pos += 1 + size
            (self.array if t < 0xDE else self.map)(count, path)
        else:
            raise ValueError(f"unexpected type byte 0x{t:02x}")

    def array(self, count: int, path: str) -> None:
        raw, pos = self.raw, self.pos
        # An embedding is a run of float64s: one C-level look at every ninth byte skips it.
        if count and raw[pos] == _FLOAT64 and raw[pos : pos + 9 * count : 9].count(_FLOAT64) == count:
            self.pos += 9 * count
            return
        for index in range(count):
            self.value(f"{path}[{index}]")

    def map(self, count: int, path: str) -> None:
        seen: set[Any] = set()
        for _ in range(count):
            start = self.pos
            self.value(path)
            encoded = self.raw[start : self.pos]
            key = _MSGPACK_KEY.decode(encoded)
            try:
                hash(key)
            except TypeError:
                key = encoded
            here = _join(path, key)
            if key in seen and here not in self.found:
                self.found.append(here)
            seen.add(key)
            self.value(here)
