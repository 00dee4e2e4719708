"""Drive the message codec as the producers and consumers on either side of the wire would.

The reader is always the platform's codec (`ai_contract.codec.decode`). Producers of other
versions are simulated as another team's service would behave: they write the published wire
format (an envelope map) with msgspec directly, because our codec rightly refuses to *write* a
version it does not know, and they can write what our codec never would (a key twice).
Everything a codec scenario holds lives here, on `world.codec`.
"""

from __future__ import annotations

import random
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from ai_contract import codec
from ai_contract.codec.schemas import SHAPES
from harness.reporting import attach_json, attach_text
from harness.world import World

WHEN = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
# Every text field of a sample has its own text, so a field copied into another shows.
CONTENT = "Zürich — 東京 — Ελληνικά — שלום — emoji 🚀 — \u0000 nul and \t tab"
QUESTION = "Welche Risiken nennt der Bericht für 東京? \u2028 line separator"
ANSWER = "Währungsrisiko — 供应商 delays — Δ churn 🚀"
NESTED = {
    "conversation_id": "conv-2024-q3",
    "unicode": "Ελληνικά nested — ✓",
    "big": 2**63 - 1,
    "negative": -(2**63),
    "ratio": 0.1,
    "tiny": 5e-324,
    "huge": 1.7976931348623157e308,
    "negative_zero": -0.0,
    "flags": [True, False, None],
    "nested": {"level": 2, "items": [1, 2.5, "drei", {"deep": [0.30000000000000004]}]},
}
# 0.9 -> 1.0 renames, as the platform's design documents describe them.
LEFT_OUT = object()  # a field the producer does not write
RENAMED_IN_1_0 = {"id": "message_id", "from": "source_agent_id", "to": "target_agent_id", "text": "content",
                  "type": "message_type", "time": "timestamp", "meta": "metadata"}


def embedding(seed: int, dims: int = 1536) -> list[float]:
    rnd = random.Random(seed)
    values = [rnd.uniform(-1.0, 1.0) for _ in range(dims)]
    values[:4] = [5e-324, -0.0, 1e-12, -123456.789e10]  # subnormal, signed zero, extremes
    return values


def sample(message_type: str) -> msgspec.Struct:
    """A current-shape message of each type: unicode, big ints, floats, nested maps, and no
    field at its default, so a field lost or defaulted on the way shows."""
    if message_type == "agent_message":
        return codec.AgentMessage(
            message_id="msg-0001", source_agent_id="planner", target_agent_id="researcher",
            content=CONTENT, message_type="question", timestamp=WHEN, metadata=NESTED,
        )
    if message_type == "agent_task":
        return codec.AgentTask(task_id="task-0001", agent_id="researcher", task_type="summarise",
                               parameters={**NESTED, "pages": [3, 4]}, priority=9, timestamp=WHEN)
    if message_type == "llm_request":
        return codec.LLMRequest(
            request_id="req-0001", model="gpt-4o-mini", tenant_id="tenant-ü",
            messages=[codec.ChatMessage(role="system", content="Answer from the documents."),
                      codec.ChatMessage(role="user", content=QUESTION)],
            parameters=codec.LLMParameters(temperature=0.123456789, max_tokens=2**31 - 1), timestamp=WHEN,
        )
    if message_type == "llm_response":
        return codec.LLMResponse(
            request_id="req-0002", response=ANSWER, model="gpt-4o-mini-2024-07-18",
            tokens=codec.TokenUsage(prompt=2**40, completion=12_345, total=2**40 + 12_345),
            cost=0.000123456789, timestamp=WHEN,
        )
    if message_type == "embedding_request":
        return codec.EmbeddingRequest(request_id="emb-0001", texts=[CONTENT, "", "plain text"],
                                      model="text-embedding-3-small", tenant_id="acme")
    if message_type == "rag_document":
        chunks = [codec.Chunk(chunk_id=f"doc-0001#{i}", content=f"{CONTENT} part {i}",
                              embedding=embedding(i), metadata={"index": i, "score": 0.1 * i}) for i in range(3)]
        return codec.RAGDocument(document_id="doc-0001", content=CONTENT * 20, metadata=NESTED, chunks=chunks,
                                 tenant_id="acme", timestamp=WHEN)
    if message_type == "rag_query":
        return codec.RAGQuery(query_id="q-0001", query=QUESTION, tenant_id="globex",
                              parameters=codec.QueryParameters(top_k=17, similarity_threshold=1 / 3), timestamp=WHEN)
    if message_type == "rag_result":
        return codec.RAGResult(query_id="q-0002", answer=ANSWER, sources=["Q3 report", "Доклад о рисках"],
                               metadata=codec.ResultMetadata(tokens=2**40, cost=0.1 + 0.2), timestamp=WHEN)
    if message_type == "error":
        return codec.ErrorReply(
            code="rate_limited", message="Tenant acme is over its limit of 60 requests a minute — retry later.",
            details={"limit": 60, "retry_after_s": 12.5, "model": "gpt-4o-mini", "scopes": ["chat", "embed"]},
            request_id="req-0042", timestamp=WHEN,
        )
    raise ValueError(f"no sample for message type {message_type!r}")


