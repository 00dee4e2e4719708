"""Steps for hostile input: values, headers and bodies a service must refuse with the contract's error."""

from behave import then, when

from harness.waiting import TIME_LIMIT_MARGIN_S


@when('a client sends {request:Sample} with {value:Sample} in "{field:FieldPath}"')
def step_send_value(context, request, value, field):
    """The request, one of its fields (a new one, if the request has none such) holding the value."""
    context.world.attempt(lambda: context.world.hostile.with_value(request, value, field))


@when('a client sends {request:Sample} with {value:Sample} in the header "{header:Q}"')
def step_send_header(context, request, value, header):
    context.world.attempt(lambda: context.world.hostile.with_header(request, value, header))


@when("a client sends {request:Sample} as a chunked body of {mib:d} MiB")
def step_send_chunked(context, request, mib):
    """A body whose length the client never announces, larger than the limit."""
    context.world.attempt(lambda: context.world.hostile.chunked(request, mib * 1024 * 1024))


@when("a client sends {request:Sample} and stops halfway through its body")
def step_send_stalled(context, request):
    context.world.attempt(lambda: context.world.hostile.stalled(request))


@then("the same connection still gets a healthy answer from the service")
def step_same_connection_healthy(context):
    """The refusal did not cost the client its connection, and the service is up."""
    status, same = context.world.hostile.health_afterwards()
    assert (status, same) == (200, True), (
        f"expected /health to answer 200 on the same connection, it answered {status} "
        f"{'on the same' if same else 'on a new'} connection")


@then("the service closes the connection, and its health check answers on a new one")
def step_closed_but_healthy(context):
    """A body the service did not read to its end ends the connection (the rest of it would be read as the next
    request); the service itself is up."""
    response = context.world.outcome.expect_result("an HTTP response")
    said = response.headers.get("connection", "")
    assert said.lower() == "close", f"expected the answer to say 'Connection: close', it said {said!r}"
    status, _ = context.world.hostile.health_afterwards()
    assert status == 200, f"expected /health to answer 200 afterwards, it answered {status}"


@then("the {service:Name} service answered at the body time its OpenAPI document states")
def step_within_body_time(context, service):
    """Not before the stated time (a slow client is not cut off early), and not later than it plus the fixed
    margin (never scaled)."""
    hostile = context.world.hostile
    stated, waited, latest = hostile.body_timeout_s(service), hostile.waited_s, TIME_LIMIT_MARGIN_S
    assert waited is not None and stated - 0.1 <= waited <= stated + latest, (
        f"expected the 408 between {stated:g} s and {stated + latest:g} s, it came after {waited} s")
