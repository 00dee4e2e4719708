"""Steps for request/reply over NATS: completions, parallel tenants, timeouts, no responders."""

import asyncio

from behave import given, then, when

from harness.drivers.messaging import DEFAULT_TIMEOUT_S, bus_of, tenant_id, wait_until

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
    context.world.timeout_s = timeout

    def ask():
        return messaging.run(messaging.client.complete(tenant_id(context), prompt, timeout_s=timeout))

    context.world.attempt(ask)


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
    reply = context.world.result.response
    assert reply == text, f"expected {text!r}, the reply said {reply!r}"


@then("the reply over the message bus carries the token usage")
def step_reply_usage(context):
    tokens, reported = context.world.result.tokens, context.world.llm.journal("chat")[-1].usage
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