def old_agent_message() -> dict[str, Any]:
    """A 0.9 agent message whose `type` is not the default, so an upgrade that drops it shows."""
    return {"id": "msg-0009", "from": "planner", "to": "researcher", "text": CONTENT, "type": "question",
            "time": WHEN, "meta": {"conversation_id": "conv-7", "big": 2**62}}


def builtins(value: Any) -> Any:
    """Plain values, datetimes kept as they are."""
    return msgspec.to_builtins(value, builtin_types=(datetime,))


def plain(value: Any) -> Any:
    """Plain values as JSON has them: datetimes as RFC 3339 text."""
    return msgspec.to_builtins(value)


def float_bits(values: list[float]) -> bytes:
    return struct.pack(f"<{len(values)}d", *values)


def differences(expected: msgspec.Struct, seen: msgspec.Struct) -> list[str]:
    """Fields whose values differ, compared strictly (int vs float, float bits, order)."""
    if type(expected) is not type(seen):
        return [f"type: expected {type(expected).__name__}, seen {type(seen).__name__}"]
    return [f"{f.name}: expected {_short(getattr(expected, f.name))}, seen {_short(getattr(seen, f.name))}"
            for f in msgspec.structs.fields(expected)
            if msgspec.msgpack.encode(getattr(expected, f.name)) != msgspec.msgpack.encode(getattr(seen, f.name))]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _parent(obj: Any, path: str) -> tuple[Any, str | int]:
    """The container holding ``data.chunks[0].embedding`` and the key of the field in it."""
    *head, last = [int(t[1:-1]) if t.startswith("[") else t for t in re.findall(r"[^.\[\]]+|\[\d+\]", path)]
    for key in head:
        obj = obj[key]
    return obj, last


def _write(value: Any, fmt: str, repeats: dict[int, list[tuple[str, Any]]]) -> bytes:
    """Encode like msgspec, but with the extra (key, value) pairs given per dict: a key twice."""
    module = msgspec.json if fmt == "json" else msgspec.msgpack
    if isinstance(value, dict):
        pairs = [*value.items(), *repeats.get(id(value), ())]
        if fmt == "json":
            return b"{" + b",".join(module.encode(k) + b":" + _write(v, fmt, repeats) for k, v in pairs) + b"}"
        head = bytes([0x80 | len(pairs)]) if len(pairs) < 16 else b"\xde" + len(pairs).to_bytes(2, "big")
        return head + b"".join(module.encode(k) + _write(v, fmt, repeats) for k, v in pairs)
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        items = [_write(v, fmt, repeats) for v in value]
        if fmt == "json":
            return b"[" + b",".join(items) + b"]"
        head = bytes([0x90 | len(items)]) if len(items) < 16 else b"\xdc" + len(items).to_bytes(2, "big")
        return head + b"".join(items)
    return module.encode(value)


