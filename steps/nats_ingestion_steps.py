"""Steps for JetStream ingestion, RAG questions over NATS, redelivery and dead letters."""

from behave import given, then, when

from ai_contract import headers as h
from harness.drivers.knowledge_base import document_id
from harness.drivers.messaging import READERS
from harness.waiting import wait_until

DEAD_LETTER_COMPONENTS = {"RAG": "rag", "gateway": "gateway", "agent": "agent"}  # as the specs name them


@given("the RAG service takes questions and documents from the message bus")
def step_rag_service_workers(context):
    """The RAG service runs; its question worker and its ingestion consumer serve every tenant."""
    context.world.messaging.service_workers("rag")


@given("an instance of the RAG service takes documents from the message bus")
def step_ingestion_worker(context):
    """A RAG service process of the scenario's own; its ingestion worker pulls from the durable consumer."""
    context.world.messaging.ingestion_worker()


@given("another instance of the RAG service takes documents from the message bus")
@when("a new instance of the RAG service takes documents from the message bus")
def step_new_ingestion_worker(context):
    """Another RAG service process joins the same durable consumer."""
    context.world.messaging.ingestion_worker("new-ingestion-worker")


@when('the API publishes the document "{title:Q}" with the text "{text:Q}" for ingestion')
def step_publish_document(context, title, text):
    """The API publishes a document to the tenant's ingestion subject until JetStream acknowledges it."""
    context.world.messaging.publish_document(title, text)


@when("the API publishes {count:d} documents for ingestion")
@when("the API publishes {count:d} more documents for ingestion")
def step_publish_many(context, count):
    """The API publishes numbered bulletins, each with text of its own."""
    messaging = context.world.messaging
    for _ in range(count):
        n = len(messaging.published) + 1
        messaging.publish_document(f"Bulletin {n:03d}", f"Bulletin number {n} announces change {n * 7}.")


@then('the knowledge base of the tenant comes to hold "{title:Q}" within {seconds:d} seconds')
def step_comes_to_hold(context, title, seconds):
    """An independent read of the database finds the document within the budget."""
    kb = context.world.knowledge_base
    wait_until(lambda: document_id(title) in kb.document_ids(), seconds, f"{title!r} to be stored")


@when('the API asks over the message bus "{question:Q}"')
def step_remote_question(context, question):
    """The API's question to the tenant's RAG workers, by request/reply."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.ask_rag(question))


@when('the API asks over the message bus, as {wire_format:WireFormat}, "{question:Q}"')
def step_remote_question_format(context, wire_format, question):
    """The API's question to the tenant's RAG workers, written in that wire format."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.ask_rag(question, wire_format=wire_format))


@given("the {service:Phrase} service reads its subjects on the message bus")
def step_service_reads(context, service):
    """The run's service is up with its NATS workers listening for every tenant."""
    context.world.messaging.service_workers(READERS[service][0])


@when("a producer sends the {service:Phrase} service a {message:Phrase} with {flaw:Phrase}")
def step_send_flawed(context, service, message, flaw):
    """A message of the kind the service reads, with one flaw; a caller that waits keeps the reply."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.send_flawed(service, flaw, message))


@when('the API asks over the message bus "{question:Q}" in a request that names the tenant "{tenant:Name}"')
def step_remote_question_other_tenant(context, question, tenant):
    """A question on the default tenant's subject whose body names another tenant."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.ask_rag(question, body_tenant=tenant))


@then('the answer over the message bus is "{text:Q}" citing "{title:Q}"')
def step_remote_answer(context, text, title):
    """The RAG result's answer and its only source."""
    result = context.world.outcome.expect_result("an answer over the message bus").envelope.data
    assert (result.answer, result.sources) == (text, [title]), (
        f"expected {text!r} citing [{title!r}], got {result.answer!r} citing {result.sources}"
    )


@then("the ingestion stream holds the document once")
def step_stream_holds_once(context):
    """JetStream itself kept one message on the tenant's ingestion subject: the duplicate was dropped."""
    held = context.world.messaging.ingest_stream_count()
    assert held == 1, f"expected the ingestion stream to hold the document once, it holds {held} messages"


@then("all {count:d} documents are stored exactly once within {seconds:d} seconds")
def step_all_stored(context, count, seconds):
    """Every published document is in the database, each with one chunk, no more."""
    messaging, kb = context.world.messaging, context.world.knowledge_base
    expected = sorted(messaging.published)
    assert len(expected) == count, f"the scenario published {len(expected)} documents, not {count}"
    stored: list[str] = []

    def all_stored() -> bool:
        stored[:] = kb.document_ids()
        return stored == expected
    try:
        wait_until(all_stored, seconds, f"all {count} documents to be stored")
    except AssertionError as exc:
        missing = sorted(set(expected) - set(stored))
        raise AssertionError(f"{exc}: {len(stored)} stored, missing {missing}") from None
    rows = kb.row_counts()
    assert rows["documents"] == count and rows["chunks"] == count, f"expected {count} documents once each, got {rows}"


@then("the API and the RAG service reach NATS again")
def step_reconnected(context):
    """The API's connection round-trips to the restarted server, and the RAG service is ready again."""
    messaging = context.world.messaging
    wait_until(messaging.reaches_nats, 5, "the API to reach NATS again")
    wait_until(lambda: messaging.replica_ready("ingestion-worker"), 5, "the RAG service to be ready again")


