"""Steps for request/reply over NATS: completions, load sharing, tenants, timeouts, no responders."""

from behave import given, then, when

from harness.drivers.messaging import REQUEST_TIMEOUT_S
from harness.waiting import TIME_LIMIT_MARGIN_S, wait_until


@given("the gateway service takes completion requests from the message bus")
def step_gateway_service_workers(context):
    """The gateway service runs; its worker in the queue group gateway.workers serves every tenant."""
    context.world.messaging.service_workers("gateway")


@given("an instance of the gateway service listens for completion requests")
def step_gateway_worker(context):
    """A gateway service process of the scenario's own; its worker in the queue group gateway.workers."""
    context.world.messaging.gateway_worker("gateway-worker")


@given('the gateway service instances "{a:Name}" and "{b:Name}" listen for completion requests')
def step_two_gateway_workers(context, a, b):
    """Two gateway service processes, named as the spec names them, in the same queue group."""
    context.world.messaging.replicas("gateway", [a, b])


@when('the API asks over the message bus for a completion of "{prompt:Q}"')
@when('the API asks over the message bus for a completion of "{prompt:Q}" with a timeout of {timeout:g} seconds')
def step_remote_complete(context, prompt, timeout=REQUEST_TIMEOUT_S):
    """The API's request/reply to the tenant's gateway subject, with its own timeout."""
    messaging = context.world.messaging
    messaging.watch_replies()  # connects the API, and an observer, before the clock starts
    context.world.attempt(lambda: messaging.complete(prompt, timeout_s=timeout))


@when('the API asks over the message bus for a completion by the model "{model:Q}"')
def step_remote_complete_model(context, model):
    """A completion request that names a model."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.complete("Hello there.", model=model))


@when('the API asks over the message bus for a completion whose request names the tenant "{tenant:Name}"')
def step_remote_complete_other_tenant(context, tenant):
    """A request on the default tenant's subject whose body names another tenant."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.complete("Show me your documents.", body_tenant=tenant))


@when("the API asks over the message bus for {count:d} completions")
def step_many_completions(context, count):
    """The API sends that many requests, one after another, and keeps every reply."""
    messaging = context.world.messaging
    context.world.attempt(lambda: [messaging.complete(f"Question number {i} of {count}?") for i in range(count)])


@when("the API sends over the message bus, as {wire_format:WireFormat}, a request at temperature {temperature:g} "
      "for at most {tokens:d} tokens with the conversation:")
def step_remote_conversation(context, wire_format, temperature, tokens):
    """The API asks for the next turn of the table's conversation, in one wire format."""
    messaging = context.world.messaging
    conversation = [{"role": row["role"], "content": row["content"]} for row in context.table]
    context.world.attempt(lambda: messaging.complete_conversation(
        conversation, temperature=temperature, max_tokens=tokens, wire_format=wire_format))


@then("the language model received the whole conversation, in order")
def step_model_got_conversation(context):
    """Every turn the API sent reached the model, with its role, in the order sent."""
    context.world.outcome.expect_result("a reply")
    seen = [{"role": m.get("role"), "content": m.get("content")} for m in context.world.model.chats()[-1].messages]
    sent = context.world.messaging.conversation_sent
    assert seen == sent, f"expected the model to receive {sent}, it received {seen}"


@when('the tenants "{a:Name}" and "{b:Name}" ask over the message bus at the same time, each introducing itself')
def step_parallel(context, a, b):
    """Two tenants' requests are in flight together."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.complete_all({t: f"Hello, I am {t.title()}." for t in (a, b)}))


@then('the tenant "{a:Name}" gets "{x:Q}" and the tenant "{b:Name}" gets "{y:Q}"')
def step_parallel_answers(context, a, x, b, y):
    """Each tenant got the answer to its own question."""
    replies = context.world.outcome.expect_result("both answers")
    got = {t: r.envelope.data.response for t, r in replies.items()}
    assert got == {a: x, b: y}, f"expected {a}: {x!r} and {b}: {y!r}, got {got}"


@then('the reply over the message bus says "{text:Q}"')
def step_reply_says(context, text):
    """The reply's text, word for word."""
    reply = context.world.outcome.expect_result(f"the reply {text!r}").envelope.data.response
    assert reply == text, f"expected {text!r}, the reply said {reply!r}"


