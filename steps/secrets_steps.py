"""Steps that prove secrets stay out of reports and logs."""

from behave import given, then

from harness.reporting import allure as report
from harness.reporting.log_watch import LogWatch
from harness.session import SCRIPTED_API_KEY


@given("everything the platform logs is watched at debug level")
def step_watch_logs(context):
    context.world.log_watch = LogWatch().start()
    context.add_cleanup(context.world.log_watch.stop)
    context.world.attachments_from = len(report.attached)


@then("the language model received the platform's API key on every request")
def step_key_received(context):
    journal = context.world.llm.journal()
    assert journal, "expected requests to the language model, there were none"
    missing = [e.endpoint for e in journal if e.bearer != SCRIPTED_API_KEY]
    assert not missing, f"expected every request to carry the platform's API key; {len(missing)} did not: {missing}"


@then("no report attachment of this scenario contains the API key or an authorization header")
def step_no_key_in_reports(context):
    bodies = report.attached[context.world.attachments_from:]
    assert bodies, "expected this scenario to attach its prompts and answers, it attached nothing"
    leaks = [b[:80] for b in bodies if SCRIPTED_API_KEY in b or "bearer " in b.lower()]
    assert not leaks, f"expected no attachment with the key or an auth header, found: {leaks}"


@then("nothing the platform logged contains the API key")
def step_no_key_in_logs(context):
    lines = context.world.log_watch.lines
    assert lines, "expected the platform to log something at debug level, it logged nothing"
    leaks = [line[:120] for line in lines if SCRIPTED_API_KEY in line]
    assert not leaks, f"expected no log line with the API key, {len(leaks)} had it, e.g. {leaks[:2]}"