@given("ingestion workers try a document at most {times:d} times")
def step_max_deliver(context, times):
    """How many deliveries a failing document gets before it is parked."""
    context.world.messaging.ingestion_options["RAG_INGEST_MAX_DELIVER"] = str(times)


@then("the document was tried {times:d} times")
def step_tried(context, times):
    """Each try embedded the document once: the embedding model saw that many requests."""
    tries = context.world.model.requests_to("embedding")
    assert len(tries) == times, f"expected {times} tries of the document, the embedding model saw {len(tries)}"


@given("ingestion workers wait {seconds:d} second for an acknowledgement")
@given("ingestion workers wait {seconds:d} seconds for an acknowledgement")
def step_ack_wait(context, seconds):
    """How long JetStream waits for an ack before it delivers again: the RAG service's operator setting."""
    context.world.messaging.ingestion_options["RAG_INGEST_ACK_WAIT_S"] = str(seconds)


@when("the RAG service crashes while it ingests the document")
def step_crash(context):
    """The process is killed (SIGKILL) once it has asked the model for the document's embedding."""
    context.world.messaging.crash_while_ingesting()


@then("the document is delivered again and acknowledged within {seconds:d} seconds")
def step_redelivered(context, seconds):
    """The durable consumer delivered the one document a second time, and that delivery was acked."""
    info = context.world.messaging.ingest_acknowledged(2, seconds)
    assert info.delivered.stream_seq == info.ack_floor.stream_seq, f"expected the redelivery acked, seen {info}"


@then("the document is delivered once and acknowledged within {seconds:d} seconds")
def step_delivered_once(context, seconds):
    """The durable consumer's one delivery was acked, and JetStream never delivered the document again."""
    info = context.world.messaging.ingest_acknowledged(1, seconds)
    assert (info.delivered.consumer_seq, info.num_redelivered) == (1, 0), (
        f"expected one delivery and no redelivery, the consumer delivered {info.delivered.consumer_seq} times "
        f"({info.num_redelivered} redelivered)")


@when("a producer publishes {payload:Phrase} for ingestion")
def step_publish_raw(context, payload):
    """A producer publishes bytes the ingestion worker cannot use."""
    context.world.messaging.publish_raw(payload)


@when('a producer publishes, on the tenant\'s subject, a document that names the tenant "{tenant:Name}"')
def step_publish_naming_other(context, tenant):
    """A readable document whose body claims another tenant than the subject it is published on."""
    context.world.messaging.publish_naming(tenant)


@when("a producer sends garbage bytes as a completion request")
def step_request_raw(context):
    """A producer sends bytes that are no message to the gateway workers."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.request_raw(b"\x00\xffthis is not a message"))


@when("a producer sends a completion request on the tenant's subject that claims to come from "
      'the tenant "{tenant:Name}"')
def step_request_claiming(context, tenant):
    """A valid request whose tenant header names another tenant."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.request_as(tenant))


@then('the caller is told, in the headers and in an error envelope, that the request was refused as "{reason:Reason}"')
def step_told_refused(context, reason):
    """The reason is in the reply headers and in a codec error envelope that plain JSON can read."""
    reply = context.world.outcome.expect_result("an error reply")
    code = (reply.headers or {}).get(h.ERROR_CODE)
    body = context.world.messaging.error_body(reply)
    seen = (code, body.get("message_type"), body.get("data", {}).get("code"))
    assert seen == (reason, "error", reason), f"expected ({reason!r}, 'error', {reason!r}), seen {seen}"
    assert body["data"].get("message"), f"expected the error envelope to say why, it says {body}"


@then('{count:d} messages are parked on the {component:Phrase} dead-letter subject, with the reasons "{first:Q}" '
      'and "{second:Q}"')
def step_parked_both(context, count, component, first, second):
    """Every unreadable message is parked, in the order it came, each with its own reason."""
    parked = context.world.messaging.parked(DEAD_LETTER_COMPONENTS[component], expected=count)
    reasons = [m.headers.get(h.DEAD_LETTER_REASON) for m in parked]
    assert reasons == [first, second], f"expected {count} parked with the reasons {[first, second]}, seen {reasons}"


@then('the message is parked on the {component:Phrase} dead-letter subject with the reason "{reason:Q}" '
      "and its original bytes")
def step_parked(context, component, reason):
    """Exactly one message on the tenant's dead-letter subject: the original bytes and subject, with the reason."""
    parked = context.world.messaging.parked(DEAD_LETTER_COMPONENTS[component], expected=1)
    assert len(parked) == 1, f"expected one parked message, found {len(parked)}: {[m.headers for m in parked]}"
    msg = parked[0]
    assert msg.headers.get(h.DEAD_LETTER_REASON) == reason, f"expected the reason {reason!r}, got {msg.headers}"
    assert msg.data == context.world.messaging.raw_payload, "expected the original bytes to be parked unchanged"
    original = context.world.messaging.raw_subject
    assert msg.headers.get(h.ORIGINAL_SUBJECT) == original, (
        f"expected the parked message to name its original subject {original!r}, its headers were {msg.headers}")
