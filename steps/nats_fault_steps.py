"""Steps that break the link to NATS: a restarted or stopped server, a cut or slow link."""

from behave import given, then, when

from harness.drivers.messaging import READERS
from harness.waiting import TIME_LIMIT_MARGIN_S, wait_until

SERVICE_START_BUDGET_S = 30  # a service process imports its libraries before it answers HTTP


@when("the NATS server restarts")
def step_restart(context):
    """The server stops and starts again on the same port with the same JetStream store."""
    context.world.faults.restart_nats()


@given("the NATS server is stopped")
def step_stopped(context):
    """The server is down; it comes back in the scenario's cleanup."""
    context.world.faults.stop_nats()


@when("an instance of the {service:Phrase} service starts")
def step_service_starts(context, service):
    """A service process of the scenario's own starts; the step does not wait for it to be ready."""
    context.world.messaging.replicas(READERS[service][0], ["late-starter"], ready=False)


@then("the {service:Phrase} service is not ready, naming NATS as the dependency it cannot reach")
def step_not_ready_names_nats(context, service):
    """Once it answers HTTP, its readiness check is a 503 envelope that names NATS among its dependencies."""
    messaging = context.world.messaging
    answer = wait_until(lambda: messaging.replica_readiness("late-starter"), SERVICE_START_BUDGET_S,
                        f"the {service} service to answer its readiness check")
    dependencies = (answer.get("error") or {}).get("details", {}).get("dependencies", {})
    assert answer["status"] == 503 and "nats" in dependencies, (
        f"expected a 503 naming nats among the dependencies, the readiness check answered {answer}")


@when("the NATS server starts again")
def step_nats_starts(context):
    """The stopped server starts, on the same port."""
    context.world.faults.start_nats()


@then("the {service:Phrase} service becomes ready within {seconds:d} seconds")
def step_becomes_ready(context, service, seconds):
    """Its workers reconnect on their own: the readiness check turns 200 without a restart."""
    messaging = context.world.messaging
    wait_until(lambda: messaging.replica_ready("late-starter"), seconds, f"the {service} service to become ready")


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
    assert timeout * 0.9 <= outcome.elapsed_s < timeout + TIME_LIMIT_MARGIN_S, (
        f"expected the failure at the {timeout} s timeout, it took {outcome.elapsed_s:.2f} s"
    )


@then("the API reaches NATS again within {seconds:d} seconds")
def step_api_reconnects(context, seconds):
    """The API's connection round-trips to the server again."""
    messaging = context.world.messaging
    wait_until(messaging.reaches_nats, seconds, "the API to reach NATS again")


@then("the reply took at least {ms:d} milliseconds")
def step_reply_slow(context, ms):
    """A lower bound: the latency was on the path (never flakes on a busy machine)."""
    elapsed = context.world.outcome.elapsed_s
    assert elapsed * 1000 >= ms, f"expected at least {ms} ms, the reply came in {elapsed:.3f} s"