def attach_wire(name: str, raw: bytes, fmt: str) -> None:
    """The bytes on the wire as evidence: JSON as text, MessagePack as hex, both cut short."""
    limit = 8192 if fmt == "json" else 1024
    preview = raw[:limit].decode("utf-8", errors="replace") if fmt == "json" else raw[:limit].hex(" ")
    more = f"\n... ({len(raw)} bytes in all)" if len(raw) > limit else ""
    attach_text(f"{name} ({fmt}, {len(raw)} bytes)", preview + more)


def cell(text: str) -> Any:
    """A table cell: JSON when it looks like JSON, else the text itself."""
    return msgspec.json.decode(text) if text[:1] in "{[" else text


@dataclass
class Tally:
    """How a reader took many messages: each outcome counted, and any crash described."""

    outcomes: Counter = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)


class CodecDriver:
    """Producers, the reader, relays and components exchanging messages through the codec."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.sample: msgspec.Struct | None = None  # the data a producer meant to send
        self.message_type: str | None = None
        self.producer_version: str | None = None
        self.envelope: dict[str, Any] | None = None  # the envelope map a producer writes
        self.old: dict[str, Any] | None = None  # the 0.9 data a producer wrote
        self.repeats: dict[int, list[tuple[str, Any]]] = {}  # keys the producer writes twice
        self.wire: bytes | None = None  # the bytes handed to the reader
        self.written: bytes | None = None  # what the codec wrote for a producer
        self.max_size = codec.DEFAULT_MAX_SIZE
        self.copies: list[bytes] = []
        self.relayed: bytes | None = None
        self.outgoing: tuple[str, dict[str, Any]] | None = None  # a component's message, plain fields

    # producers ---------------------------------------------------------------------------------

    def produce(self, message_type: str, version: str, data: dict[str, Any] | None = None, *,
                new_field: str | None = None, without: str | None = None) -> None:
        """A producer at `version` sends `message_type`: the sample in the current shape by default,
        with a field of a newer minor added, or without an optional field."""
        if data is None:
            self.sample = sample(message_type)
            data = builtins(self.sample)
        self.message_type, self.producer_version, self.repeats = message_type, version, {}
        self.envelope = {"message_type": message_type, "schema_version": version,
                         "message_id": codec.new_message_id(), "created_at": datetime.now(UTC), "data": data}
        if new_field:
            data[new_field] = {"added_in": version, "value": 0.5}
        if without:
            del data[without]

    def produce_old(self, message_type: str, version: str) -> None:
        assert message_type == "agent_message", f"only agent_message has an old shape, not {message_type}"
        self.old = old_agent_message()
        self.produce(message_type, version, dict(self.old))

    def produce_unknown(self, message_type: str, version: str) -> None:
        self.produce(message_type, version, {"agent_id": "planner", "status": "alive", "timestamp": WHEN})

    def produce_fields(self, message_type: str, version: str, rows: list[tuple[str, Any]]) -> None:
        self.produce(message_type, version, dict(rows))

    def change_field(self, path: str, value: Any = LEFT_OUT, *, again: Any = LEFT_OUT) -> None:
        """Leave the field out (no value), write it as `value`, or write its key a second time,
        after the first, as `again`."""
        parent, key = _parent(self.envelope, path)
        if again is not LEFT_OUT:
            assert isinstance(parent, dict) and key in parent, f"the producer's message has no {path} to repeat"
            self.repeats.setdefault(id(parent), []).append((key, again))
        elif value is LEFT_OUT:
            del parent[key]
        else:
            parent[key] = value

    def producer_bytes(self, fmt: str) -> bytes:
        """Encode like a foreign producer: plain msgspec, no validation, no version rules."""
        module = msgspec.json if fmt == "json" else msgspec.msgpack
        raw = _write(self.envelope, fmt, self.repeats) if self.repeats else module.encode(self.envelope)
        attach_wire("message from the producer", raw, fmt)
        return raw

    def sized_document(self, kib: int, fmt: str) -> None:
        """A rag_document envelope of about `kib` KiB as `fmt`, kept as the bytes to read."""
        target = kib * 1024
        empty = codec.RAGDocument(document_id="doc-big", content="", tenant_id="acme", timestamp=WHEN)
        self.produce("rag_document", "1.0", builtins(empty))
        overhead = len((msgspec.json if fmt == "json" else msgspec.msgpack).encode(self.envelope))
        self.sample = msgspec.structs.replace(empty, content="x" * (target - overhead - 8))
        self.envelope["data"] = builtins(self.sample)
        self.wire = self.producer_bytes(fmt)
        assert abs(len(self.wire) - target) < 64, f"expected about {target} bytes, made {len(self.wire)}"

    def truncated(self, fmt: str, size: int) -> None:
        self.produce("agent_message", "1.0")
        self.wire = self.producer_bytes(fmt)[:size]

    def corrupt(self, count: int, message_type: str, fmt: str) -> None:
        """`count` copies of a valid message, each with one byte changed, added or cut."""
        raw = codec.encode(message_type, sample(message_type), format=fmt)
        rnd = random.Random(f"{message_type}-{fmt}")
        self.copies = []
        for _ in range(count):
            data, at = bytearray(raw), rnd.randrange(len(raw))
            match rnd.randrange(4):
                case 0:
                    data[at] = rnd.randrange(256)
                case 1:
                    del data[at:]
                case 2:
                    data.insert(at, rnd.randrange(256))
                case _:
                    del data[at]
            self.copies.append(bytes(data))

    # the reader --------------------------------------------------------------------------------

    def read(self, raw: bytes | None = None, fmt: str | None = None) -> codec.Envelope:
        """Decode with the platform's codec and this scenario's size limit."""
        return codec.decode(self.wire if raw is None else raw, format=fmt, max_size=self.max_size)

    def deliver(self, fmt: str) -> codec.Envelope:
        """The producer's message reaches the reader."""
        self.wire = self.producer_bytes(fmt)
        return self.read()

    def read_labelled(self, content_type: str) -> codec.Envelope:
        """Decode the bytes as the Content-Type header says, without looking at them first."""
        return self.read(self.wire, codec.format_from_headers({"Content-Type": content_type}))

    def decode_copies(self) -> Tally:
        tally = Tally()
        for raw in self.copies:
            try:
                codec.decode(raw)
                tally.outcomes["read"] += 1
            except codec.CodecError as error:
                tally.outcomes[error.reason] += 1
            except Exception as error:  # noqa: BLE001 - a crash is exactly what this looks for
                tally.crashes.append(f"{type(error).__name__}: {error} for {raw[:40]!r}")
        attach_json("outcomes of the corrupted copies", dict(sorted(tally.outcomes.items())))
        return tally

    def relay(self, envelope: codec.Envelope) -> None:
        """A relay forwards the bytes it read, untouched."""
        self.relayed = envelope.raw

    def relayed_fields(self) -> list[str]:
        module = msgspec.json if codec.detect_format(self.relayed) == "json" else msgspec.msgpack
        return sorted(module.decode(self.relayed)["data"])

    def upgrade_losses(self, envelope: codec.Envelope) -> list[str]:
        """Each 0.9 field whose value did not arrive under its 1.0 name."""
        losses = []
        for old, new in RENAMED_IN_1_0.items():
            want, got = builtins(self.old[old]), builtins(getattr(envelope.data, new))
            if want != got:
                losses.append(f"{old} -> {new}: expected {want!r}, seen {got!r}")
        return losses

    # the codec on both ends --------------------------------------------------------------------

    def use_sample(self, message_type: str) -> None:
        self.message_type, self.sample = message_type, sample(message_type)
        self.producer_version = codec.CURRENT_VERSIONS[message_type]

    def round_trip(self, fmt: str) -> codec.Envelope:
        """Encode the sample with the codec and decode the bytes again."""
        raw = codec.encode(self.message_type, self.sample, format=fmt)
        attach_wire("encoded message", raw, fmt)
        return codec.decode(raw)

    def encode_sample(self, message_type: str, fmt: str) -> None:
        self.use_sample(message_type)
        self.wire = codec.encode(message_type, self.sample, format=fmt)
        attach_wire("encoded message", self.wire, fmt)

    def detected_format(self) -> str:
        return codec.detect_format(self.wire)

    def content_type(self) -> str:
        """The Content-Type the codec labels the bytes with."""
        return codec.headers_for(codec.detect_format(self.wire))["Content-Type"]

    @staticmethod
    def format_of(content_type: str) -> str:
        """The format a reader takes from the header (sent with a lower-case name here)."""
        return codec.format_from_headers({"content-type": content_type})

    def write(self, fmt: str, typed: bool = False) -> bytes:
        """The producer writes its message with the codec: plain fields, or a typed Struct
        built without checks (as application code builds one)."""
        self.written = None
        data = self.envelope["data"]
        if typed:
            data = SHAPES[(self.message_type, codec.CURRENT_VERSIONS[self.message_type])](**data)
        self.written = codec.encode(self.message_type, data, format=fmt, message_id=self.envelope["message_id"],
                                    created_at=self.envelope["created_at"])
        attach_wire("written by the codec", self.written, fmt)
        return self.written

    def carry(self, fmt: str) -> codec.Envelope:
        """A sender encodes a component's message and labels it; the receiver decodes by the label."""
        message_type, data = self.outgoing
        raw = codec.encode(message_type, data, format=fmt)
        attach_wire(f"{message_type} on the wire", raw, fmt)
        return codec.decode(raw, format=codec.format_from_headers(codec.headers_for(fmt)))

    # components' messages, built from plain fields ----------------------------------------------

    def gateway_request(self, tenant: str, model: str, temperature: float, max_tokens: int,
                        conversation: list[dict[str, str]]) -> None:
        self.outgoing = ("llm_request", {
            "request_id": codec.new_message_id(), "messages": conversation, "model": model, "tenant_id": tenant,
            "parameters": {"temperature": temperature, "max_tokens": max_tokens}, "timestamp": datetime.now(UTC)})

    def rag_document(self, title: str, tenant: str, kb: int, count: int, dims: int) -> None:
        rnd = random.Random(title)
        words = ["revenue", "risk", "margin", "Zürich", "supplier", "churn", "€", "delay"]
        text = " ".join(rnd.choice(words) for _ in range(kb * 400))[: kb * 1024]
        size = -(-len(text) // count)
        chunks = [{"chunk_id": f"{title}#{i}", "content": text[i * size: (i + 1) * size],
                   "embedding": embedding(rnd.randrange(2**32), dims), "metadata": {"index": i, "title": title}}
                  for i in range(count)]
        self.outgoing = ("rag_document", {
            "document_id": codec.new_message_id(), "content": text, "chunks": chunks, "tenant_id": tenant,
            "metadata": {"title": title, "source": f"s3://docs/{title}.pdf"}, "timestamp": datetime.now(UTC)})

    def rag_query(self, tenant: str, question: str, top_k: int | None = None, threshold: float | None = None) -> None:
        data = {"query_id": codec.new_message_id(), "query": question, "tenant_id": tenant,
                "timestamp": datetime.now(UTC)}
        if top_k is not None:
            data["parameters"] = {"top_k": top_k, "similarity_threshold": threshold}
        self.outgoing = ("rag_query", data)

    def sent(self) -> dict[str, Any]:
        return self.outgoing[1]

    def document_changes(self, data: codec.RAGDocument) -> list[str]:
        """What differs between the RAG document sent and the one read: text, chunks, embedding bits."""
        sent = self.sent()
        changes = [] if data.content == sent["content"] else ["the document text"]
        if len(data.chunks) != len(sent["chunks"]):
            return [*changes, f"{len(sent['chunks'])} chunks sent, {len(data.chunks)} read"]
        if "".join(c.content for c in data.chunks) != data.content:
            changes.append("the chunks no longer add up to the text")
        for want, got in zip(sent["chunks"], data.chunks, strict=True):
            if (got.chunk_id, got.content) != (want["chunk_id"], want["content"]):
                changes.append(f"chunk {want['chunk_id']}")
            if float_bits(got.embedding) != float_bits(want["embedding"]):
                changes.append(f"at least one bit of the embedding of {want['chunk_id']}")
        return changes
