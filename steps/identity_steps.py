"""Steps for who is calling: API keys on every door of the platform, tenants from keys, operator routes."""

from behave import then, when


@when("a client with {credential:Phrase} sends {door:Phrase}")
def step_knock(context, door, credential):
    """A request through one of the platform's doors, carrying the credential the spec names."""
    services = context.world.services
    context.world.attempt(lambda: services.knock(door, credential))


@when('a client sends {door:Phrase} with the tenant\'s key under the scheme "{scheme:Q}"')
def step_knock_scheme(context, door, scheme):
    """The tenant's own key, its authentication scheme spelt as given."""
    services = context.world.services
    context.world.attempt(lambda: services.knock(door, scheme=scheme))


@then("the service serves the request")
def step_served(context):
    """A 2xx answer: the platform accepted who was calling."""
    response = context.world.outcome.result
    assert response is not None, f"expected the request to be served (2xx), it failed: {context.world.outcome.error}"
    assert 200 <= response.status_code < 300, (
        f"expected the request to be served (2xx), got {response.status_code}: {response.text}")


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


@then('the gateway answers {status:d} with an OpenAI error of the type "{kind:Q}" and the code "{code:Q}"')
@then('the gateway answers {status:d} with an OpenAI error of the type "{kind:Q}" and the code "{code:Q}" for the '
      'parameter "{param:Q}"')
def step_openai_error_shape(context, status, kind, code, param=None):
    """The status, and OpenAI's error body: {error: {message, type, param, code}}, with a message (and the
    parameter at fault, which OpenAI's clients show)."""
    response = context.world.outcome.expect_result("an HTTP response")
    try:
        error = response.json().get("error")
    except ValueError:
        error = None
    seen = (response.status_code, (error or {}).get("type"), (error or {}).get("code"))
    assert seen == (status, kind, code) and (error or {}).get("message"), (
        f"expected {status} with an OpenAI error of type {kind!r} and code {code!r}, got {response.status_code}: "
        f"{response.text[:300]}")
    if param is not None:
        assert error.get("param") == param and param in error["message"], (
            f"expected the error to be about the parameter {param!r}, it says: {error}")
