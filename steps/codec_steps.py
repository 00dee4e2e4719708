"""Steps for the message codec features (features/codec): parse, call `world.codec`, assert.

Producers, the reader, relays and the components' messages are in `harness.drivers.codec`.
"""

from __future__ import annotations

import re

from behave import given, then, when

from ai_contract.codec import (
    CURRENT_VERSIONS,
    MESSAGE_TYPES,
    MessageTooLargeError,
    UnknownMessageTypeError,
    UnsupportedVersionError,
    ValidationError,
)
from harness.drivers.codec import LEFT_OUT, builtins, cell, differences, float_bits, plain

# The problems a refusal names, in the specs' words and as the codec's field error kinds.
PROBLEM_KINDS = {"missing": "missing", "wrong type": "wrong_type", "out of range": "out_of_range",
                 "invalid value": "invalid_value", "duplicated": "duplicate"}


def _read(context):
    return context.world.outcome.expect_result("the reader to read the message")


def _refusal(context):
    return context.world.outcome.expect_error("a refusal")


def _validation_refusal(context) -> ValidationError:
    error = _refusal(context)
    assert isinstance(error, ValidationError), f"expected a refusal that lists bad fields, seen {error!r}"
    return error


# producers ---------------------------------------------------------------------------------------
@given("a message reader at version {version:Version} of every message type")
def step_reader_at_version(context, version):
    """The reader's codec is at this version for every message type."""
    others = {t: v for t, v in CURRENT_VERSIONS.items() if v != version}
    assert not others, f"expected the reader at version {version} for every type, seen {others}"


@given("a producer at version {version:Version} sends message type {message_type:MessageType} in the current shape")
@given('a producer at version {version:Version} sends message type {message_type:MessageType} '
       'with the new field "{new:FieldPath}"')
@given('a producer at version {version:Version} sends message type {message_type:MessageType} '
       'without the optional field "{absent:FieldPath}"')
def step_producer_current_shape(context, version, message_type, new=None, absent=None):
    """A producer writes the sample of a type in the current shape, maybe with a new field or without one."""
    context.world.codec.produce(message_type, version, new_field=new, without=absent)


@given("a producer at version {version:Version} sends message type {message_type:MessageType} in the old shape")
def step_producer_old_shape(context, version, message_type):
    """An old producer writes the 0.9 shape, with a non-default type and metadata."""
    context.world.codec.produce_old(message_type, version)


@given("a producer at version {version:Version} sends message type {message_type:MessageType} "
       "as a type it never heard of")
def step_producer_unknown_type(context, version, message_type):
    """A producer sends a message type the reader has no schema for."""
    context.world.codec.produce_unknown(message_type, version)


@given("a producer at version {version:Version} sends message type {message_type:MessageType} with these fields:")
def step_producer_fields_table(context, version, message_type):
    """A producer writes exactly the data fields of the table."""
    context.world.codec.produce_fields(message_type, version, [(r["field"], cell(r["value"])) for r in context.table])


@given("a valid {message_type:MessageType} message from a producer")
def step_valid_message(context, message_type):
    """A producer prepares the valid sample of a type at the current version."""
    context.world.codec.produce(message_type, CURRENT_VERSIONS[message_type])


@given('the producer leaves out the field "{path:FieldPath}"')
@given('the producer writes the field "{path:FieldPath}" as {value:Json}')
@given('the producer writes the field "{path:FieldPath}" a second time as {again:Json}')
def step_change_field(context, path, value=LEFT_OUT, again=LEFT_OUT):
    """The producer drops a field of its envelope or data, writes it as a JSON value, or writes its key twice."""
    context.world.codec.change_field(path, value, again=again)


@given("a producer sends a {fmt:WireFormat} message cut off after {size:d} bytes")
def step_truncated_message(context, fmt, size):
    """The bytes to read are the start of a valid message."""
    context.world.codec.truncated(fmt, size)