@then("the reply over the message bus carries the token usage the language model reported")
def step_reply_usage(context):
    """Prompt, completion and total tokens in the reply are the model's own, unswapped."""
    tokens = context.world.outcome.expect_result("a reply").envelope.data.tokens
    reported = context.world.model.chats()[-1].usage
    got = {"prompt_tokens": tokens.prompt, "completion_tokens": tokens.completion, "total_tokens": tokens.total}
    assert reported["prompt_tokens"] != reported["completion_tokens"], f"the sample cannot tell a swap: {reported}"
    assert got == reported, f"expected the model's usage {reported}, the reply carried {got}"


@then("every request gets the answer to its own request")
def step_own_answers(context):
    """Each reply names the request it answers, and no two replies answer the same one."""
    replies = context.world.outcome.expect_result("every reply")
    ids = [r.envelope.data.request_id for r in replies]
    assert len(set(ids)) == len(replies), f"expected {len(replies)} different requests answered, seen {ids}"


@then("both gateway workers answered some of the requests")
def step_both_answered(context):
    """The replies name both workers."""
    served = [r.served_by for r in context.world.outcome.expect_result("every reply")]
    workers = set(context.world.messaging.workers)
    assert set(served) == workers, f"expected replies from {sorted(workers)}, seen {sorted(set(served))}"


@then('the request is refused as "{reason:Reason}", naming "{text:Q}"')
def step_refused(context, reason, text):
    """The worker answered with an error of that reason whose message names the value at fault."""
    error = context.world.outcome.expect_error(f"a refusal as {reason}")
    assert getattr(error, "reason", None) == reason, f"expected the reason {reason}, got {error!r}"
    assert text in str(error), f"expected the refusal to name {text!r}, it said: {error}"


@then("the request fails because no worker is available")
def step_no_worker(context):
    """The caller is told at once that nobody listens."""
    error = context.world.outcome.expect_error("'no worker available'")
    assert getattr(error, "reason", None) == "no_responders", f"expected 'no worker available', got {error!r}"
    assert "no worker is available" in str(error), f"expected the message to say no worker is available: {error}"


@then("the caller did not wait for its timeout")
def step_no_wait(context):
    """The failure came in a small part of the caller's timeout."""
    # Generous bound: no-responders answers in milliseconds; the timeout was seconds away.
    outcome = context.world.outcome
    assert outcome.elapsed_s < REQUEST_TIMEOUT_S / 5, (
        f"expected an immediate failure, it took {outcome.elapsed_s:.3f} s of a {REQUEST_TIMEOUT_S} s timeout"
    )


@then("the request fails with a timeout after about {seconds:g} seconds")
def step_timed_out(context, seconds):
    """The caller gave up at its own timeout, not before and not much after."""
    error, elapsed = context.world.outcome.expect_error("a timeout"), context.world.outcome.elapsed_s
    assert getattr(error, "reason", None) == "timeout", f"expected a timeout, got {error!r}"
    assert seconds * 0.9 <= elapsed < seconds + TIME_LIMIT_MARGIN_S, (
        f"expected the timeout after about {seconds} s, it took {elapsed:.2f} s"
    )


@then("once the worker has sent its late reply, no component reports an error")
def step_late_reply_quiet(context):
    """The late reply reaches the abandoned inbox, and no client reports an error for it."""
    messaging = context.world.messaging
    wait_until(messaging.worker_replies, 10, "the slow worker to send its late reply")
    errors = messaging.errors_reported()
    assert not errors, f"expected no component to report an error, got {errors}"
