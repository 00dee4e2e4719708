"""Steps for the platform over NATS: agent messages, tasks, completions, ingestion, failures."""

import asyncio
import time
from urllib.parse import urlsplit

from behave import given, then, when

from ai_platform import codec
from ai_platform.messaging import MessagingError, MessagingUnavailable, subjects
from ai_platform.messaging import headers as h
from harness.drivers import knowledge_base as kb
from harness.drivers.messaging import CONNECT_TIMEOUT_S, Messaging, crash_after_storing, wait_until
from harness.faults import LinkProxy

DEFAULT_TIMEOUT_S = 5.0


def bus_of(context) -> Messaging:
    world = context.world
    if not hasattr(world, "messaging"):
        world.messaging = Messaging(world, context.add_cleanup)
        world.inboxes, world.ingestion_workers, world.gateway_workers = {}, [], []
    return world.messaging



def tenant_id(context, tenant=None):
    return context.world.tenants.id_of(tenant) if tenant else context.world.tenant


# agents -----------------------------------------------------------------------------------------

@given('the agents "{a:Name}", "{b:Name}" and "{c:Name}" of the tenant listen on the message bus')
def step_agents_listen(context, a, b, c):
    for agent in (a, b, c):
        context.world.inboxes[(None, agent)] = bus_of(context).agent_inbox(tenant_id(context), agent)


@given('the agent "{agent:Name}" of the tenant "{tenant:Name}" listens on the message bus')
def step_agent_listens(context, agent, tenant):
    context.world.inboxes[(tenant, agent)] = bus_of(context).agent_inbox(tenant_id(context, tenant), agent)


@when('"{source:Name}" sends "{text:Q}" to "{target:Name}"')
def step_send(context, source, text, target):
    messaging = bus_of(context)
    messaging.run(messaging.client.send_agent_message(tenant_id(context), source, target, text))


@then('"{agent:Name}" receives "{text:Q}" from "{source:Name}"')
def step_receives(context, agent, text, source):
    inbox = context.world.inboxes[(None, agent)]
    wait_until(lambda: inbox.received, 5, f"{agent} to receive a message")
    got = [(m.source_agent_id, m.content) for m in inbox.received]
    assert got == [(source, text)], f"expected {agent} to receive only {text!r} from {source}, it received {got}"


@then('"{agent:Name}" has received nothing')
@then('"{agent:Name}" of the tenant "{tenant:Name}" has received nothing')
def step_received_nothing(context, agent, tenant=None):
    # A probe sent after the message arrives after it; once the probe is in, nothing else is coming.
    inbox, messaging = context.world.inboxes[(tenant, agent)], bus_of(context)
    messaging.run(messaging.client.send_agent_message(tenant_id(context, tenant), "probe", agent, "probe"))
    wait_until(lambda: inbox.received, 5, f"the probe to reach {agent}")
    got = [m.content for m in inbox.received if m.source_agent_id != "probe"]
    assert got == [], f"expected {agent} to have received nothing, it received {got}"


# tasks ------------------------------------------------------------------------------------------

@given("{count:d} agent workers of the tenant take tasks from the message bus")
def step_task_workers(context, count):
    messaging = bus_of(context)
    context.world.task_workers = [messaging.task_worker(tenant_id(context), f"worker-{i}") for i in range(1, count + 1)]


@when("the manager submits {count:d} tasks to the agent workers")
def step_submit_tasks(context, count):
    messaging, tenant = bus_of(context), tenant_id(context)
    results = context.world.task_results = []

    async def collect(msg):
        results.append(codec.decode(msg.data).data)

    messaging.run(messaging.client.bus.nc.subscribe(subjects.agent_results(tenant), cb=collect))
    context.world.submitted = [f"task-{i:02d}" for i in range(1, count + 1)]
    for task_id in context.world.submitted:
        messaging.run(messaging.client.submit_task(tenant, task_id, "helper", "answer",
                                                   {"question": f"Please handle task number {task_id}."}))


@then("{count:d} results come back within {seconds:d} seconds")
def step_results_back(context, count, seconds):
    wait_until(lambda: len(context.world.task_results) >= count, seconds, f"{count} task results")


@then("every task was done exactly once")
def step_tasks_once(context):
    done = sorted(r.metadata["task_id"] for r in context.world.task_results)
    handled = sum(w.handled for w in context.world.task_workers)
    assert done == context.world.submitted, f"expected each of {len(context.world.submitted)} tasks once, got {done}"
    assert handled == len(done), f"expected {len(done)} executions in all, the workers ran {handled}"


