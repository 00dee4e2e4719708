"""Steps that prove secrets stay out of reports and logs."""

from behave import given, then

from harness.session import SCRIPTED_API_KEY


@given("everything the platform logs is watched at debug level")
def step_watch_logs(context):
    """Every logger at debug level, and the report's attachments, are watched from here on."""
    context.world.evidence  # noqa: B018 - starts watching now


@then("the language model received the platform's API key on every request")
def step_key_received(context):
    """Every request reached the model with the platform's key as its bearer token."""
    journal = context.world.model.requests()
    assert journal, "expected requests to the language model, there were none"
    missing = [e.endpoint for e in journal if e.bearer != SCRIPTED_API_KEY]
    assert not missing, f"expected every request to carry the platform's API key; {len(missing)} did not: {missing}"


@then("the report shows the request headers the language model received, with the authorization redacted")
def step_headers_attached(context):
    """The headers the model saw, which carried the key, are in the report with the key replaced."""
    headers = [b for b in context.world.evidence.attachments() if '"authorization"' in b.lower()]
    assert headers, "expected the report to show the request headers the model received, it shows none"
    assert all("[redacted]" in b for b in headers), f"expected the authorization redacted, seen: {headers[0][:200]}"


@then("no report attachment of this scenario contains the API key or an authorization header")
def step_no_key_in_reports(context):
    """No attachment body holds the key or a bearer token."""
    bodies = context.world.evidence.attachments()
    assert bodies, "expected this scenario to attach its prompts and answers, it attached nothing"
    leaks = [b[:80] for b in bodies if SCRIPTED_API_KEY in b or "bearer " in b.lower()]
    assert not leaks, f"expected no attachment with the key or an auth header, found: {leaks}"


@then("nothing the platform logged contains the API key")
def step_no_key_in_logs(context):
    """No log line, at any level, holds the key."""
    context.world.evidence.assert_no_log_line_holds(SCRIPTED_API_KEY, "the API key")


@then("the platform's log shows its requests to the language model")
def step_model_requests_logged(context):
    """Masking keeps a line's sense: the requests to the model's route are still there to read."""
    context.world.evidence.assert_platform_logged("/chat/completions", "its requests to the language model")


@then("the answer the caller received does not contain the API key")
def step_no_key_in_answer(context):
    """Neither the body nor the headers of the response hold the key."""
    response = context.world.outcome.expect_result("the service's answer")
    seen = response.text + repr(dict(response.headers))
    assert SCRIPTED_API_KEY not in seen, f"expected the key nowhere in the answer, it is in: {response.text[:300]}"