@given('a producer sends the text "{text:Q}"')
@given('a producer sends the bytes "{hex_bytes:Q}"')
@given("a producer sends an empty message")
def step_raw_message(context, text="", hex_bytes=None):
    """The bytes to read: this text in UTF-8, these bytes written in hex, or none at all."""
    context.world.codec.wire = text.encode() if hex_bytes is None else bytes.fromhex(hex_bytes)


@given("the reader's size limit is {limit:d} bytes")
def step_size_limit(context, limit):
    """The reader refuses messages above this size."""
    context.world.codec.max_size = limit


@given("a producer sends a rag_document message of {kib:d} KiB as {fmt:WireFormat}")
def step_sized_document(context, kib, fmt):
    """The bytes to read are a RAG document of about this size."""
    context.world.codec.sized_document(kib, fmt)


@given("{count:d} corrupted copies of a valid {message_type:MessageType} message as {fmt:WireFormat}")
def step_corrupted_copies(context, count, message_type, fmt):
    """Copies of a valid message, each with one byte changed, added or cut."""
    context.world.codec.corrupt(count, message_type, fmt)


# the reader --------------------------------------------------------------------------------------
@when("the producer's message reaches the reader as {fmt:WireFormat}")
def step_message_reaches_reader(context, fmt):
    """The producer's envelope is written as the format and decoded by the reader."""
    context.world.attempt(lambda: context.world.codec.deliver(fmt))


@when("the reader decodes those bytes")
def step_decode_bytes(context):
    """The reader decodes the bytes as they are, guessing the format."""
    context.world.attempt(context.world.codec.read)


@when("the reader decodes every corrupted copy")
def step_decode_copies(context):
    """The reader decodes each corrupted copy; crashes are counted, not raised."""
    context.world.attempt(context.world.codec.decode_copies)


@when('the reader decodes the message using only the Content-Type "{content_type:Q}"')
def step_decode_with_header(context, content_type):
    """The reader decodes the bytes in the format the header names."""
    context.world.attempt(lambda: context.world.codec.read_labelled(content_type))


@when("the reader relays the message unchanged to the next consumer")
def step_relay(context):
    """The reader forwards the bytes of the message it read."""
    context.world.codec.relay(_read(context))


@then("the reader reads it as is")
@then("the decoded message equals the original, field by field")
@then('the reader reads it and ignores the field "{name:FieldPath}"')
def step_reads_as_is(context, name=None):
    """The data is what was sent, at the version it was sent, not upgraded; a new field is not in it."""
    envelope = _read(context)
    assert name is None or not hasattr(envelope.data, name), f"expected no field {name!r} in the reader's view"
    diffs = differences(context.world.codec.sample, envelope.data)  # strictly: types, float bits, order
    assert not diffs, "the decoded data differs from what was sent: " + "; ".join(diffs)
    version = context.world.codec.producer_version
    assert (envelope.source_version, envelope.upgraded) == (version, False), (
        f"expected version {version} read as is, seen {envelope.source_version}, upgraded: {envelope.upgraded}")


@then('the reader reads it with "{name:FieldPath}" defaulted to {value:Json}')
def step_reads_with_default(context, name, value):
    """The missing field takes its documented default."""
    seen = builtins(getattr(_read(context).data, name))
    assert seen == value, f"expected {name} defaulted to {value!r}, seen {seen!r}"


@then("the reader upgrades it to version {version:Version} with every field carried over")
def step_upgrades(context, version):
    """The old message is read in the current shape, each old field under its new name."""
    envelope, codec = _read(context), context.world.codec
    seen = (envelope.upgraded, envelope.schema_version, envelope.source_version)
    assert seen == (True, version, codec.producer_version), (
        f"expected an upgrade from {codec.producer_version} to {version}, seen (upgraded, version, source) {seen}")
    losses = codec.upgrade_losses(envelope)
    assert not losses, "fields lost on the upgrade: " + "; ".join(losses)


