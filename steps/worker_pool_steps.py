"""Steps for worker pools: several instances of a service share the work of their queue group or durable
consumer, and each message is served once."""

from collections import Counter

from behave import given, then, when

from harness.drivers.telemetry import EXPORT_BUDGET_S

INSTANCE = "service.instance.id"  # the OpenTelemetry resource attribute naming a replica


@given('the RAG service instances "{a:Name}" and "{b:Name}" take questions and documents from the message bus')
def step_two_rag_instances(context, a, b):
    """Two RAG service processes, named as the spec names them: their question workers in the queue group
    rag.workers, their ingestion workers on the one durable consumer."""
    context.world.messaging.replicas("rag", [a, b])


@given("{count:d} instances of the agent service take messages between agents from the message bus")
def step_agent_inboxes(context, count):
    """Agent service processes agent-1 to agent-N, whose inboxes share the tenant's agent subject."""
    context.world.messaging.replicas("agent", [f"agent-{i}" for i in range(1, count + 1)])


@when("the API asks over the message bus {count:d} different questions about the refund policy")
def step_many_questions(context, count):
    """One question after another, each with an id and a wording of its own; the replies are kept with the id
    each question was sent with."""
    messaging = context.world.messaging

    def ask_all():
        return {f"question-{i:02d}": messaging.ask_rag(f"Question {i} of {count}: how long do I have to get a "
                                                       "refund on an annual plan?", query_id=f"question-{i:02d}")
                for i in range(1, count + 1)}
    context.world.attempt(ask_all)


@then("every question gets the answer to its own question")
def step_own_answer(context):
    """Each reply is a result that names the question it answers: the one sent, and no other."""
    replies = context.world.outcome.expect_result("every answer")
    mixed = {asked: reply.envelope.data.query_id for asked, reply in replies.items()
             if reply.envelope.data.query_id != asked}
    assert not mixed, f"expected each question answered as itself, these got another's answer: {mixed}"


@then("both RAG instances answered some of the questions")
def step_both_answered(context):
    """The replies name both instances (X-Served-By)."""
    served = Counter(reply.served_by for reply in context.world.outcome.expect_result("every answer").values())
    workers = set(context.world.messaging.workers)
    assert set(served) == workers, f"expected answers from {sorted(workers)}, shares were {dict(served)}"


@then("each document was ingested once, and both RAG instances ingested some of them")
def step_ingested_once_by_both(context):
    """In the trace of each publication, one ingestion span, from one of the instances (its resource names it):
    no document was ingested twice, and the work was shared."""
    world = context.world
    telemetry, published = world.telemetry, world.messaging.published
    publications = telemetry.last_requests(len(published))
    by_instance: Counter = Counter()
    for publication in publications:
        spans = telemetry.await_trace("the document's ingestion", lambda t: t.named("rag.document.ingest"),
                                      publication, EXPORT_BUDGET_S)
        instances = [span.resource.get(INSTANCE) for span in spans]
        assert len(instances) == 1, f"expected {publication.what} ingested once, it was ingested by {instances}"
        by_instance[instances[0]] += 1
    workers = set(world.messaging.workers)
    assert set(by_instance) == workers, f"expected both {sorted(workers)} to ingest some, shares were " \
                                        f"{dict(by_instance)}"


@then("the language model was asked once")
def step_model_asked_once(context):
    """One chat request reached the model: the message was handled by one instance only."""
    asked = context.world.model.chats()
    assert len(asked) == 1, f"expected the language model asked once, it was asked {len(asked)} times"


@then("one agent service instance took the message")
def step_one_instance_took(context):
    """In the trace of the message sent, one CONSUMER span of the agent service continues the sender's span:
    the instances' inboxes share a queue group, so only one of them received it."""
    telemetry = context.world.telemetry
    trace = telemetry.settled_trace(telemetry.last_request())
    sender = trace.root
    took = [span.resource.get(INSTANCE) for span in trace.children(sender)
            if span.name == "nats.process" and span.service_name == "agent-service"]
    assert len(took) == 1, f"expected one agent service instance to take the message, these took it: {took}"