@then('every result says "{text:Q}"')
def step_results_say(context, text):
    contents = {r.content for r in context.world.task_results}
    assert contents == {text}, f"expected every result to say {text!r}, they said {contents}"


@then("more than one worker did some of the work")
def step_shared(context):
    shares = {w.worker_id: w.handled for w in context.world.task_workers}
    assert sum(1 for n in shares.values() if n) > 1, f"expected the queue group to share tasks, shares were {shares}"


# completions ------------------------------------------------------------------------------------

@given("a gateway worker of the tenant listens for completion requests")
@given('a gateway worker of the tenant "{tenant:Name}" listens for completion requests')
def step_gateway_worker(context, tenant=None):
    worker = bus_of(context).gateway_worker(tenant_id(context, tenant))
    context.world.gateway_workers.append(worker)


@when('the API asks over the message bus for a completion of "{prompt:Q}"')
@when('the API asks over the message bus for a completion of "{prompt:Q}" with a timeout of {timeout:g} seconds')
def step_remote_complete(context, prompt, timeout=DEFAULT_TIMEOUT_S):
    messaging = bus_of(context)
    context.world.timeout_s, began = timeout, time.perf_counter()
    try:
        context.world.reply = messaging.run(messaging.client.complete(tenant_id(context), prompt, timeout_s=timeout))
        context.world.error = None
    except MessagingError as exc:
        context.world.error = exc
    context.world.elapsed_s = time.perf_counter() - began


@when('the tenants "{a:Name}" and "{b:Name}" ask over the message bus at the same time, each introducing itself')
def step_parallel(context, a, b):
    client = bus_of(context).client  # connected here, not inside the coroutine below

    async def both():
        return await asyncio.gather(*(
            client.complete(tenant_id(context, t), f"Hello, I am {t.title()}.", timeout_s=DEFAULT_TIMEOUT_S)
            for t in (a, b)
        ))

    context.world.replies = dict(zip((a, b), bus_of(context).run(both()), strict=True))


@then('the tenant "{a:Name}" gets "{x:Q}" and the tenant "{b:Name}" gets "{y:Q}"')
def step_parallel_answers(context, a, x, b, y):
    got = {t: r.response for t, r in context.world.replies.items()}
    assert got == {a: x, b: y}, f"expected {a}: {x!r} and {b}: {y!r}, got {got}"


@then('the reply over the message bus says "{text:Q}"')
def step_reply_says(context, text):
    assert context.world.error is None, f"expected the reply {text!r}, the request failed: {context.world.error}"
    assert context.world.reply.response == text, f"expected {text!r}, the reply said {context.world.reply.response!r}"


@then("the reply over the message bus carries the token usage")
def step_reply_usage(context):
    tokens, reported = context.world.reply.tokens, context.world.llm.journal("chat")[-1].usage
    got = {"prompt_tokens": tokens.prompt, "completion_tokens": tokens.completion, "total_tokens": tokens.total}
    assert got == reported and tokens.total > 0, f"expected the model's usage {reported}, the reply carried {got}"


@then("the request fails because no worker is available")
def step_no_worker(context):
    error = context.world.error
    assert error is not None and error.reason == "no_responders", f"expected 'no worker available', got {error!r}"
    assert "no worker is available" in str(error), f"expected the message to say no worker is available: {error}"


@then("the caller did not wait for its timeout")
def step_no_wait(context):
    # Generous bound: no-responders answers in milliseconds; the timeout was seconds away.
    assert context.world.elapsed_s < context.world.timeout_s / 5, (
        f"expected an immediate failure, it took {context.world.elapsed_s:.3f} s "
        f"of a {context.world.timeout_s} s timeout"
    )


@then("the request fails with a timeout after about {seconds:g} seconds")
def step_timed_out(context, seconds):
    error, elapsed = context.world.error, context.world.elapsed_s
    assert error is not None and error.reason == "timeout", f"expected a timeout, got {error!r}"
    assert seconds * 0.9 <= elapsed < seconds + 1.0, (
        f"expected the timeout after about {seconds} s, it took {elapsed:.2f} s"
    )


@then("once the worker has sent its late reply, no component reports an error")
def step_late_reply_quiet(context):
    worker = context.world.gateway_workers[0]
    wait_until(lambda: worker.handled >= 1, 10, "the slow worker to send its late reply")
    errors = {bus.settings.name: bus.errors for bus in context.world.messaging.buses if bus.errors}
    assert not errors, f"expected no component to report an error, got {errors}"