@then("the reader sees version {version:Version} data upgraded from {source:Version} with these fields:")
def step_upgraded_fields(context, version, source):
    """The upgraded data holds exactly the values of the table."""
    envelope = _read(context)
    seen = (envelope.schema_version, envelope.source_version)
    assert seen == (version, source), f"expected version {version} upgraded from {source}, seen {seen}"
    data = plain(envelope.data)
    for row in context.table:
        want, got = cell(row["value"]), data.get(row["field"])
        assert got == want, f"expected {row['field']} = {want!r}, seen {got!r}"


@then("the reader refuses it as {reason:Reason}, naming version {version:Version} "
      "and supported versions {versions:Versions}")
def step_refuses_version(context, reason, version, versions):
    """An unsupported version is refused, naming it and what the reader supports."""
    error = _refusal(context)
    assert isinstance(error, UnsupportedVersionError), f"expected a version refusal, seen {error!r}"
    seen = (error.reason, error.version, error.supported)
    assert seen == (reason, version, versions), f"expected {(reason, version, versions)}, seen {seen}"
    missing = [text for text in (version, *versions) if text not in error.message]
    assert not missing, f"expected {missing} named in the message, seen: {error.message}"


@then("the reader refuses it as {reason:Reason}, naming the type {name:MessageType} and the known types")
def step_refuses_type(context, reason, name):
    """An unknown type is refused, naming it and every type the reader knows."""
    error = _refusal(context)
    assert isinstance(error, UnknownMessageTypeError), f"expected a message type refusal, seen {error!r}"
    assert (error.reason, error.message_type) == (reason, name), (
        f"expected {reason} naming {name}, seen {error.reason} naming {error.message_type}")
    missing = [text for text in (name, *MESSAGE_TYPES) if text not in error.message]
    assert not missing, f"expected {missing} named in the message, seen: {error.message}"


@then('the next consumer still finds the field "{name:FieldPath}" in the relayed message')
def step_relayed_field(context, name):
    """The relayed bytes still hold the field the relay did not know."""
    fields = context.world.codec.relayed_fields()
    assert name in fields, f"expected {name!r} in the relayed data, seen fields {fields}"


@then('the reader refuses the message with reason "{reason:Reason}"')
@then('the codec refuses to write it with reason "{reason:Reason}"')
def step_refuses_with_reason(context, reason):
    """The reader's or the writer's refusal has this reason and a one-sentence message."""
    error = _refusal(context)
    assert error.reason == reason, f"expected reason {reason}, seen {error.reason}: {error.message}"
    assert error.message.endswith(".") and "\n" not in error.message, (
        f"expected one clear sentence, seen: {error.message!r}")


@then('the refusal names the field "{path:FieldPath}" as {problem:Phrase}')
def step_refusal_names_field(context, path, problem):
    """The refusal lists the field with this kind of problem, in its data and its sentence."""
    error = _validation_refusal(context)
    seen, kind = {e.path: e.kind for e in error.errors}, PROBLEM_KINDS[problem]
    assert seen.get(path) == kind, f"expected {path} reported as {kind}, seen {seen}"
    assert path in error.message, f"expected {path} in the message, seen: {error.message}"


@then("the refusal lists every bad field at once:")
def step_refusal_lists_all(context):
    """The refusal lists exactly the fields and problems of the table."""
    error = _validation_refusal(context)
    expected = {(row["field"], PROBLEM_KINDS[row["problem"]]) for row in context.table}
    seen = {(e.path, e.kind) for e in error.errors}
    assert seen == expected, f"expected {sorted(expected)}, seen {sorted(seen)}"


@then('the refusal says "{text:Q}"')
def step_refusal_says(context, text):
    """The refusal's sentence contains this text."""
    error = _refusal(context)
    assert text in error.message, f"expected {text!r} in the message, seen: {error.message}"


@then("the refusal names the limit of {limit:d} bytes")
def step_refusal_names_limit(context, limit):
    """The size refusal names the limit it applied."""
    error = _refusal(context)
    assert isinstance(error, MessageTooLargeError), f"expected a size refusal, seen {error!r}"
    assert error.limit == limit, f"expected the limit {limit}, seen {error.limit}"
    assert str(limit) in error.message, f"expected {limit} in the message, seen: {error.message}"


