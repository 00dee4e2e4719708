"""Steps that break the link to NATS: a restarted or stopped server, a cut or slow link."""

from behave import given, then, when

from ai_platform.messaging import MessagingUnavailable
from harness.drivers.messaging import CONNECT_TIMEOUT_S
from harness.waiting import scaled, wait_until

SCHEDULING_MARGIN_S = 0.25  # a timer firing late on a busy machine, not a second attempt


@when("the NATS server restarts")
def step_restart(context):
    """The server stops and starts again on the same port with the same JetStream store."""
    context.world.faults.restart_nats()


@given("the NATS server is stopped")
def step_stopped(context):
    """The server is down; it comes back in the scenario's cleanup."""
    context.world.faults.stop_nats()


@when("a component starts and connects to NATS")
def step_connect_down(context):
    """A new component tries to connect."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.connect("late-starter"))


@then("it fails with a connection error that names the server's address")
def step_connect_error(context):
    """The error is a connection error naming the URL."""
    url, error = context.world.nats_url(), context.world.outcome.expect_error("a connection error")
    assert isinstance(error, MessagingUnavailable), f"expected a connection error, got {error!r}"
    assert url in str(error), f"expected the error to name {url}, it said: {error}"


@then("it failed within its connect timeout")
def step_connect_fast(context):
    """The failure came no later than the connect timeout (and a scheduling margin)."""
    elapsed, limit = context.world.outcome.elapsed_s, scaled(CONNECT_TIMEOUT_S + SCHEDULING_MARGIN_S)
    assert elapsed <= limit, f"expected the failure within the {limit:g} s connect timeout, it took {elapsed:.2f} s"


@given("the API reaches NATS through a link that can be cut")
def step_proxy(context):
    """The API's connection runs through a link the scenario controls."""
    context.world.messaging.connect_api_through(context.world.faults.link_to_nats())


@when("the link between the API and NATS is cut")
def step_cut(context):
    """Nothing passes the link any more; open connections are dropped."""
    context.world.faults.link.cut()


@when("the link between the API and NATS is restored")
def step_restore(context):
    """The link carries traffic again."""
    context.world.faults.link.restore()


@when("the link between the API and NATS adds {ms:d} milliseconds in each direction")
def step_latency(context, ms):
    """Every chunk on the link is held back that long, both ways."""
    context.world.faults.link.add_latency(ms / 1000)


@then("the request fails with a timeout instead of hanging")
def step_fails_not_hangs(context):
    """The request failed as a timeout, at its own timeout."""
    outcome = context.world.outcome
    error = outcome.expect_error("the request to fail while the link is cut")
    assert getattr(error, "reason", None) == "timeout", f"expected a timeout error, got {error!r}"
    timeout = error.timeout_s
    assert timeout * 0.9 <= outcome.elapsed_s < timeout + 0.5, (
        f"expected the failure at the {timeout} s timeout, it took {outcome.elapsed_s:.2f} s"
    )


@then("the API reaches NATS again within {seconds:d} seconds")
def step_api_reconnects(context, seconds):
    """The API's connection round-trips to the server again."""
    messaging = context.world.messaging
    wait_until(lambda: messaging.reaches_nats("api"), seconds, "the API to reach NATS again")


@then("the reply took at least {ms:d} milliseconds")
def step_reply_slow(context, ms):
    """A lower bound: the latency was on the path (never flakes on a busy machine)."""
    elapsed = context.world.outcome.elapsed_s
    assert elapsed * 1000 >= ms, f"expected at least {ms} ms, the reply came in {elapsed:.3f} s"
