"""Steps for what the platform reports through OpenTelemetry: the trace of a request, and its metrics."""

from behave import given, then, when

from harness.drivers.knowledge_base import document_id
from harness.drivers.telemetry import DURATIONS, METERS, TENANT, outline
from harness.session import PLATFORM_MODEL_NAMES, SCRIPTED_API_KEY, SCRIPTED_MODELS


@when('the tenant adds the document "{title:Q}" with the text "{text:Q}" through the RAG API')
def step_api_add(context, title, text):
    """The RAG API stores the document before it answers."""
    services = context.world.services
    services.url("rag")  # started before the clock
    context.world.attempt(lambda: services.add_document(title, text))


@when('the tenants "{a:Name}" and "{b:Name}" ask the query API "{text:Q}" at the same time')
def step_query_at_once(context, a, b, text):
    """Two tenants' users send the same question to the query API at the same moment."""
    services = context.world.services
    context.world.attempt(lambda: services.query_at_once(text, [a, b]))


def _stops(context) -> list[str]:
    """The stops of a journey, written as the cells of a one-row table."""
    return [cell.strip() for cell in context.table.headings]


@then("the request's trace passes through:")
def step_journey(context):
    """One trace carries the request through the stops, in order, each directly inside the one before it."""
    context.world.telemetry.journey(_stops(context))


@then("the request's trace shows the {failed:Phrase} failed, with its error recorded, within:")
def step_failed_within(context, failed):
    """The failed step is an error span with its exception, inside the stops that led to it."""
    journey = context.world.telemetry.journey([*_stops(context), failed],
                                              last=lambda span: span.is_error and bool(span.exceptions))
    error = journey[-1].exceptions[0].attributes
    assert error.get("exception.type"), f"expected the error's type on the failed span, its exception says {error}"


@then("the {outer:Phrase} in the request's trace runs, in order:")
def step_steps_inside(context, outer):
    """The operation's span has the steps as its own children, started in that order."""
    context.world.telemetry.steps_inside(outer, _stops(context))


def _span_records(context, name: str, what: str, attributes: dict) -> None:
    """The span of that name in the request's trace holds these attribute values."""
    span = context.world.telemetry.span_named(name)
    seen = {key: span.attributes.get(key) for key in attributes}
    assert seen == attributes, f"expected {name} to record {what} {attributes}, it records {dict(span.attributes)}"


@then('the span "{name:Q}" records {count:d} results')
def step_results(context, name, count):
    """The span of the request's trace counts what the search found."""
    _span_records(context, name, "what the search found", {"results.count": count})


@then('the span "{name:Q}" records a search for the {top_k:d} best passages and {count:d} results')
def step_search_recorded(context, name, top_k, count):
    """The search span of the request's trace names the passages asked for and the ones found."""
    _span_records(context, name, "the passages asked for and found", {"rag.top_k": top_k, "results.count": count})


@then('the span "{name:Q}" records that the model was given {count:d} passages')
def step_passages_given(context, name, count):
    """The answer generation's span counts the passages the grounded prompt carried."""
    _span_records(context, name, "the passages given to the model", {"rag.passages.count": count})


@then('the span "{name:Q}" records a question of {length:d} characters')
def step_question_length(context, name, length):
    """The knowledge base query's span records how long the question was, never its text."""
    _span_records(context, name, "the question's length", {"rag.query.length": length})


@then('the span "{name:Q}" records the document "{document:Q}" stored as {count:d} chunk')
@then('the span "{name:Q}" records the document "{document:Q}" stored as {count:d} chunks')
def step_document_ingested(context, name, document, count):
    """The ingestion span names the document by its id and counts the chunks stored."""
    _span_records(context, name, "the document and its chunks", {"rag.document.id": document_id(document),
                                                                 "chunks.count": count})


@then('the span "{name:Q}" records the model "{model:Q}" and the tenant')
def step_span_model_tenant(context, name, model):
    """The gateway's generation span names the model asked for and the tenant, in the contract's words."""
    _span_records(context, name, "the model and the tenant", {"gateway.model": model,
                                                              "gateway.tenant_id": context.world.tenant})