@then("every corrupted copy is either read or refused with a reason")
def step_no_crash(context):
    """No copy crashed the reader, and every refusal has a snake_case reason."""
    tally = context.world.outcome.expect_result("every copy decoded")
    assert not tally.crashes, f"expected refusals, seen {len(tally.crashes)} crashes, e.g. {tally.crashes[:3]}"
    odd = [r for r in tally.outcomes if not re.fullmatch(r"[a-z_]+", r)]
    assert not odd, f"expected snake_case reasons, seen {odd[:5]}"


# writing -----------------------------------------------------------------------------------------
@when("the producer writes it with the codec from plain fields as {fmt:WireFormat}")
def step_write_plain(context, fmt):
    """The producer hands the codec its data as a mapping."""
    context.world.attempt(lambda: context.world.codec.write(fmt))


@when("the producer builds it as a typed message and writes it with the codec as {fmt:WireFormat}")
def step_write_typed(context, fmt):
    """The producer builds the shape's Struct without checks and hands it to the codec."""
    context.world.attempt(lambda: context.world.codec.write(fmt, typed=True))


@then("the codec wrote nothing")
def step_wrote_nothing(context):
    """No bytes came out of the refused write."""
    written = context.world.codec.written
    assert written is None, f"expected nothing written, the codec wrote {len(written)} bytes"


# formats -----------------------------------------------------------------------------------------
@given("a sample {message_type:MessageType} message with unicode text, big numbers, decimals and nested metadata")
def step_sample_message(context, message_type):
    """The sample of a type, every field away from its default."""
    context.world.codec.use_sample(message_type)


@when("the codec encodes the message as {fmt:WireFormat} and decodes it again")
def step_round_trip(context, fmt):
    """The codec writes the sample and reads the bytes back."""
    context.world.attempt(lambda: context.world.codec.round_trip(fmt))


@then("the decoded message says it was read as {fmt:WireFormat}")
def step_read_as_format(context, fmt):
    """The envelope records the format it was read from."""
    seen = _read(context).format
    assert seen == fmt, f"expected the message read as {fmt}, seen {seen}"


@then("every decoded chunk embedding has {dims:d} numbers identical to the original")
def step_embeddings_identical(context, dims):
    """Each chunk's embedding arrives with every bit of every number."""
    sent, got = context.world.codec.sample.chunks, _read(context).data.chunks
    assert len(got) == len(sent), f"expected {len(sent)} chunks, seen {len(got)}"
    for before, after in zip(sent, got, strict=True):
        assert len(after.embedding) == dims, f"expected {dims} numbers, seen {len(after.embedding)}"
        assert float_bits(before.embedding) == float_bits(after.embedding), (
            f"embedding of {before.chunk_id} changed in at least one bit")


@given("a sample {message_type:MessageType} message encoded by the codec as {fmt:WireFormat}")
def step_sample_encoded(context, message_type, fmt):
    """The codec writes the sample of a type; the bytes are kept to read."""
    context.world.codec.encode_sample(message_type, fmt)


@then("the codec detects {fmt:WireFormat} from the first byte of the message")
def step_detects_format(context, fmt):
    """The format guessed from the bytes is the one written."""
    seen, first = context.world.codec.detected_format(), context.world.codec.wire[0]
    assert seen == fmt, f"expected {fmt} detected, seen {seen} (first byte {first:#04x})"


@then('the codec labels the message with the Content-Type "{content_type:Q}"')
def step_labels_content_type(context, content_type):
    """The header the codec puts on the message names its format."""
    seen = context.world.codec.content_type()
    assert seen == content_type, f"expected Content-Type {content_type}, seen {seen}"


@when('a reader looks up the format of the Content-Type "{content_type:Q}"')
def step_look_up_content_type(context, content_type):
    """A reader maps a Content-Type header to a wire format."""
    context.world.attempt(lambda: context.world.codec.format_of(content_type))


