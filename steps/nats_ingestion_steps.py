"""Steps for JetStream ingestion, RAG questions over NATS, redelivery and dead letters."""

from behave import given, then, when

from ai_platform import codec
from ai_platform.messaging import headers as h
from ai_platform.messaging import subjects
from harness.drivers import knowledge_base as kb
from harness.drivers.messaging import DEFAULT_TIMEOUT_S, bus_of, crash_after_storing, tenant_id, wait_until

# ingestion and questions ------------------------------------------------------------------------

@given("an ingestion worker of the tenant takes documents from the message bus")
@when("a new ingestion worker of the tenant takes documents from the message bus")
def step_ingestion_worker(context):
    worker = bus_of(context).ingestion_worker(tenant_id(context))
    context.world.ingestion_workers.append(worker)


@given("a RAG worker of the tenant answers questions from the message bus")
def step_rag_worker(context):
    bus_of(context).rag_worker(tenant_id(context))


@when('the API publishes the document "{title:Q}" with the text "{text:Q}" for ingestion')
def step_publish_document(context, title, text):
    messaging = bus_of(context)
    messaging.run(messaging.client.publish_document(tenant_id(context), kb.document_id(title), title, text))
    context.world.__dict__.setdefault("raw_payload", messaging.client.last_published)


@when("the API publishes {count:d} documents for ingestion")
@when("the API publishes {count:d} more documents for ingestion")
def step_publish_many(context, count):
    messaging = bus_of(context)
    published = context.world.__dict__.setdefault("published", [])
    for _ in range(count):
        n = len(published) + 1
        title = f"Bulletin {n:03d}"
        messaging.run(messaging.client.publish_document(
            tenant_id(context), kb.document_id(title), title, f"Bulletin number {n} announces change {n * 7}."
        ))
        published.append(kb.document_id(title))


@then('the knowledge base of the tenant comes to hold "{title:Q}" within {seconds:d} seconds')
def step_comes_to_hold(context, title, seconds):
    wait_until(lambda: kb.document_id(title) in kb.titles(context.world), seconds, f"{title!r} to be stored")


@when('the API asks over the message bus "{question:Q}"')
def step_remote_question(context, question):
    messaging, threshold = bus_of(context), context.world.retrieval.similarity_threshold
    context.world.rag_result = messaging.run(messaging.client.query_rag(
        tenant_id(context), question, timeout_s=DEFAULT_TIMEOUT_S, similarity_threshold=threshold))


@then('the answer over the message bus is "{text:Q}" citing "{title:Q}"')
def step_remote_answer(context, text, title):
    result = context.world.rag_result
    assert (result.answer, result.sources) == (text, [title]), (
        f"expected {text!r} citing [{title!r}], got {result.answer!r} citing {result.sources}"
    )


@then("all {count:d} documents are stored exactly once within {seconds:d} seconds")
def step_all_stored(context, count, seconds):
    expected = sorted(context.world.published)
    assert len(expected) == count, f"the scenario published {len(expected)} documents, not {count}"
    wait_until(lambda: kb.titles(context.world) == expected, seconds, f"all {count} documents to be stored")
    rows = kb.rows_of(context.world)
    assert rows["documents"] == count and rows["chunks"] == count, f"expected {count} documents once each, got {rows}"


@then("the API and the ingestion worker reconnected to NATS")
def step_reconnected(context):
    counts = {"api": context.world.messaging.client.bus.reconnects,
              "ingestion worker": context.world.ingestion_workers[0].bus.reconnects}
    assert all(counts.values()), f"expected both to reconnect after the restart, reconnects were {counts}"


@given("ingestion workers try a document at most {times:d} times")
def step_max_deliver(context, times):
    bus_of(context).ingestion_options["max_deliver"] = times


@then("the document was tried {times:d} times")
def step_tried(context, times):
    deliveries = context.world.ingestion_workers[-1].deliveries
    assert deliveries == list(range(1, times + 1)), f"expected deliveries 1 to {times}, they were {deliveries}"


@given("ingestion workers wait {seconds:d} second for an acknowledgement")
def step_ack_wait(context, seconds):
    bus_of(context).ingestion_options["ack_wait_s"] = float(seconds)


@when("an ingestion worker stores the document and crashes before acknowledging it")
def step_crash(context):
    crash_after_storing(bus_of(context), tenant_id(context))


@then("the new worker receives the document again within {seconds:d} seconds")
def step_redelivered(context, seconds):
    worker = context.world.ingestion_workers[-1]
    wait_until(lambda: worker.stored >= 1, seconds, "the document to be delivered again")
    assert max(worker.deliveries) >= 2, f"expected a redelivery, delivery counts were {worker.deliveries}"


# dead letters -----------------------------------------------------------------------------------

def _payload(context, kind: str) -> bytes:
    document = {"document_id": "odd-one", "content": "Some text.", "tenant_id": tenant_id(context),
                "timestamp": "2026-11-21T10:00:00+00:00"}
    if kind == "garbage bytes":
        return b"\x00\xffthis is not a message"
    if kind == "a truncated envelope":
        whole = codec.encode("rag_document", document)
        return whole[: len(whole) // 2]
    if kind == "an envelope of schema version 9.0":
        return codec.encode("rag_document", document).replace(b'"1.0"', b'"9.0"', 1)
    if kind == "an empty document":
        return codec.encode("rag_document", {**document, "content": ""})
    raise ValueError(f"no payload called {kind!r}")


@when("a producer publishes {payload} for ingestion")
def step_publish_raw(context, payload):
    messaging, raw = bus_of(context), _payload(context, payload)
    context.world.raw_payload = raw
    messaging.run(messaging.client.bus.js.publish(subjects.rag_ingest(tenant_id(context)), raw,
                                                  headers={h.TENANT: tenant_id(context)}))


@when("a producer sends garbage bytes as a completion request")
def step_request_raw(context):
    messaging, raw = bus_of(context), b"\x00\xffthis is not a message"
    context.world.raw_payload = raw
    context.world.raw_reply = messaging.run(messaging.client.bus.nc.request(
        subjects.gateway_requests(tenant_id(context)), raw, timeout=DEFAULT_TIMEOUT_S,
        headers={h.TENANT: tenant_id(context)}))


@then("the caller is told the request could not be read")
def step_told_unreadable(context):
    headers = context.world.raw_reply.headers or {}
    assert headers.get(h.ERROR_CODE) == "unknown_format", f"expected an unknown_format error reply, got {headers}"


@then('the message is parked on the {component} dead-letter subject '
      'with the reason "{reason:Q}" and its original bytes')
def step_parked(context, component, reason):
    name = {"RAG": "rag", "gateway": "gateway"}[component]
    parked = bus_of(context).parked(name, tenant_id(context), expected=1)
    where = subjects.dead_letter(name, tenant_id(context))
    assert len(parked) == 1, f"expected one parked message on {where}, found {len(parked)}"
    msg = parked[0]
    assert msg.headers.get(h.DEAD_LETTER_REASON) == reason, f"expected the reason {reason!r}, got {msg.headers}"
    assert msg.data == context.world.raw_payload, "expected the original bytes to be parked unchanged"