@then('the span "{name:Q}" records the tenant as "{attribute:Q}"')
def step_span_tenant_attribute(context, name, attribute):
    """A span names the tenant under the attribute the contract gives it."""
    _span_records(context, name, "the tenant", {attribute: context.world.tenant})


@then('the span "{name:Q}" records the agent "{agent:Name}" and the tool "{tool:Q}"')
def step_span_tool(context, name, agent, tool):
    """The tool span names the agent that ran it and the tool."""
    _span_records(context, name, "the agent and its tool", {"agent.id": agent, "tool.name": tool})


@then('the span "{name:Q}" records the agent "{agent:Name}", the task "{task:Name}" and its type "{task_type:Q}"')
def step_span_task(context, name, agent, task, task_type):
    """The task span names the agent, the task and the task's type."""
    _span_records(context, name, "the agent, the task and its type", {"agent.id": agent, "task.id": task,
                                                                      "task.type": task_type})


@then('the span "{name:Q}" records {count:d} turns {what:Phrase}')
def step_memory_turns(context, name, count, what):
    """The agent's memory spans count the conversation's turns: those recalled, those added."""
    attribute = {"recalled": "memory.turns", "added": "memory.turns.added"}[what]
    _span_records(context, name, f"the turns {what}", {attribute: count})


@then("every span of the request's trace carries the tenant")
def step_every_span_tenant(context):
    """Each span, in every service, names the tenant whose request it was."""
    telemetry = context.world.telemetry
    request = telemetry.last_request()
    found = telemetry.settled_trace(request)
    wrong = [f"{s.name} ({s.service_name}): {s.attributes.get(TENANT)!r}" for s in found.spans
             if s.attributes.get(TENANT) != request.tenant]
    assert not wrong, f"expected every span to carry the tenant {request.tenant}, these do not: {wrong}"


@then("the two requests have separate traces, each carrying only its own tenant")
def step_separate_traces(context):
    """Concurrent requests never share a trace, and no span of one names the other's tenant."""
    telemetry = context.world.telemetry
    requests = telemetry.last_requests(2)
    assert requests[0].trace_id != requests[1].trace_id, f"expected two traces, both requests ran in {requests[0]}"
    for request in requests:
        found = telemetry.settled_trace(request)
        others = [f"{s.name} ({s.service_name}): {s.attributes.get(TENANT)!r}" for s in found.spans
                  if s.attributes.get(TENANT) != request.tenant]
        assert not others, f"expected the trace of {request.tenant}'s request to name only it, these do not: {others}"


@then('no span of the request\'s trace mentions "{text:Q}"')
def step_no_span_mentions(context, text):
    """Neither the attributes nor the events of any span hold the text."""
    found = context.world.telemetry.settled_trace()
    holding = [span.name for span in found.spans
               if text in repr(dict(span.attributes)) + repr([e.attributes for e in span.events])]
    assert not holding, f"expected no span to hold {text!r}, these do: {holding}"


@then('nothing the platform logged mentions "{text:Q}"')
def step_no_log_mentions(context, text):
    """No line any service of the scenario logged, at any level, holds the text."""
    context.world.evidence.assert_no_log_line_holds(text, repr(text))


@then("every metric point the platform exported since the request names a tenant")
def step_points_name_tenant(context):
    """No series of the platform's meters grew without a tenant since the action began."""
    context.world.telemetry.no_untenanted_points()


