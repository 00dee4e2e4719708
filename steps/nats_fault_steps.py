"""Steps that break the link to NATS: a restarted or stopped server, a cut or slow link."""

from urllib.parse import urlsplit

from behave import given, then, when

from ai_platform.messaging import MessagingUnavailable
from harness.drivers.messaging import CONNECT_TIMEOUT_S, bus_of, wait_until
from harness.faults import LinkProxy
from harness.faults.nats_server import restart_nats, stop_nats

# the server ------------------------------------------------------------------------------------

@when("the NATS server restarts")
def step_restart(context):
    restart_nats(context.world.session, context.add_cleanup)


@given("the NATS server is stopped")
def step_stopped(context):
    stop_nats(context.world.session, context.add_cleanup)


@when("a component starts and connects to NATS")
def step_connect_down(context):
    context.world.attempt(lambda: bus_of(context).connect("late-starter"))


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
    assert error is not None, f"expected the request to fail while the link is cut, it got {context.world.result!r}"
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
