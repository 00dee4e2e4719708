"""Steps for who is calling: API keys on every door of the platform, tenants from keys, operator routes."""

from behave import when


@when("a client with {credential:Phrase} sends {door:Phrase}")
def step_knock(context, door, credential):
    """A request through one of the platform's doors, carrying the credential the spec names."""
    services = context.world.services
    context.world.attempt(lambda: services.knock(door, credential))


@when('a client of the tenant "{tenant:Name}" sends {door:Phrase} naming the tenant "{named:Name}"')
def step_knock_naming(context, tenant, door, named):
    """The tenant's own key, and another tenant in the X-Tenant-ID header."""
    services = context.world.services
    context.world.attempt(lambda: services.knock(door, "the tenant's key", tenant=tenant, naming_tenant=named))


@when('a client of the tenant "{tenant:Name}" asks the operator route to {action:Phrase} of the tenant '
      '"{target:Name}"')
def step_operator_route(context, tenant, action, target):
    """A tenant's key on an operator route: removing a tenant, or issuing its key."""
    services = context.world.services
    context.world.attempt(lambda: services.operator_route(action, target, tenant=tenant))