@given("the operator lets the platform record prompts and answers on its spans")
def step_capture_content(context):
    """The GenAI conventions' opt-in, deployed with the services."""
    context.world.services.deploy_with(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")


@then('the model call in the request\'s trace records the prompt "{prompt:Q}" and the answer "{answer:Q}"')
def step_content_recorded(context, prompt, answer):
    """With the opt-in, the model call's span carries what was asked and what came back."""
    span = context.world.telemetry.span_named("gateway.provider.call")
    seen = (span.attributes.get("gen_ai.input.messages", ""), span.attributes.get("gen_ai.output.messages", ""))
    assert prompt in seen[0] and answer in seen[1], f"expected {prompt!r} asked and {answer!r} answered, seen {seen}"


@then("no span of the request's trace carries the platform's API key")
def step_no_span_key(context):
    """The key the gateway presents to the model provider is on no span: no attribute, no event (an exception's
    message and stack trace are events)."""
    found = context.world.telemetry.settled_trace()
    holding = [span.name for span in found.spans
               if SCRIPTED_API_KEY in repr(dict(span.attributes)) + repr([e.attributes for e in span.events])]
    assert not holding, f"expected the API key on no span, these carry it: {holding}"


@then('the request\'s trace records a "{operation:Q}" call to the {role:ModelRole} model with the tokens it reported')
@then('the request\'s trace records an "{operation:Q}" call to the {role:ModelRole} model with the tokens it reported')
def step_model_call(context, operation, role):
    """The model call's span carries the GenAI attributes and the model's own token counts."""
    world = context.world
    call = world.telemetry.await_trace(
        f"a {operation} call to the {role} model",
        lambda found: [s for s in found.named("gateway.provider.call")
                       if s.attributes.get("gen_ai.operation.name") == operation
                       and "gen_ai.usage.input_tokens" in s.attributes])[-1]
    names = {PLATFORM_MODEL_NAMES[role], SCRIPTED_MODELS[role], f"openai/{SCRIPTED_MODELS[role]}"}
    reported = [e.usage for e in world.model.requests_to(role) if e.usage][-1]
    seen = {key: call.attributes.get(key) for key in ("gen_ai.request.model", "gen_ai.provider.name",
                                                       "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")}
    assert seen["gen_ai.request.model"] in names and seen["gen_ai.provider.name"], (
        f"expected the model ({' or '.join(sorted(names))}) and its provider on the call, seen {seen}")
    tokens = (seen["gen_ai.usage.input_tokens"], seen["gen_ai.usage.output_tokens"])
    want = (reported.get("prompt_tokens"), reported.get("completion_tokens", 0))
    assert tokens == want, f"expected the model's usage {want} (input, output), the span records {tokens}"


@then("the gateway's cache check in the request's trace was a {outcome:Name}")
def step_cache_check(context, outcome):
    """The cache check span says whether the answer came from the cache."""
    hit = {"hit": True, "miss": False}[outcome]
    check = context.world.telemetry.span_named("gateway.cache.check")
    seen = check.attributes.get("cache.hit")
    assert seen is hit, f"expected the cache check to be a {outcome} (cache.hit={hit}), it records {seen!r}"


@then("the request's trace does not reach the language model")
def step_no_model_call(context):
    """The whole trace holds no call to a model provider."""
    found = context.world.telemetry.settled_trace()
    calls = found.named("gateway.provider.call")
    assert not calls, f"expected no call to the language model, the trace holds:\n{outline(found)}"


@then('the request\'s trace crosses the message bus on the tenant\'s subject "{subject:Q}"')
def step_bus_hop(context, subject):
    """The platform's span for the message it received names NATS and the tenant's subject."""
    telemetry = context.world.telemetry
    destination = f"{subject}.{telemetry.last_request().tenant}"
    span = telemetry.span_named("nats.process")
    seen = (span.attributes.get("messaging.system"), span.attributes.get("messaging.destination.name"))
    assert seen == ("nats", destination), f"expected nats.process to name ('nats', {destination!r}), seen {seen}"


@then("the gateway's token counter for the tenant grew by the tokens the model reported")
def step_tokens_counted(context):
    """Input and output tokens the gateway counted since the action are the model's own counts."""
    world = context.world
    telemetry = world.telemetry
    usages = _usage_since_last_request(world, world.model.requests())
    reported = {kind: sum(usage.get(key, 0) for usage in usages)
                for kind, key in (("input", "prompt_tokens"), ("output", "completion_tokens"))}
    assert reported["input"] != reported["output"], f"the sample cannot tell input from output tokens: {reported}"
    for kind, tokens in reported.items():
        telemetry.await_growth("gateway.tokens.used", {TENANT: world.tenant, "type": kind}, tokens, of="sum")


@given("the gateway service charges {input_price:g} per million input tokens and {output_price:g} per million "
       "output tokens for the chat model")
def step_prices(context, input_price, output_price):
    """The operator's price list for the chat model, in USD, deployed with the gateway."""
    context.world.services.deploy_with(GATEWAY_PRICES=f"chat={input_price:g}/{output_price:g}")
    context.world.telemetry.prices = (input_price, output_price)


@then("the gateway's cost for the tenant grew by the price of the tokens the model reported")
def step_cost_counted(context):
    """The cost counter grew by the model's own token counts at the operator's prices, for the tenant and model."""
    world = context.world
    telemetry = world.telemetry
    usages = _usage_since_last_request(world, world.model.chats())
    assert telemetry.prices, "this scenario set no prices; add the Given that deploys the gateway with them"
    input_price, output_price = telemetry.prices
    expected = sum(u.get("prompt_tokens", 0) * input_price + u.get("completion_tokens", 0) * output_price
                   for u in usages) / 1_000_000
    assert expected > 0, f"the sample cannot show a cost: {usages}"
    telemetry.await_growth("gateway.cost", {TENANT: world.tenant, "model": "chat"}, expected, of="sum",
                           within=expected * 1e-9)


@then("the {meter:Phrase} for the tenant grew by {count:d}")
@then('the {meter:Phrase} for the tenant "{tenant:Name}" grew by {count:d}')
def step_meter_grew(context, meter, count, tenant=None):
    """The counter's points for the tenant (its successes, or its failures) add up to that many more than before
    the action."""
    _await_meter(context, meter, count, tenant)


@then("the {meter:Phrase} for the tenant grew by {count:d}, counted as grounded")
def step_meter_grew_grounded(context, meter, count):
    """The answered questions the counter grew by are marked as resting on passages."""
    _await_meter(context, meter, count, grounded=True)


@then('the {meter:Phrase} for the tenant grew by {count:d}, counted as the error "{error_type:Q}"')
def step_meter_grew_as(context, meter, count, error_type):
    """The failures the counter grew by name their cause (the semantic conventions' error.type)."""
    _await_meter(context, meter, count, **{"error.type": error_type})


def _await_meter(context, meter: str, count: int, tenant: str | None = None, **attributes) -> None:
    """The meter's series for the tenant (and these attributes) grows by count since the action began."""
    world = context.world
    assert meter in METERS, f"no meter called {meter!r}; known: {', '.join(METERS)}"
    metric, series = METERS[meter]
    world.telemetry.await_growth(metric, {TENANT: world.tenants.id_of(tenant), **series, **attributes}, count)


@then("the platform recorded how long the {operation:Phrase} took for the tenant")
def step_duration(context, operation):
    """One measurement in seconds per span of the operation, adding up to what the spans took."""
    world = context.world
    assert operation in DURATIONS, f"no duration recorded for {operation!r}; known: {', '.join(DURATIONS)}"
    world.telemetry.durations_match_spans(operation, world.tenant)


@then("the request's trace is this tree, each step directly inside the one named:")
def step_tree(context):
    """Each row is a step and the step it sits directly inside; no span of a named step sits anywhere else."""
    rows = [(row["step"].strip(), row["inside"].strip()) for row in context.table]
    context.world.telemetry.tree(rows)


@then("in the request's trace exactly these steps failed:")
def step_failed_exactly(context):
    """The failure is marked where it happened and on the steps it passed through, and nowhere else."""
    context.world.telemetry.failed_exactly(_stops(context))


def _usage_since_last_request(world, calls) -> list[dict]:
    """The token usage the model reported for the calls it received since the scenario's last request began."""
    since = world.telemetry.last_request().started_ns / 1e9
    usages = [call.usage for call in calls if call.usage and call.at >= since]
    assert usages, "expected the language model to have reported its token usage, it reported none"
    return usages
