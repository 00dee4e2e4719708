"""Steps for contract fuzzing: schemathesis against a service's own OpenAPI document."""

from behave import then, when


@when("schemathesis tries every operation of the {service:Name} service's OpenAPI document with all its checks")
def step_fuzz(context, service):
    context.world.attempt(lambda: context.world.fuzzing.fuzz(service))


@then("it finds no server error, no undocumented status, no answer outside the documented schema and no valid "
      "request refused")
def step_fuzz_clean(context):
    """Every check of every run passed (its output is attached to the report)."""
    runs = context.world.outcome.expect_result("schemathesis's runs")
    for run in runs:
        assert run.clean, (f"expected schemathesis to find nothing in the {run.service} service, it exited "
                           f"{run.status} with failures {run.failures or 'none named'} ({run.summary}):\n"
                           f"{run.output[-3000:]}")
