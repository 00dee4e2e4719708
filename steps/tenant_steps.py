"""Steps for removing a tenant from the platform."""

from behave import then, when


@when("the platform removes the tenant")
def step_remove_tenant(context):
    """The operator removes the default tenant through the operator API."""
    world = context.world
    world.attempt(lambda: world.knowledge_base.remove_tenant())


@then("NATS keeps no message and no consumer of the tenant")
def step_nats_keeps_nothing(context):
    """Read through the JetStream API: the streams hold nothing of the tenant."""
    context.world.outcome.expect_result("the tenant removed")
    kept = context.world.messaging.tenant_in_streams()
    assert kept and not any(kept.values()), f"expected nothing of the tenant in the streams, NATS keeps {kept}"
