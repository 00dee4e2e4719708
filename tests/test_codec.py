"""Fast tests of the message codec: round trips, versioning, errors, formats, schemas."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_contract import codec
from ai_contract.codec import migrations
from ai_contract.codec.schemas import SHAPES, envelope_type, parse_version, versions_of

SRC = Path(__file__).resolve().parents[1] / "src"
WHEN = datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)
FORMATS = ("json", "msgpack")


def sample(message_type: str) -> msgspec.Struct:
    meta = {"text": "Zürich 🚀", "big": 2**63 - 1, "ratio": 0.1, "nested": {"l": [1, 2.5, None]}}
    return {
        "agent_message": codec.AgentMessage(
            message_id="m1", source_agent_id="a", target_agent_id="b", content="héllo",
            timestamp=WHEN, metadata=meta,
        ),
        "agent_task": codec.AgentTask(
            task_id="t1", agent_id="a", task_type="summarise", parameters=meta, timestamp=WHEN
        ),
        "llm_request": codec.LLMRequest(
            request_id="r1", prompt="Say hi", model="m", tenant_id="acme", timestamp=WHEN
        ),
        "llm_response": codec.LLMResponse(
            request_id="r1", response="hi", model="m", timestamp=WHEN, cost=1e-6,
            tokens=codec.TokenUsage(prompt=3, completion=1, total=4),
        ),
        "embedding_request": codec.EmbeddingRequest(
            request_id="e1", texts=["a", "ü"], model="emb", tenant_id="acme"
        ),
        "rag_document": codec.RAGDocument(
            document_id="d1", content="text", tenant_id="acme", timestamp=WHEN, metadata=meta,
            chunks=[codec.Chunk(chunk_id="c0", content="text", embedding=[0.1] * 1536)],
        ),
        "rag_query": codec.RAGQuery(query_id="q1", query="why?", tenant_id="acme", timestamp=WHEN),
        "rag_result": codec.RAGResult(
            query_id="q1", answer="because", sources=["doc"], timestamp=WHEN,
            metadata=codec.ResultMetadata(tokens=10, cost=0.5),
        ),
        "error": codec.ErrorReply(
            code="rate_limited", message="Tenant acme is over its limit.", request_id="r1",
            details={"limit": 60, "retry_after_s": 2.5}, timestamp=WHEN,
        ),
    }[message_type]


def strictly_equal(a: msgspec.Struct, b: msgspec.Struct) -> bool:
    """Equal values *and* types (1 is not 1.0) and float bits (-0.0 is not 0.0)."""
    return a == b and msgspec.msgpack.encode(a) == msgspec.msgpack.encode(b)


def envelope(message_type: str, version: str, data: dict, **extra) -> dict:
    return {
        "message_type": message_type, "schema_version": version, "message_id": "x",
        "created_at": WHEN, "data": data, **extra,
    }


def wire(env: dict, fmt: str = "json") -> bytes:
    return (msgspec.json if fmt == "json" else msgspec.msgpack).encode(env)


def builtins(struct: msgspec.Struct) -> dict:
    return msgspec.to_builtins(struct, builtin_types=(datetime,))


# ------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("message_type", codec.MESSAGE_TYPES)
def test_every_type_round_trips(message_type, fmt):
    original = sample(message_type)
    raw = codec.encode(message_type, original, format=fmt)
    decoded = codec.decode(raw)
    assert decoded.message_type == message_type
    assert decoded.format == fmt
    assert decoded.schema_version == decoded.source_version == "1.0"
    assert not decoded.upgraded
    assert decoded.raw == raw
    assert strictly_equal(decoded.data, original)


@pytest.mark.parametrize("message_type", codec.MESSAGE_TYPES)
def test_a_plain_dict_is_validated_and_encoded(message_type):
    data = builtins(sample(message_type))
    assert strictly_equal(codec.decode(codec.encode(message_type, data)).data, sample(message_type))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
metadata = st.dictionaries(st.text(max_size=10), json_values, max_size=5)
timestamps = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
ids = st.text(min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    fmt=st.sampled_from(FORMATS),
    message=st.builds(
        codec.AgentMessage, message_id=ids, source_agent_id=ids, target_agent_id=ids,
        content=st.text(), message_type=st.text(min_size=1, max_size=20), timestamp=timestamps,
        metadata=metadata,
    ),
)
def test_agent_message_round_trip_is_lossless(fmt, message):
    decoded = codec.decode(codec.encode("agent_message", message, format=fmt))
    assert strictly_equal(decoded.data, message)


floats = st.floats(allow_nan=False, allow_infinity=False)
chunks = st.builds(
    codec.Chunk, chunk_id=ids, content=st.text(), metadata=metadata,
    embedding=st.lists(floats, max_size=64),
)


@settings(max_examples=100, deadline=None)
@given(
    fmt=st.sampled_from(FORMATS),
    document=st.builds(
        codec.RAGDocument, document_id=ids, content=st.text(), metadata=metadata,
        chunks=st.lists(chunks, max_size=4), tenant_id=ids, timestamp=timestamps,
    ),
)
def test_rag_document_round_trip_is_lossless(fmt, document):
    decoded = codec.decode(codec.encode("rag_document", document, format=fmt))
    assert strictly_equal(decoded.data, document)


@pytest.mark.parametrize("fmt", FORMATS)
def test_full_size_embeddings_keep_every_bit(fmt):
    values = [math.ulp(0.0), -0.0, 1 / 3, -1e308, 2.0**-1074, *([0.123456789] * 1531)]
    doc = msgspec.structs.replace(
        sample("rag_document"), chunks=[codec.Chunk(chunk_id="c", content="", embedding=values)]
    )
    got = codec.decode(codec.encode("rag_document", doc, format=fmt)).data.chunks[0].embedding
    assert msgspec.msgpack.encode(got) == msgspec.msgpack.encode(values)


def test_json_carries_ints_beyond_64_bits_but_msgpack_refuses_them_clearly():
    task = msgspec.structs.replace(sample("agent_task"), parameters={"huge": 2**70})
    assert codec.decode(codec.encode("agent_task", task)).data.parameters == {"huge": 2**70}
    with pytest.raises(codec.EncodeError) as error:
        codec.encode("agent_task", task, format="msgpack")
    assert error.value.reason == "not_encodable"
    assert "msgpack" in error.value.message


def test_reencoding_keeps_id_and_creation_time_and_switches_format():
    first = codec.decode(codec.encode("rag_query", sample("rag_query")))
    again = codec.decode(first.encode("msgpack"))
    assert (again.message_id, again.created_at, again.format) == (
        first.message_id, first.created_at, "msgpack",
    )
    assert strictly_equal(again.data, first.data)


def test_message_ids_are_unique_and_creation_time_is_utc_now():
    before = datetime.now(UTC)
    decoded = [codec.decode(codec.encode("rag_query", sample("rag_query"))) for _ in range(100)]
    assert len({d.message_id for d in decoded}) == 100
    assert all(before <= d.created_at <= datetime.now(UTC) for d in decoded)


def test_an_explicit_offset_timestamp_keeps_its_instant():
    local = datetime(2024, 5, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    message = msgspec.structs.replace(sample("agent_message"), timestamp=local)
    for fmt in FORMATS:
        raw = codec.encode("agent_message", message, format=fmt)
        assert codec.decode(raw).data.timestamp == local


# ------------------------------------------------------------------------------ versioning


def test_supported_versions():
    assert codec.SUPPORTED_VERSIONS["agent_message"] == ("0.9", "1.0")
    assert all(codec.SUPPORTED_VERSIONS[t] == ("1.0",) for t in codec.MESSAGE_TYPES[1:])
    assert set(codec.SUPPORTED_VERSIONS) == set(codec.MESSAGE_TYPES) == set(codec.CURRENT_VERSIONS)


def test_every_migration_chain_ends_at_the_current_shape():
    for (message_type, _major), step in migrations.MIGRATIONS.items():
        assert (message_type, step.from_version) in SHAPES
        assert (message_type, step.to_version) in SHAPES
    for message_type in codec.MESSAGE_TYPES:
        for version in codec.SUPPORTED_VERSIONS[message_type]:
            assert version in versions_of(message_type)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_0_9_agent_message_is_upgraded(fmt):
    old = {
        "id": "m9", "from": "planner", "to": "researcher", "text": "hi", "type": "text",
        "time": WHEN, "meta": {"k": 1},
    }
    raw = codec.encode("agent_message", old, version="0.9", format=fmt)
    decoded = codec.decode(raw)
    assert decoded.upgraded
    assert (decoded.schema_version, decoded.source_version) == ("1.0", "0.9")
    assert decoded.data == codec.AgentMessage(
        message_id="m9", source_agent_id="planner", target_agent_id="researcher", content="hi",
        message_type="text", timestamp=WHEN, metadata={"k": 1},
    )


def test_an_old_message_is_validated_in_its_own_field_names():
    old = {"id": "m9", "to": "researcher", "text": 3, "time": WHEN}
    with pytest.raises(codec.ValidationError) as error:
        codec.decode(wire(envelope("agent_message", "0.9", old)))
    assert {(e.path, e.kind) for e in error.value.errors} == {
        ("data.from", "missing"), ("data.text", "wrong_type"),
    }


@pytest.mark.parametrize("version", ["1.1", "1.12", "1.0"])
def test_any_minor_of_the_current_major_is_read_twice_the_same(version):
    data = {**builtins(sample("agent_message")), "new_in_1_1": [1, 2]}
    raw = wire(envelope("agent_message", version, data), "msgpack")
    for _ in range(2):  # the second read takes the fast path for a version seen before
        decoded = codec.decode(raw)
        assert decoded.source_version == version and decoded.schema_version == "1.0"
        assert strictly_equal(decoded.data, sample("agent_message"))
        assert b"new_in_1_1" in decoded.raw  # kept for relays, absent from the typed view


def test_unknown_envelope_fields_of_a_newer_minor_are_ignored_too():
    env = envelope("rag_query", "1.3", builtins(sample("rag_query")), trace={"id": "abc"})
    assert strictly_equal(codec.decode(wire(env)).data, sample("rag_query"))


def test_missing_optional_fields_take_their_defaults():
    data = builtins(sample("llm_request"))
    del data["parameters"]
    decoded = codec.decode(wire(envelope("llm_request", "1.0", data)))
    assert decoded.data.parameters == codec.LLMParameters(temperature=0.7, max_tokens=None)


@pytest.mark.parametrize(
    ("message_type", "version", "supported"),
    [
        ("agent_message", "2.0", ("0.9", "1.0")),
        ("agent_task", "0.9", ("1.0",)),
        ("rag_result", "10.1", ("1.0",)),
    ],
)
def test_an_unknown_major_is_refused_naming_what_is_supported(message_type, version, supported):
    raw = wire(envelope(message_type, version, builtins(sample(message_type))))
    with pytest.raises(codec.UnsupportedVersionError) as error:
        codec.decode(raw)
    assert error.value.reason == "unsupported_version"
    assert (error.value.version, error.value.supported) == (version, supported)
    assert all(v in error.value.message for v in (version, *supported))
    assert error.value.to_dict()["details"]["supported"] == list(supported)


def test_an_unknown_message_type_is_refused_naming_the_known_ones():
    with pytest.raises(codec.UnknownMessageTypeError) as error:
        codec.decode(wire(envelope("agent_heartbeat", "1.0", {})))
    assert error.value.reason == "unknown_message_type"
    assert all(t in error.value.message for t in ("agent_heartbeat", *codec.MESSAGE_TYPES))


def test_the_writer_refuses_unknown_types_versions_and_formats():
    with pytest.raises(codec.UnknownMessageTypeError):
        codec.encode("agent_heartbeat", {})
    with pytest.raises(codec.UnsupportedVersionError) as error:
        codec.encode("agent_message", sample("agent_message"), version="1.1")
    assert error.value.supported == ("0.9", "1.0")
    with pytest.raises(codec.UnsupportedFormatError) as error:
        codec.encode("agent_message", sample("agent_message"), format="xml")
    assert error.value.reason == "unsupported_format"
    with pytest.raises(codec.UnsupportedFormatError):
        codec.decode(b"{}", format="xml")


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty_payload"),
        (b'{"message_type": "agent_message", "sche', "truncated"),
        (b"\x85\xacmessage_type", "truncated"),
        (b"{not json}", "malformed"),
        (b'{"a": 1} trailing', "malformed"),
        (b"\x83\xc1\xc1", "malformed"),
        (b'{"text": "\xff\xfe"}', "malformed"),
        (b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "malformed"),
        (b"\xff\x00", "unknown_format"),
        (b"[1, 2]", "unknown_format"),
        (b"hello", "unknown_format"),
    ],
)
def test_bad_bytes_give_a_decode_error_with_a_reason(raw, reason):
    with pytest.raises(codec.DecodeError) as error:
        codec.decode(raw)
    assert error.value.reason == reason
    assert error.value.message.endswith(".") and "\n" not in error.value.message


def test_a_non_envelope_value_in_a_declared_format_is_refused():
    with pytest.raises(codec.DecodeError) as error:
        codec.decode(b"[1, 2]", format="json")
    assert error.value.reason == "not_an_envelope"


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200), fmt=st.sampled_from([None, *FORMATS]))
def test_arbitrary_bytes_never_raise_anything_but_a_codec_error(raw, fmt):
    try:
        codec.decode(raw, format=fmt)
    except codec.CodecError as error:
        assert error.reason and error.message


def test_the_size_limit_is_checked_before_decoding():
    with pytest.raises(codec.MessageTooLargeError) as error:
        codec.decode(b"\xff" * 2048, max_size=1024)  # garbage, yet the size is what is reported
    seen = (error.value.reason, error.value.size, error.value.limit)
    assert seen == ("message_too_large", 2048, 1024)
    assert "1024" in error.value.message
    assert isinstance(error.value, codec.DecodeError)
    assert codec.DEFAULT_MAX_SIZE == 1024 * 1024


def test_the_writer_refuses_a_message_readers_would_refuse_for_size():
    doc = msgspec.structs.replace(sample("rag_document"), content="x" * 5000)
    with pytest.raises(codec.MessageTooLargeError):
        codec.encode("rag_document", doc, max_size=4096)


def test_every_bad_field_is_reported_at_once():
    data = builtins(sample("agent_task"))
    del data["task_id"]
    data.update(agent_id=42, parameters="none", priority=99, timestamp="next tuesday")
    for fmt in FORMATS:
        with pytest.raises(codec.ValidationError) as error:
            codec.decode(wire(envelope("agent_task", "1.0", data), fmt))
        assert [(e.path, e.kind) for e in error.value.errors] == [
            ("data.task_id", "missing"),
            ("data.agent_id", "wrong_type"),
            ("data.parameters", "wrong_type"),
            ("data.priority", "out_of_range"),
            ("data.timestamp", "invalid_value"),
        ]
        assert error.value.fields == tuple(e.path for e in error.value.errors)
        assert error.value.message.startswith("The agent_task message is invalid (5 problems)")


def test_nested_and_list_errors_have_precise_paths():
    data = builtins(sample("rag_document"))
    data["chunks"] = [
        {"chunk_id": "c0", "content": "x", "embedding": [0.1, "x"]},
        {"content": 3},
    ]
    with pytest.raises(codec.ValidationError) as error:
        codec.decode(wire(envelope("rag_document", "1.0", data)))
    assert [(e.path, e.kind) for e in error.value.errors] == [
        ("data.chunks[0].embedding[1]", "wrong_type"),
        ("data.chunks[1].chunk_id", "missing"),
        ("data.chunks[1].content", "wrong_type"),
    ]


def test_cross_field_rules_are_reported():
    data = builtins(sample("llm_request"))
    del data["prompt"]
    with pytest.raises(codec.ValidationError) as error:
        codec.validate("llm_request", data)
    assert error.value.errors == (
        codec.FieldError("data", "exactly one of prompt or messages is required", "invalid_value"),
    )


def test_bad_envelope_fields_are_reported_together():
    env = envelope("agent_message", "one.zero", builtins(sample("agent_message")))
    del env["message_id"]
    with pytest.raises(codec.ValidationError) as error:
        codec.decode(wire(env))
    assert [(e.path, e.kind) for e in error.value.errors] == [
        ("schema_version", "invalid_value"), ("message_id", "missing"),
    ]


@pytest.mark.parametrize(
    ("version", "kind"), [("1", "invalid_value"), ("01.0", "invalid_value"), (1.0, "wrong_type")]
)
def test_a_bad_version_string_is_a_validation_error(version, kind):
    with pytest.raises(codec.ValidationError) as error:
        codec.decode(wire(envelope("agent_message", version, {})))
    assert error.value.errors[0][::2] == ("schema_version", kind)


def test_validate_returns_typed_data_or_every_problem():
    assert codec.validate("rag_query", builtins(sample("rag_query"))) == sample("rag_query")
    assert codec.validate("rag_query", sample("rag_query")) is not None
    with pytest.raises(codec.ValidationError) as error:
        codec.validate("rag_query", sample("agent_task"))
    assert error.value.errors[0].path == "data"
    with pytest.raises(codec.ValidationError) as error:
        codec.encode("rag_query", {"query": "", "parameters": {"top_k": 0}})
    assert {e.path for e in error.value.errors} == {
        "data.query_id", "data.query", "data.tenant_id", "data.parameters.top_k", "data.timestamp",
    }


def test_a_naive_creation_time_is_refused_on_write():
    with pytest.raises(codec.ValidationError) as error:
        codec.encode("rag_query", sample("rag_query"), created_at=datetime(2024, 1, 1))
    assert error.value.errors[0].path == "created_at"


def test_errors_serialise_for_a_dead_letter_record():
    with pytest.raises(codec.CodecError) as error:
        codec.decode(b"")
    assert error.value.to_dict() == {
        "reason": "empty_payload", "message": "The message is empty.", "details": {},
    }
    with pytest.raises(codec.ValidationError) as error:
        codec.validate("rag_query", {})
    record = json.loads(json.dumps(error.value.to_dict()))
    assert record["details"]["errors"][0] == {
        "path": "data.query_id", "problem": "missing required field", "kind": "missing",
    }


# ------------------------------------------------------------------------------ formats


@pytest.mark.parametrize(
    ("raw", "fmt"),
    [(b"{}", "json"), (b"  \n{", "json"), (b"\x80", "msgpack"), (b"\x8f", "msgpack"),
     (b"\xde\x00\x01", "msgpack"), (b"\xdf\x00", "msgpack")],
)
def test_detect_format(raw, fmt):
    assert codec.detect_format(raw) == fmt


def test_headers():
    assert codec.headers_for("json") == {"Content-Type": "application/json"}
    assert codec.headers_for("msgpack") == {"Content-Type": "application/msgpack"}
    assert codec.CONTENT_TYPES == {"json": "application/json", "msgpack": "application/msgpack"}
    assert codec.format_from_headers(None) is None
    assert codec.format_from_headers({"Nats-Msg-Id": "x"}) is None
    assert codec.format_from_headers({"content-type": "application/json; charset=utf-8"}) == "json"
    assert codec.format_from_headers({"Content-Type": "application/x-msgpack"}) == "msgpack"
    with pytest.raises(codec.UnsupportedFormatError):
        codec.format_from_headers({"Content-Type": "text/plain"})
    with pytest.raises(codec.UnsupportedFormatError):
        codec.headers_for("yaml")


# ------------------------------------------------------------------------------ schemas


def test_every_type_and_version_has_a_json_schema_that_accepts_real_messages():
    schemas = codec.json_schemas()
    assert set(schemas) == set(SHAPES)
    for message_type in codec.MESSAGE_TYPES:
        schema = schemas[(message_type, "1.0")]
        jsonschema.Draft202012Validator.check_schema(schema)
        message = json.loads(codec.encode(message_type, sample(message_type)))
        jsonschema.validate(message, schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**message, "schema_version": "2.0"}, schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**message, "message_type": "other"}, schema)
    old = json.loads(codec.encode(
        "agent_message",
        {"id": "m", "from": "a", "to": "b", "text": "t", "time": WHEN},
        version="0.9",
    ))
    jsonschema.validate(old, schemas[("agent_message", "0.9")])


def test_schema_constraints_are_published():
    data = codec.json_schema("agent_task", "1.0")["$defs"]["AgentTask"]
    assert data["properties"]["priority"]["maximum"] == 10
    assert set(data["required"]) == {"task_id", "agent_id", "task_type", "timestamp"}


def test_the_schema_command_writes_one_file_per_type_and_version(tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "ai_contract.codec.schemas", str(tmp_path)],
        capture_output=True, text=True, env=env, check=True,
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == len(SHAPES) == len(done.stdout.split())
    assert "agent_message-0.9.schema.json" in names and "rag_result-1.0.schema.json" in names
    schema = json.loads((tmp_path / "rag_query-1.0.schema.json").read_text())
    assert schema["title"] == "rag_query 1.0 envelope"


def test_the_codec_does_not_import_the_harness_or_behave():
    code = (
        "import sys, ai_contract.codec; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('harness', 'behave')]; "
        "assert not bad, bad"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def test_internal_helpers():
    assert parse_version("1.0") == (1, 0) and parse_version("12.34") == (12, 34)
    assert parse_version("1") is parse_version("v1.0") is parse_version("1.0.0") is None
    assert envelope_type("agent_message", "1.0") is envelope_type("agent_message", "1.0")


def test_a_bad_mapping_key_names_the_mapping():
    data = {**builtins(sample("agent_message")), "metadata": {1: "one"}}
    with pytest.raises(codec.ValidationError) as error:
        codec.decode(wire(envelope("agent_message", "1.0", data), "msgpack"))
    assert error.value.errors == (
        codec.FieldError("data.metadata", "expected str, got int for a key", "wrong_type"),
    )


# ------------------------------------------------------------------------------ strictness


@pytest.mark.parametrize("version", ["1.0\n", " 1.0", "1.0 ", "1.0\t", "\n1.0", "1.\u0660", "1.0\n\n"])
def test_a_version_with_anything_around_it_is_refused(version):
    assert parse_version(version) is None
    for fmt in FORMATS:
        raw = wire(envelope("agent_message", version, builtins(sample("agent_message"))), fmt)
        for _ in range(2):  # and it never becomes a known-good version for the fast path
            with pytest.raises(codec.ValidationError) as error:
                codec.decode(raw)
            assert [(e.path, e.kind) for e in error.value.errors] == [("schema_version", "invalid_value")]


def test_the_published_schema_refuses_a_version_with_a_line_break():
    schema = codec.json_schema("agent_message", "1.0")
    message = json.loads(codec.encode("agent_message", sample("agent_message")))
    jsonschema.validate({**message, "schema_version": "1.7"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**message, "schema_version": "1.0\n"}, schema)


def refuse_duplicates(raw: bytes) -> list[tuple[str, str]]:
    with pytest.raises(codec.ValidationError) as error:
        codec.decode(raw)
    assert error.value.reason == "validation_failed"
    return [(e.path, e.kind) for e in error.value.errors]


@pytest.mark.parametrize(
    ("raw", "paths"),
    [
        # as this codec would write it, but with one key twice (the fast path's re-encode differs)
        (b'{"message_type":"rag_query","schema_version":"1.0","schema_version":"1.0",', ["schema_version"]),
        (b'{"message_type":"rag_query","message_type":"rag_query","schema_version":"1.0",', ["message_type"]),
        # another producer's spacing, and a key escaped differently: still the same key
        (b'{"message_type": "rag_query", "schema_version": "1.0", "schema_v\\u0065rsion": "1.1", ',
         ["schema_version"]),
    ],
)
def test_a_json_envelope_key_written_twice_is_refused(raw, paths):
    rest = b'"message_id":"x","created_at":"2024-05-01T09:30:15Z","data":' + wire(builtins(sample("rag_query")))
    assert [p for p, _ in refuse_duplicates(raw + rest + b"}")] == paths


def test_json_data_keys_written_twice_are_all_named():
    data = json.dumps(builtins(sample("rag_document")), default=str)
    data = data.replace('"content": "text", "metadata"', '"content": "text", "content": "other", "metadata"')
    data = data.replace('"chunk_id": "c0"', '"chunk_id": "c0", "chunk_id": "c0"')
    data = data.replace('"ratio": 0.1', '"ratio": 0.1, "ratio": 0.2')
    raw = wire(envelope("rag_document", "1.0", {}))[:-3] + data.encode() + b"}"
    assert refuse_duplicates(raw) == [
        ("data.content", "duplicate"), ("data.metadata.ratio", "duplicate"), ("data.chunks[0].chunk_id", "duplicate"),
    ]


def msgpack_map(*pairs: tuple[object, object], wide: bool = False) -> bytes:
    """A MessagePack map written pair by pair, so a key can appear twice; bytes are taken as written."""
    def packed(value: object) -> bytes:
        return value if isinstance(value, bytes) else msgspec.msgpack.encode(value)

    head = b"\xde" + len(pairs).to_bytes(2, "big") if wide else bytes([0x80 | len(pairs)])
    return head + b"".join(packed(key) + packed(value) for key, value in pairs)


def msgpack_envelope(data: bytes, *, wide: bool = False, extra: tuple = ()) -> bytes:
    return msgpack_map(
        ("message_type", "agent_message"), ("schema_version", "1.0"), ("message_id", "x"),
        ("created_at", WHEN), ("data", data), *extra, wide=wide,
    )


def test_msgpack_keys_written_twice_are_refused():
    fields = list(builtins(sample("agent_message")).items())
    twice = msgpack_map(*fields, ("content", "smuggled"))
    assert refuse_duplicates(msgpack_envelope(twice)) == [("data.content", "duplicate")]
    nested = msgpack_map(*fields[:-1], ("metadata", msgpack_map(("a", 1), ("b", 2), ("a", 1))))
    assert refuse_duplicates(msgpack_envelope(nested, wide=True)) == [("data.metadata.a", "duplicate")]
    envelope_twice = msgpack_envelope(msgpack_map(*fields), extra=(("message_id", "y"),))
    assert refuse_duplicates(envelope_twice) == [("message_id", "duplicate")]
    old_shape = msgpack_map(("id", "m9"), ("from", "a"), ("to", "b"), ("text", "hi"), ("time", WHEN),
                            ("to", "c"))
    raw = msgpack_map(("message_type", "agent_message"), ("schema_version", "0.9"), ("message_id", "x"),
                      ("created_at", WHEN), ("data", old_shape))
    assert refuse_duplicates(raw) == [("data.to", "duplicate")]  # the slow path looks too


def test_other_producers_bytes_without_duplicates_are_read():
    expected = sample("agent_message")
    spaced = json.dumps(envelope("agent_message", "1.0", builtins(expected)), default=str, indent=2)
    assert strictly_equal(codec.decode(spaced.encode()).data, expected)
    # map16 headers and every key re-ordered: not what msgspec writes, yet nothing repeats
    fields = reversed(list(builtins(expected).items()))
    raw = msgpack_envelope(msgpack_map(*fields, wide=True), wide=True)
    assert raw != codec.encode("agent_message", expected, format="msgpack")
    assert strictly_equal(codec.decode(raw).data, expected)
    doc = sample("rag_document")
    unordered = {**builtins(doc), "chunks": [{**c, "embedding": c["embedding"][:3] + [7, 0.5]}
                                             for c in builtins(doc)["chunks"]]}
    assert codec.decode(wire(envelope("rag_document", "1.0", unordered), "msgpack")).data.chunks


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_typed_message_is_validated_before_anything_is_written(fmt):
    task = msgspec.structs.replace(sample("agent_task"), priority=42, agent_id="")
    with pytest.raises(codec.ValidationError) as error:
        codec.encode("agent_task", task, format=fmt)
    assert [(e.path, e.kind) for e in error.value.errors] == [
        ("data.agent_id", "out_of_range"), ("data.priority", "out_of_range"),
    ]
    naive = msgspec.structs.replace(sample("rag_query"), timestamp=datetime(2024, 5, 1))
    with pytest.raises(codec.ValidationError) as error:
        codec.encode("rag_query", naive, format=fmt)
    assert error.value.fields == ("data.timestamp",)
    with pytest.raises(codec.ValidationError):
        codec.validate("agent_task", task)


def test_a_value_no_format_can_carry_is_refused_on_write():
    task = msgspec.structs.replace(sample("agent_task"), parameters={"handle": object()})
    with pytest.raises(codec.EncodeError):
        codec.encode("agent_task", task)


def test_an_error_reply_has_its_documented_shape():
    reply = codec.validate("error", {"code": "no_responders", "message": "Nobody serves it.", "timestamp": WHEN})
    assert (reply.details, reply.request_id) == ({}, None)
    for code in ("Rate limited", "RateLimited", "rate_limited\n", "", "x" * 65):
        with pytest.raises(codec.ValidationError) as error:
            codec.validate("error", {"code": code, "message": "m", "timestamp": WHEN})
        assert error.value.fields == ("data.code",)
    with pytest.raises(codec.ValidationError) as error:
        codec.validate("error", {"details": [], "timestamp": "2024-05-01T09:30:00"})
    assert [(e.path, e.kind) for e in error.value.errors] == [
        ("data.code", "missing"), ("data.message", "missing"), ("data.details", "wrong_type"),
        ("data.timestamp", "invalid_value"),
    ]
    schema = codec.json_schema("error", "1.0")["$defs"]["ErrorReply"]
    assert set(schema["required"]) == {"code", "message", "timestamp"}
    assert codec.ErrorReply is codec.schemas.v1.ErrorReply