# ingestion and questions ------------------------------------------------------------------------

@given("an ingestion worker of the tenant takes documents from the message bus")
@when("a new ingestion worker of the tenant takes documents from the message bus")
def step_ingestion_worker(context):
    ack_wait, max_deliver = getattr(context.world, "ack_wait_s", 30.0), getattr(context.world, "max_deliver", 5)
    worker = bus_of(context).ingestion_worker(tenant_id(context), ack_wait_s=ack_wait, max_deliver=max_deliver)
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


# failures ---------------------------------------------------------------------------------------

@when("the NATS server restarts")
def step_restart(context):
    nats = context.world.session.infra.nats
    context.add_cleanup(nats.start)  # healed whatever happens next
    nats.restart()


@given("the NATS server is stopped")
def step_stopped(context):
    nats = context.world.session.infra.nats
    context.world.session.infra.nats_url()  # started once, so the address is known and kept
    context.add_cleanup(nats.start)
    nats.stop()


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


@when("a component starts and connects to NATS")
def step_connect_down(context):
    began = time.perf_counter()
    try:
        bus_of(context).connect("late-starter")
        context.world.error = None
    except MessagingUnavailable as exc:
        context.world.error = exc
    context.world.elapsed_s = time.perf_counter() - began


@then("it fails with a connection error that names the server's address")
def step_connect_error(context):
    url, error = context.world.session.infra.nats.url, context.world.error
    assert isinstance(error, MessagingUnavailable), f"expected a connection error, got {error!r}"
    assert url in str(error), f"expected the error to name {url}, it said: {error}"


@then("it failed within its connect timeout")
def step_connect_fast(context):
    assert context.world.elapsed_s <= CONNECT_TIMEOUT_S + 1.5, (
        f"expected the failure within the {CONNECT_TIMEOUT_S} s connect timeout, "
        f"it took {context.world.elapsed_s:.2f} s"
    )


@given("ingestion workers try a document at most {times:d} times")
def step_max_deliver(context, times):
    context.world.max_deliver = times


@then("the document was tried {times:d} times")
def step_tried(context, times):
    deliveries = context.world.ingestion_workers[-1].deliveries
    assert deliveries == list(range(1, times + 1)), f"expected deliveries 1 to {times}, they were {deliveries}"


@given("ingestion workers wait {seconds:d} second for an acknowledgement")
def step_ack_wait(context, seconds):
    context.world.ack_wait_s = float(seconds)


@when("an ingestion worker stores the document and crashes before acknowledging it")
def step_crash(context):
    crash_after_storing(bus_of(context), tenant_id(context), context.world.ack_wait_s)


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


# a link that can be cut -------------------------------------------------------------------------

@given("the API reaches NATS through a link that can be cut")
def step_proxy(context):
    target = urlsplit(context.world.session.infra.nats_url())
    proxy = LinkProxy(target.hostname, target.port).start()
    context.add_cleanup(proxy.close)
    context.world.proxy = proxy
    bus_of(context).connect_api_through(proxy.url())


@when("the link between the API and NATS is cut")
def step_cut(context):
    context.world.proxy.cut()


@when("the link between the API and NATS is restored")
def step_restore(context):
    context.world.api_reconnects_before = bus_of(context).client.bus.reconnects
    context.world.proxy.restore()


@when("the link between the API and NATS adds {ms:d} milliseconds in each direction")
def step_latency(context, ms):
    context.world.proxy.add_latency(ms / 1000)


@then("the request fails instead of hanging")
def step_fails_not_hangs(context):
    error = context.world.error
    assert error is not None, f"expected the request to fail while the link is cut, it got {context.world.reply!r}"
    assert context.world.elapsed_s < context.world.timeout_s + 1.0, (
        f"expected the failure within the {context.world.timeout_s} s timeout, it took {context.world.elapsed_s:.2f} s"
    )


@then("the API reconnects to NATS within {seconds:d} seconds")
def step_api_reconnects(context, seconds):
    bus = bus_of(context).client.bus
    wait_until(lambda: bus.reconnects > context.world.api_reconnects_before and bus.nc.is_connected, seconds,
               "the API to reconnect to NATS")


@then("the reply took at least {ms:d} milliseconds")
def step_reply_slow(context, ms):
    # A lower bound only: it proves the latency was on the path, and never flakes on a busy machine.
    elapsed = context.world.elapsed_s
    assert elapsed * 1000 >= ms, f"expected at least {ms} ms, the reply came in {elapsed:.3f} s"
