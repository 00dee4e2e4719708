"""Steps for the message codec features (features/codec).

The reader is always the platform's codec (``ai_platform.codec.decode``). Producers of other
versions are simulated the way another team's service would behave: they write the
published wire format (an envelope map) with msgspec directly, because our codec rightly
refuses to *write* a version it does not know. Scenario state lives in ``context.codec_*``.
"""

from __future__ import annotations

import json
import random
import re
import struct
from datetime import UTC, datetime
from typing import Any

import msgspec
from behave import given, step, then, when

from ai_platform import codec

try:  # attachments show up in Allure reports; the steps work without it
    import allure
except ImportError:  # pragma: no cover
    allure = None

# ----------------------------------------------------------------------------- sample data

_WHEN = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
_UNICODE = "Zürich — 東京 — Ελληνικά — שלום — emoji 🚀 — \u0000 nul and \t tab"
_NESTED = {
    "unicode": _UNICODE,
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
_RENAMED_IN_1_0 = {
    "id": "message_id",
    "from": "source_agent_id",
    "to": "target_agent_id",
    "text": "content",
    "type": "message_type",
    "time": "timestamp",
    "meta": "metadata",
}
_PROBLEM_KINDS = {
    "missing": "missing",
    "wrong type": "wrong_type",
    "out of range": "out_of_range",
    "invalid value": "invalid_value",
}


def _embedding(seed: int, dims: int = 1536) -> list[float]:
    rnd = random.Random(seed)
    values = [rnd.uniform(-1.0, 1.0) for _ in range(dims)]
    values[:4] = [5e-324, -0.0, 1e-12, -123456.789e10]  # subnormal, signed zero, extremes
    return values


def _sample(message_type: str) -> msgspec.Struct:
    """A current-shape message of each type, with unicode, big ints, floats, nested maps."""
    if message_type == "agent_message":
        return codec.AgentMessage(
            message_id="msg-0001", source_agent_id="planner", target_agent_id="researcher",
            content=_UNICODE, timestamp=_WHEN, metadata=_NESTED,
        )
    if message_type == "agent_task":
        return codec.AgentTask(
            task_id="task-0001", agent_id="researcher", task_type="summarise",
            parameters=_NESTED, priority=9, timestamp=_WHEN,
        )
    if message_type == "llm_request":
        return codec.LLMRequest(
            request_id="req-0001", model="gpt-4o-mini", tenant_id="tenant-ü",
            messages=[
                codec.ChatMessage(role="system", content="Answer from the documents."),
                codec.ChatMessage(role="user", content=_UNICODE),
            ],
            parameters=codec.LLMParameters(temperature=0.123456789, max_tokens=2**31 - 1),
            timestamp=_WHEN,
        )
    if message_type == "llm_response":
        return codec.LLMResponse(
            request_id="req-0001", response=_UNICODE, model="gpt-4o-mini",
            tokens=codec.TokenUsage(prompt=2**40, completion=12_345, total=2**40 + 12_345),
            cost=0.000123456789, timestamp=_WHEN,
        )
    if message_type == "embedding_request":
        return codec.EmbeddingRequest(
            request_id="emb-0001", texts=[_UNICODE, "", "plain text"],
            model="text-embedding-3-small", tenant_id="acme",
        )
    if message_type == "rag_document":
        chunks = [
            codec.Chunk(
                chunk_id=f"doc-0001#{i}", content=f"{_UNICODE} part {i}",
                embedding=_embedding(i), metadata={"index": i, "score": 0.1 * i},
            )
            for i in range(3)
        ]
        return codec.RAGDocument(
            document_id="doc-0001", content=_UNICODE * 20, metadata=_NESTED,
            chunks=chunks, tenant_id="acme", timestamp=_WHEN,
        )
    if message_type == "rag_query":
        return codec.RAGQuery(
            query_id="q-0001", query=_UNICODE, tenant_id="acme",
            parameters=codec.QueryParameters(top_k=17, similarity_threshold=1 / 3),
            timestamp=_WHEN,
        )
    if message_type == "rag_result":
        return codec.RAGResult(
            query_id="q-0001", answer=_UNICODE, sources=["Q3 report", "Доклад о рисках"],
            metadata=codec.ResultMetadata(tokens=2**40, cost=0.1 + 0.2), timestamp=_WHEN,
        )
    raise ValueError(f"no sample for message type {message_type!r}")


def _old_agent_message() -> dict[str, Any]:
    return {
        "id": "msg-0009", "from": "planner", "to": "researcher", "text": _UNICODE,
        "type": "text", "time": _WHEN, "meta": {"conversation_id": "conv-7", "big": 2**62},
    }


# ----------------------------------------------------------------------------- helpers


def _builtins(value: Any) -> Any:
    return msgspec.to_builtins(value, builtin_types=(datetime,))


def _envelope(message_type: str, version: str, data: dict[str, Any]) -> dict[str, Any]:
    """The wire envelope a producer writes, per the published contract."""
    return {
        "message_type": message_type,
        "schema_version": version,
        "message_id": codec.new_message_id(),
        "created_at": datetime.now(UTC),
        "data": data,
    }


def _producer_bytes(envelope: dict[str, Any], fmt: str) -> bytes:
    """Encode like a foreign producer: plain msgspec, no validation, no version rules."""
    module = msgspec.json if fmt == "json" else msgspec.msgpack
    return module.encode(envelope)


def _attach(name: str, raw: bytes, fmt: str) -> None:
    if allure is None:
        return
    if fmt == "json":
        preview = raw[:8192].decode("utf-8", errors="replace")
        kind = allure.attachment_type.JSON if len(raw) <= 8192 else allure.attachment_type.TEXT
    else:
        preview = raw[:1024].hex(" ")
        kind = allure.attachment_type.TEXT
    suffix = "" if len(raw) <= len(preview) else f"\n... ({len(raw)} bytes in all)"
    allure.attach(preview + suffix, name=f"{name} ({fmt}, {len(raw)} bytes)", attachment_type=kind)


def _read(context, raw: bytes, fmt: str | None = None) -> None:
    """Decode with the codec; keep the envelope or the refusal. Other errors propagate."""
    context.codec_result = context.codec_error = None
    max_size = getattr(context, "codec_max_size", codec.DEFAULT_MAX_SIZE)
    try:
        context.codec_result = codec.decode(raw, format=fmt, max_size=max_size)
    except codec.CodecError as error:
        context.codec_error = error


def _tokens(path: str) -> list[str | int]:
    """``data.chunks[0].embedding`` -> ["data", "chunks", 0, "embedding"]."""
    tokens = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    return [int(t[1:-1]) if t.startswith("[") else t for t in tokens]


def _parent(obj: Any, path: str) -> tuple[Any, str | int]:
    *head, last = _tokens(path)
    for key in head:
        obj = obj[key]
    return obj, last


def _cell(text: str) -> Any:
    """A table cell: JSON when it looks like JSON, else the text itself."""
    return json.loads(text) if text[:1] in "{[" else text


def _received(context) -> codec.Envelope:
    error = context.codec_error
    assert error is None, (
        f"expected the reader to read the message, it refused: {error.reason}: {error.message}"
    )
    assert context.codec_result is not None, "expected a decoded message, but nothing was decoded"
    return context.codec_result


def _refusal(context) -> codec.CodecError:
    result = context.codec_result
    assert context.codec_error is not None, (
        f"expected the reader to refuse the message, but it read a {result.message_type} message"
    )
    return context.codec_error


def _differences(expected: msgspec.Struct, seen: msgspec.Struct) -> list[str]:
    """Fields whose values differ, compared strictly (int vs float, float bits, order)."""
    if type(expected) is not type(seen):
        return [f"type: expected {type(expected).__name__}, seen {type(seen).__name__}"]
    diffs = []
    for field in msgspec.structs.fields(expected):
        want, got = getattr(expected, field.name), getattr(seen, field.name)
        if msgspec.msgpack.encode(want) != msgspec.msgpack.encode(got):
            diffs.append(f"{field.name}: expected {_short(want)}, seen {_short(got)}")
    return diffs


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _float_bits(values: list[float]) -> bytes:
    return struct.pack(f"<{len(values)}d", *values)


# ----------------------------------------------------------------------------- versioning


@given("a message reader at version {version} of every message type")
def step_reader_at_version(context, version):
    others = {t: v for t, v in codec.CURRENT_VERSIONS.items() if v != version}
    assert not others, f"expected the reader at version {version} for every type, seen {others}"


@given("a producer at version {version} sends message type {message_type:w} in the current shape")
def step_producer_current_shape(context, version, message_type):
    context.codec_sample = _sample(message_type)
    context.codec_producer_version = version
    context.codec_envelope = _envelope(message_type, version, _builtins(context.codec_sample))


@given(
    'a producer at version {version} sends message type {message_type:w} '
    'with the new field "{field}"'
)
def step_producer_new_field(context, version, message_type, field):
    step_producer_current_shape(context, version, message_type)
    context.codec_envelope["data"][field] = {"added_in": version, "value": 0.5}


@given(
    'a producer at version {version} sends message type {message_type:w} '
    'without the optional field "{field}"'
)
def step_producer_without_field(context, version, message_type, field):
    step_producer_current_shape(context, version, message_type)
    del context.codec_envelope["data"][field]


@given("a producer at version {version} sends message type {message_type:w} in the old shape")
def step_producer_old_shape(context, version, message_type):
    assert message_type == "agent_message", f"only agent_message has an old shape: {message_type}"
    context.codec_old = _old_agent_message()
    context.codec_producer_version = version
    context.codec_envelope = _envelope(message_type, version, dict(context.codec_old))


@given(
    "a producer at version {version} sends message type {message_type:w} "
    "as a type it never heard of"
)
def step_producer_unknown_type(context, version, message_type):
    context.codec_producer_version = version
    data = {"agent_id": "planner", "status": "alive", "timestamp": _WHEN}
    context.codec_envelope = _envelope(message_type, version, data)


@given("a producer at version {version} sends message type {message_type:w} with these fields:")
def step_producer_fields_table(context, version, message_type):
    data = {row["field"]: _cell(row["value"]) for row in context.table}
    context.codec_producer_version = version
    context.codec_envelope = _envelope(message_type, version, data)


@when("the producer's message reaches the reader as {fmt:w}")
def step_message_reaches_reader(context, fmt):
    raw = _producer_bytes(context.codec_envelope, fmt)
    _attach("message from the producer", raw, fmt)
    _read(context, raw)


@then("the reader reads it as is")
def step_reads_as_is(context):
    envelope = _received(context)
    diffs = _differences(context.codec_sample, envelope.data)
    assert not diffs, "the decoded data differs from what the producer sent: " + "; ".join(diffs)
    version = getattr(context, "codec_producer_version", envelope.schema_version)
    assert envelope.source_version == version, (
        f"expected source version {version}, seen {envelope.source_version}"
    )
    assert not envelope.upgraded, "expected the message read as is, but it was upgraded"


@then('the reader reads it and ignores the field "{field}"')
def step_reads_ignoring_field(context, field):
    envelope = _received(context)
    assert not hasattr(envelope.data, field), f"expected no field {field!r} in the reader's view"
    diffs = _differences(context.codec_sample, envelope.data)
    assert not diffs, "the known fields changed: " + "; ".join(diffs)
    expected = context.codec_producer_version
    assert envelope.source_version == expected, (
        f"expected source version {expected}, seen {envelope.source_version}"
    )


@then('the reader reads it with "{field}" defaulted to {value}')
def step_reads_with_default(context, field, value):
    envelope = _received(context)
    seen = _builtins(getattr(envelope.data, field))
    assert seen == json.loads(value), f"expected {field} defaulted to {value}, seen {seen!r}"


@then("the reader upgrades it to version {version} with every field carried over")
def step_upgrades(context, version):
    envelope = _received(context)
    assert envelope.upgraded, "expected the message to be upgraded, but it was read as is"
    assert envelope.schema_version == version, (
        f"expected data at version {version}, seen {envelope.schema_version}"
    )
    assert envelope.source_version == context.codec_producer_version, (
        f"expected source version {context.codec_producer_version}, seen {envelope.source_version}"
    )
    for old, new in _RENAMED_IN_1_0.items():
        want, got = _builtins(context.codec_old[old]), _builtins(getattr(envelope.data, new))
        assert want == got, f"expected {old!r} carried over to {new!r} as {want!r}, seen {got!r}"


@then("the reader sees version {version} data upgraded from {source} with these fields:")
def step_upgraded_fields(context, version, source):
    envelope = _received(context)
    seen_versions = (envelope.schema_version, envelope.source_version)
    assert seen_versions == (version, source), (
        f"expected version {version} upgraded from {source}, seen {seen_versions}"
    )
    data = msgspec.to_builtins(envelope.data)
    for row in context.table:
        want = _cell(row["value"])
        assert data.get(row["field"]) == want, (
            f"expected {row['field']} = {want!r}, seen {data.get(row['field'])!r}"
        )


@then(
    "the reader refuses it as {reason:w}, naming version {version} "
    "and supported versions {versions}"
)
def step_refuses_version(context, reason, version, versions):
    error = _refusal(context)
    supported = tuple(re.split(r", | and ", versions))
    assert error.reason == reason, f"expected reason {reason}, seen {error.reason}: {error.message}"
    assert isinstance(error, codec.UnsupportedVersionError), f"expected version error: {error!r}"
    assert error.version == version, f"expected the version {version} named, seen {error.version}"
    assert error.supported == supported, f"expected supported {supported}, seen {error.supported}"
    for text in (version, *supported):
        assert text in error.message, f"expected {text} in the message, seen: {error.message}"


@then("the reader refuses it as {reason:w}, naming the type {name} and the known types")
def step_refuses_type(context, reason, name):
    error = _refusal(context)
    assert error.reason == reason, f"expected reason {reason}, seen {error.reason}: {error.message}"
    assert isinstance(error, codec.UnknownMessageTypeError), f"expected type error: {error!r}"
    assert error.message_type == name, f"expected the type {name} named, seen {error.message_type}"
    for text in (name, *codec.MESSAGE_TYPES):
        assert text in error.message, f"expected {text} in the message, seen: {error.message}"


@when("the reader relays the message unchanged to the next consumer")
def step_relay(context):
    context.codec_relayed = _received(context).raw


@then('the next consumer still finds the field "{field}" in the relayed message')
def step_relayed_field(context, field):
    raw = context.codec_relayed
    module = msgspec.json if codec.detect_format(raw) == "json" else msgspec.msgpack
    data = module.decode(raw)["data"]
    assert field in data, f"expected {field!r} in the relayed data, seen fields {sorted(data)}"


# ----------------------------------------------------------------------------- validation


@given("a valid {message_type:w} message from a producer")
def step_valid_message(context, message_type):
    context.codec_sample = _sample(message_type)
    context.codec_envelope = _envelope(message_type, "1.0", _builtins(context.codec_sample))


@given('the producer leaves out the field "{path}"')
def step_leave_out_field(context, path):
    parent, key = _parent(context.codec_envelope, path)
    del parent[key]


@given('the producer writes the field "{path}" as {value}')
def step_write_field(context, path, value):
    parent, key = _parent(context.codec_envelope, path)
    parent[key] = json.loads(value)


@then('the reader refuses the message with reason "{reason}"')
def step_refuses_with_reason(context, reason):
    error = _refusal(context)
    assert error.reason == reason, f"expected reason {reason}, seen {error.reason}: {error.message}"
    text = error.message
    assert text.endswith(".") and "\n" not in text, f"expected one clear sentence, seen: {text!r}"


@then('the refusal names the field "{path}" as {problem}')
def step_refusal_names_field(context, path, problem):
    error = _refusal(context)
    assert isinstance(error, codec.ValidationError), f"expected a validation error, seen {error!r}"
    seen = {e.path: e.kind for e in error.errors}
    kind = _PROBLEM_KINDS[problem]
    assert seen.get(path) == kind, f"expected {path} reported as {kind}, seen {seen}"
    assert path in error.message, f"expected {path} in the message, seen: {error.message}"


@then("the refusal lists every bad field at once:")
def step_refusal_lists_all(context):
    error = _refusal(context)
    assert isinstance(error, codec.ValidationError), f"expected a validation error, seen {error!r}"
    expected = {(row["field"], _PROBLEM_KINDS[row["problem"]]) for row in context.table}
    seen = {(e.path, e.kind) for e in error.errors}
    assert seen == expected, f"expected {sorted(expected)}, seen {sorted(seen)}"


@then('the refusal says "{text}"')
def step_refusal_says(context, text):
    error = _refusal(context)
    assert text in error.message, f"expected {text!r} in the message, seen: {error.message}"


@then("the refusal names the limit of {limit:d} bytes")
def step_refusal_names_limit(context, limit):
    error = _refusal(context)
    assert isinstance(error, codec.MessageTooLargeError), f"expected a size error, seen {error!r}"
    assert error.limit == limit, f"expected the limit {limit}, seen {error.limit}"
    assert str(limit) in error.message, f"expected {limit} in the message, seen: {error.message}"


@given("a producer sends an empty message")
def step_empty_message(context):
    context.codec_wire = b""


@given("a producer sends a {fmt:w} message cut off after {size:d} bytes")
def step_truncated_message(context, fmt, size):
    data = _builtins(_sample("agent_message"))
    raw = _producer_bytes(_envelope("agent_message", "1.0", data), fmt)
    context.codec_wire = raw[:size]


@given('a producer sends the text "{text}"')
def step_text_message(context, text):
    context.codec_wire = text.encode()


@given('a producer sends the bytes "{hex_bytes}"')
def step_bytes_message(context, hex_bytes):
    context.codec_wire = bytes.fromhex(hex_bytes)


@given("the reader's size limit is {limit:d} bytes")
def step_size_limit(context, limit):
    context.codec_max_size = limit


@given("a producer sends a rag_document message of {kib:d} KiB as {fmt:w}")
def step_sized_document(context, kib, fmt):
    target = kib * 1024
    empty = codec.RAGDocument(document_id="doc-big", content="", tenant_id="acme", timestamp=_WHEN)
    overhead = len(_producer_bytes(_envelope("rag_document", "1.0", _builtins(empty)), fmt))
    document = msgspec.structs.replace(empty, content="x" * (target - overhead - 8))
    raw = _producer_bytes(_envelope("rag_document", "1.0", _builtins(document)), fmt)
    assert abs(len(raw) - target) < 64, f"expected about {target} bytes, made {len(raw)}"
    context.codec_sample, context.codec_producer_version = document, "1.0"
    context.codec_wire = raw


@when("the reader decodes those bytes")
def step_decode_bytes(context):
    _read(context, context.codec_wire)


@given("{count:d} corrupted copies of a valid {message_type:w} message as {fmt:w}")
def step_corrupted_copies(context, count, message_type, fmt):
    raw = codec.encode(message_type, _sample(message_type), format=fmt)
    rnd = random.Random(f"{message_type}-{fmt}")
    copies = []
    for _ in range(count):
        data = bytearray(raw)
        at = rnd.randrange(len(data))
        match rnd.randrange(4):
            case 0:
                data[at] = rnd.randrange(256)
            case 1:
                del data[at:]
            case 2:
                data.insert(at, rnd.randrange(256))
            case _:
                del data[at]
        copies.append(bytes(data))
    context.codec_copies = copies


@when("the reader decodes every corrupted copy")
def step_decode_copies(context):
    context.codec_outcomes, context.codec_crashes = [], []
    for raw in context.codec_copies:
        try:
            codec.decode(raw)
            context.codec_outcomes.append("read")
        except codec.CodecError as error:
            context.codec_outcomes.append(error.reason)
        except Exception as error:  # noqa: BLE001 - a crash is exactly what we look for
            context.codec_crashes.append(f"{type(error).__name__}: {error} for {raw[:40]!r}")


@then("every corrupted copy is either read or refused with a reason")
def step_no_crash(context):
    crashes = context.codec_crashes
    assert not crashes, f"expected refusals, seen {len(crashes)} crashes, e.g. {crashes[:3]}"
    odd = [r for r in context.codec_outcomes if not re.fullmatch(r"[a-z_]+", r)]
    assert not odd, f"expected snake_case reasons, seen {odd[:5]}"
    if allure is not None:
        counts = {r: context.codec_outcomes.count(r) for r in sorted(set(context.codec_outcomes))}
        allure.attach(json.dumps(counts, indent=2), name="outcomes",
                      attachment_type=allure.attachment_type.JSON)


# ----------------------------------------------------------------------------- formats


@given(
    "a sample {message_type:w} message with unicode text, big numbers, decimals "
    "and nested metadata"
)
def step_sample_message(context, message_type):
    context.codec_message_type = message_type
    context.codec_sample = _sample(message_type)


@when("the codec encodes the message as {fmt:w} and decodes it again")
def step_round_trip(context, fmt):
    try:
        raw = codec.encode(context.codec_message_type, context.codec_sample, format=fmt)
        _attach("encoded message", raw, fmt)
        context.codec_result = codec.decode(raw)
    except codec.CodecError as error:
        raise AssertionError(f"expected a round trip, the codec refused: {error.message}") from None


@then("the decoded message equals the original, field by field")
def step_equals_original(context):
    diffs = _differences(context.codec_sample, context.codec_result.data)
    assert not diffs, "fields changed on the way: " + "; ".join(diffs)


@then("the decoded message says it was read as {fmt:w}")
def step_read_as_format(context, fmt):
    seen = context.codec_result.format
    assert seen == fmt, f"expected the message read as {fmt}, seen {seen}"


@then("every decoded chunk embedding has {dims:d} numbers identical to the original")
def step_embeddings_identical(context, dims):
    sent, got = context.codec_sample.chunks, context.codec_result.data.chunks
    assert len(got) == len(sent), f"expected {len(sent)} chunks, seen {len(got)}"
    for before, after in zip(sent, got, strict=True):
        assert len(after.embedding) == dims, f"expected {dims} numbers, seen {len(after.embedding)}"
        assert _float_bits(before.embedding) == _float_bits(after.embedding), (
            f"embedding of {before.chunk_id} changed in at least one bit"
        )


@given("a sample {message_type:w} message encoded by the codec as {fmt:w}")
def step_sample_encoded(context, message_type, fmt):
    context.codec_sample = _sample(message_type)
    context.codec_wire = codec.encode(message_type, context.codec_sample, format=fmt)
    _attach("encoded message", context.codec_wire, fmt)


@then("the codec detects {fmt:w} from the first byte of the message")
def step_detects_format(context, fmt):
    seen = codec.detect_format(context.codec_wire)
    first = context.codec_wire[0]
    assert seen == fmt, f"expected {fmt} detected, seen {seen} (first byte {first:#04x})"


@then('the codec labels the message with the Content-Type "{content_type}"')
def step_labels_content_type(context, content_type):
    fmt = codec.detect_format(context.codec_wire)
    seen = codec.headers_for(fmt).get("Content-Type")
    assert seen == content_type, f"expected Content-Type {content_type}, seen {seen}"


@when('the reader decodes the message using only the Content-Type "{content_type}"')
def step_decode_with_header(context, content_type):
    context.codec_result = context.codec_error = None
    try:
        fmt = codec.format_from_headers({"Content-Type": content_type})
    except codec.CodecError as error:
        context.codec_error = error
        return
    _read(context, context.codec_wire, fmt)


@then('the codec understands the Content-Type "{content_type}" as {fmt:w}')
def step_understands_content_type(context, content_type, fmt):
    seen = codec.format_from_headers({"content-type": content_type})
    assert seen == fmt, f"expected {content_type} read as {fmt}, seen {seen}"


@then('the codec refuses the Content-Type "{content_type}" as {reason:w}')
def step_refuses_content_type(context, content_type, reason):
    try:
        seen = codec.format_from_headers({"Content-Type": content_type})
    except codec.CodecError as error:
        assert error.reason == reason, f"expected reason {reason}, seen {error.reason}"
        assert content_type in error.message, f"expected {content_type} named in: {error.message}"
        return
    raise AssertionError(f"expected {content_type} refused as {reason}, seen it read as {seen}")


# ----------------------------------------------------------------------------- components


def _outgoing(context, message_type: str, data: dict[str, Any]) -> None:
    context.codec_outgoing = (message_type, data)


@given('an agent message from "{source}" to "{target}" says "{text}"')
def step_agent_message(context, source, target, text):
    data = {
        "message_id": codec.new_message_id(), "source_agent_id": source,
        "target_agent_id": target, "content": text, "message_type": "text",
        "timestamp": datetime.now(UTC), "metadata": {},
    }
    _outgoing(context, "agent_message", data)


@given('the agent message belongs to conversation "{conversation}"')
def step_agent_conversation(context, conversation):
    context.codec_outgoing[1]["metadata"].update({"conversation_id": conversation, "turn": 1})


@when("the codec carries the message as {fmt:w}")
def step_codec_carries(context, fmt):
    """Sender encodes and labels the message; receiver decodes it using the label."""
    message_type, data = context.codec_outgoing
    try:
        raw = codec.encode(message_type, data, format=fmt)
        _attach(f"{message_type} on the wire", raw, fmt)
        headers = codec.headers_for(fmt)
        context.codec_result = codec.decode(raw, format=codec.format_from_headers(headers))
    except codec.CodecError as error:
        message = f"expected {message_type} delivered, refused: {error.message}"
        raise AssertionError(message) from None


def _delivered(context, message_type: str) -> msgspec.Struct:
    envelope = context.codec_result
    assert envelope.message_type == message_type, (
        f"expected a {message_type}, seen {envelope.message_type}"
    )
    return envelope.data


@then('the decoded agent message from "{source}" to "{target}" says "{text}"')
def step_agent_message_delivered(context, source, target, text):
    data = _delivered(context, "agent_message")
    seen = (data.source_agent_id, data.target_agent_id, data.content)
    assert seen == (source, target, text), f"expected {(source, target, text)}, seen {seen}"
    sent = context.codec_outgoing[1]
    assert (data.message_id, data.timestamp) == (sent["message_id"], sent["timestamp"]), (
        f"expected id and time {sent['message_id']}, {sent['timestamp']}, "
        f"seen {data.message_id}, {data.timestamp}"
    )


@then('the decoded agent message still belongs to conversation "{conversation}"')
def step_agent_conversation_delivered(context, conversation):
    seen = _delivered(context, "agent_message").metadata
    want = {"conversation_id": conversation, "turn": 1}
    assert seen == want, f"expected metadata {want}, seen {seen}"


@given(
    'a gateway request message for tenant "{tenant}" asks model "{model}" at temperature '
    "{temperature:g} for at most {max_tokens:d} tokens with the conversation:"
)
def step_gateway_request(context, tenant, model, temperature, max_tokens):
    rows = context.table
    context.codec_conversation = [{"role": r["role"], "content": r["content"]} for r in rows]
    context.codec_request_id = codec.new_message_id()
    data = {
        "request_id": context.codec_request_id, "messages": context.codec_conversation,
        "model": model, "tenant_id": tenant,
        "parameters": {"temperature": temperature, "max_tokens": max_tokens},
        "timestamp": datetime.now(UTC),
    }
    _outgoing(context, "llm_request", data)


@then(
    'the decoded gateway request for tenant "{tenant}" asks model "{model}" at temperature '
    "{temperature:g} for at most {max_tokens:d} tokens with the same conversation"
)
def step_gateway_request_delivered(context, tenant, model, temperature, max_tokens):
    data = _delivered(context, "llm_request")
    seen = (data.tenant_id, data.model, data.parameters.temperature, data.parameters.max_tokens)
    want = (tenant, model, temperature, max_tokens)
    assert seen == want, f"expected {want}, seen {seen}"
    assert data.request_id == context.codec_request_id, (
        f"expected request id {context.codec_request_id}, seen {data.request_id}"
    )
    conversation = msgspec.to_builtins(data.messages)
    assert conversation == context.codec_conversation, (
        f"expected conversation {context.codec_conversation}, seen {conversation}"
    )


@step(
    'a gateway response message answers "{answer}" with {prompt:d} prompt and '
    "{completion:d} completion tokens costing {cost:g}"
)
def step_gateway_response(context, answer, prompt, completion, cost):
    data = {
        "request_id": context.codec_request_id, "response": answer, "model": "gpt-4o-mini",
        "tokens": {"prompt": prompt, "completion": completion, "total": prompt + completion},
        "cost": cost, "timestamp": datetime.now(UTC),
    }
    _outgoing(context, "llm_response", data)


@then(
    'the decoded gateway response to the same request answers "{answer}" with {total:d} '
    "tokens in total costing {cost:g}"
)
def step_gateway_response_delivered(context, answer, total, cost):
    data = _delivered(context, "llm_response")
    seen = (data.request_id, data.response, data.tokens.total, data.cost)
    want = (context.codec_request_id, answer, total, cost)
    assert seen == want, f"expected {want}, seen {seen}"


@given(
    'a RAG document message "{title}" for tenant "{tenant}" with {kb:d} KB of text in '
    "{count:d} chunks embedded with {dims:d} numbers each"
)
def step_rag_document(context, title, tenant, kb, count, dims):
    rnd = random.Random(title)
    words = ["revenue", "risk", "margin", "Zürich", "supplier", "churn", "€", "delay"]
    text = " ".join(rnd.choice(words) for _ in range(kb * 400))[: kb * 1024]
    size = -(-len(text) // count)
    chunks = [
        {
            "chunk_id": f"{title}#{i}", "content": text[i * size : (i + 1) * size],
            "embedding": _embedding(rnd.randrange(2**32), dims),
            "metadata": {"index": i, "title": title},
        }
        for i in range(count)
    ]
    data = {
        "document_id": codec.new_message_id(), "content": text,
        "metadata": {"title": title, "source": f"s3://docs/{title}.pdf"},
        "chunks": chunks, "tenant_id": tenant, "timestamp": datetime.now(UTC),
    }
    _outgoing(context, "rag_document", data)


@then(
    'the decoded RAG document "{title}" has its text, its {count:d} chunks and every '
    "embedding number unchanged"
)
def step_rag_document_delivered(context, title, count):
    data = _delivered(context, "rag_document")
    sent = context.codec_outgoing[1]
    assert data.metadata["title"] == title, f"expected title {title}, seen {data.metadata}"
    assert data.content == sent["content"], "the document text changed on the way"
    assert len(data.chunks) == count, f"expected {count} chunks, seen {len(data.chunks)}"
    assert "".join(c.content for c in data.chunks) == data.content, "chunks no longer add up"
    for want, got in zip(sent["chunks"], data.chunks, strict=True):
        assert got.chunk_id == want["chunk_id"], f"expected {want['chunk_id']}, seen {got.chunk_id}"
        assert _float_bits(got.embedding) == _float_bits(want["embedding"]), (
            f"embedding of {got.chunk_id} changed in at least one bit"
        )


@given(
    'a RAG query message from tenant "{tenant}" asks "{question}" for the top {top_k:d} '
    "passages above similarity {threshold:g}"
)
def step_rag_query(context, tenant, question, top_k, threshold):
    step_rag_query_defaults(context, tenant, question)
    context.codec_outgoing[1]["parameters"] = {"top_k": top_k, "similarity_threshold": threshold}


@given('a RAG query message from tenant "{tenant}" asks "{question}" with no parameters')
def step_rag_query_defaults(context, tenant, question):
    context.codec_query_id = codec.new_message_id()
    data = {
        "query_id": context.codec_query_id, "query": question, "tenant_id": tenant,
        "timestamp": datetime.now(UTC),
    }
    _outgoing(context, "rag_query", data)


@then(
    'the decoded RAG query from tenant "{tenant}" asks "{question}" for the top {top_k:d} '
    "passages above similarity {threshold:g}"
)
def step_rag_query_delivered(context, tenant, question, top_k, threshold):
    data = _delivered(context, "rag_query")
    seen = (data.query_id, data.tenant_id, data.query, data.parameters.top_k,
            data.parameters.similarity_threshold)
    want = (context.codec_query_id, tenant, question, top_k, threshold)
    assert seen == want, f"expected {want}, seen {seen}"


@step(
    'a RAG result message answers "{answer}" citing the sources "{sources}" using '
    "{tokens:d} tokens costing {cost:g}"
)
def step_rag_result(context, answer, sources, tokens, cost):
    data = {
        "query_id": context.codec_query_id, "answer": answer,
        "sources": [s.strip() for s in sources.split(",")],
        "metadata": {"tokens": tokens, "cost": cost}, "timestamp": datetime.now(UTC),
    }
    _outgoing(context, "rag_result", data)


@then(
    'the decoded RAG result to the same query answers "{answer}" citing the sources '
    '"{sources}"'
)
def step_rag_result_delivered(context, answer, sources):
    data = _delivered(context, "rag_result")
    sent = context.codec_outgoing[1]["metadata"]
    seen = (data.query_id, data.answer, data.sources, data.metadata.tokens, data.metadata.cost)
    want = (context.codec_query_id, answer, [s.strip() for s in sources.split(",")],
            sent["tokens"], sent["cost"])
    assert seen == want, f"expected {want}, seen {seen}"
