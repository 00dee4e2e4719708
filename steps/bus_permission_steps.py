"""Steps for the bus's permissions: who gets onto NATS, and which subjects a tenant's client may use."""

from behave import then, when


@when("a client with {credential:Phrase} connects to the message bus")
def step_bus_connect(context, credential):
    context.world.bus_permissions.connect_with(credential)


@then("the message bus refuses the connection as an authorization violation")
def step_bus_refuses(context):
    refusal = context.world.bus_permissions.refusal
    assert refusal is not None, "expected the NATS server to refuse the client, it was let onto the bus"
    assert "authorization violation" in refusal.lower(), (
        f"expected an authorization violation, the client saw: {refusal}")


@then("the message bus lets the client on")
def step_bus_lets_on(context):
    refusal = context.world.bus_permissions.refusal
    assert refusal is None, f"expected the client with its tenant's key on the bus, it was refused: {refusal}"


@when('a client of the tenant "{tenant:Name}" tries to {act:Phrase} the {subject:Phrase} of the tenant "{owner:Name}"')
def step_bus_try_tenant_subject(context, tenant, act, subject, owner):
    probes = context.world.bus_permissions
    _try(probes, act, tenant, probes.subject(subject, owner))


@when('a client of the tenant "{tenant:Name}" tries to ask for {what:Phrase}')
def step_bus_try_api(context, tenant, what):
    probes = context.world.bus_permissions
    probes.request(tenant, probes.subject(what))


@when('a client of the tenant "{tenant:Name}" tries to subscribe to {what:Phrase}')
def step_bus_try_wildcard(context, tenant, what):
    probes = context.world.bus_permissions
    probes.subscribe(tenant, probes.subject(what))


def _try(probes, act: str, tenant: str, subject: str) -> None:
    attempt = {"publish to": probes.publish, "subscribe to": probes.subscribe, "ask for": probes.request}[act]
    attempt(tenant, subject)


@then("the message bus refuses it as a permissions violation and nothing passes")
def step_bus_violation(context):
    probe = context.world.bus_permissions.probe
    assert probe.violation, (
        f"expected the NATS server to report a permissions violation, it reported none; passed: {probe.passed}")
    assert not probe.passed, f"expected nothing to pass the refusal, these messages did: {probe.passed}"


@then("the message bus lets it through")
def step_bus_through(context):
    probe = context.world.bus_permissions.probe
    assert probe.violation is None, (
        f"expected the tenant's own subject to be open to it, the server said: {probe.violation}")
    assert probe.passed, "expected the message to pass on the tenant's own subject, none arrived"