@then("the reader takes the Content-Type as {fmt:WireFormat}")
def step_content_type_format(context, fmt):
    """The Content-Type means this format."""
    seen = context.world.outcome.expect_result(f"the Content-Type read as {fmt}")
    assert seen == fmt, f"expected {fmt}, seen {seen}"


# components --------------------------------------------------------------------------------------
@when("the codec carries the message as {fmt:WireFormat}, labelled with its Content-Type")
def step_codec_carries(context, fmt):
    """The sender encodes and labels the message; the receiver decodes it by the label."""
    context.world.attempt(lambda: context.world.codec.carry(fmt))


@given('the API sends the RAG document "{title:Q}" for tenant "{tenant:Name}" with {kb:d} KB of text '
       "in {count:d} chunks embedded with {dims:d} numbers each")
def step_rag_document(context, title, tenant, kb, count, dims):
    """A RAG document with its chunks and their embeddings, from plain fields."""
    context.world.codec.rag_document(title, tenant, kb, count, dims)


@then('the reader finds the document "{title:Q}" with its text, its {count:d} chunks '
      "and every embedding number unchanged")
def step_rag_document_read(context, title, count):
    """The document, its chunks and every embedding bit arrive as sent."""
    data = _read(context).data
    assert data.metadata.get("title") == title, f"expected the document {title}, seen {data.metadata}"
    assert len(data.chunks) == count, f"expected {count} chunks, seen {len(data.chunks)}"
    changes = context.world.codec.document_changes(data)
    assert not changes, "changed on the way: " + "; ".join(changes)


@given('a component sends the gateway a request for tenant "{tenant:Name}" to model "{model:Q}" at temperature '
       "{temperature:g} for at most {max_tokens:d} tokens with the conversation:")
def step_gateway_request(context, tenant, model, temperature, max_tokens):
    """A completion request from plain fields, with the conversation of the table."""
    conversation = [{"role": row["role"], "content": row["content"]} for row in context.table]
    context.world.codec.gateway_request(tenant, model, temperature, max_tokens, conversation)


@then('the reader finds a request for tenant "{tenant:Name}" to model "{model:Q}" at temperature '
      "{temperature:g} for at most {max_tokens:d} tokens with the same conversation")
def step_gateway_request_read(context, tenant, model, temperature, max_tokens):
    """The request arrives with its id, parameters and every turn of the conversation."""
    data, sent = _read(context).data, context.world.codec.sent()
    seen = (data.request_id, data.tenant_id, data.model, data.parameters.temperature, data.parameters.max_tokens)
    want = (sent["request_id"], tenant, model, temperature, max_tokens)
    assert seen == want, f"expected {want}, seen {seen}"
    conversation = builtins(data.messages)
    assert conversation == sent["messages"], f"expected conversation {sent['messages']}, seen {conversation}"


@given('the API asks the RAG workers "{question:Q}" for tenant "{tenant:Name}" with no parameters')
@given('the API asks the RAG workers "{question:Q}" for tenant "{tenant:Name}" for the top {top_k:d} passages '
       "above similarity {threshold:g}")
def step_rag_query(context, question, tenant, top_k=None, threshold=None):
    """A RAG question from plain fields, with its own top_k and threshold or none (the defaults)."""
    context.world.codec.rag_query(tenant, question, top_k, threshold)


@then('the reader finds the question "{question:Q}" for tenant "{tenant:Name}" with the top {top_k:d} '
      "passages above similarity {threshold:g}")
def step_rag_query_read(context, question, tenant, top_k, threshold):
    """The question arrives with its id, tenant and retrieval parameters."""
    data, sent = _read(context).data, context.world.codec.sent()
    seen = (data.query_id, data.tenant_id, data.query, data.parameters.top_k, data.parameters.similarity_threshold)
    want = (sent["query_id"], tenant, question, top_k, threshold)
    assert seen == want, f"expected {want}, seen {seen}"
