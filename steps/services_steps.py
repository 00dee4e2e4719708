"""Steps for the platform's HTTP services: requests as a client sends them, what comes back."""

import json

from behave import given, then, when

from harness.session import SCRIPTED_MODELS
from harness.waiting import wait_until


@when('a client asks the gateway service "{prompt:Q}"')
@when('a client asks the gateway service "{prompt:Q}" with the request id "{request_id:Q}" and the correlation id '
      '"{correlation_id:Q}"')
def step_generate(context, prompt, request_id=None, correlation_id=None):
    """A client asks the gateway service for a completion, with its own ids or none."""
    services = context.world.services
    ids = {k: v for k, v in (("X-Request-ID", request_id), ("X-Correlation-ID", correlation_id)) if v}
    services.url("gateway")  # started before the clock
    context.world.attempt(lambda: services.generate(prompt, **ids))


@when('a client asks the gateway service "{prompt:Q}" with {options:GenerationOptions}')
def step_generate_with_options(context, prompt, options):
    """A client asks the gateway service for a completion with the options it names."""
    services = context.world.services
    services.url("gateway")
    context.world.attempt(lambda: services.generate(prompt, options=options))


@when('a client asks the gateway service "{prompt:Q}" under the instruction "{instruction:Q}"')
def step_generate_instructed(context, prompt, instruction):
    """A client asks the gateway service for a completion of a conversation: a system instruction, then the prompt."""
    services = context.world.services
    services.url("gateway")
    context.world.attempt(lambda: services.generate(prompt, instruction=instruction))


@when("a client sends the {service:Name} service {request:Sample}")
def step_bad_request(context, service, request):
    """A careless client's request, by its name in the spec."""
    services = context.world.services
    services.url(service)
    context.world.attempt(lambda: services.bad_request(service, request))


@when('a client sends a "{method:Q}" request to the {service:Name} service\'s route "{path:Q}"')
def step_method_to_route(context, method, service, path):
    """A request with a method the route may not take, and an empty body."""
    services = context.world.services
    services.url(service)
    context.world.attempt(lambda: services.send(service, method, path, body={}))


@then('the answer\'s Allow header lists exactly "{allowed:Q}"')
def step_allow_header(context, allowed):
    """A 405 names every method the path takes (RFC 9110), and no other."""
    seen = _response(context).headers.get("allow")
    listed = sorted(m.strip() for m in (seen or "").split(","))
    assert listed == sorted(m.strip() for m in allowed.split(",")), f"expected Allow: {allowed}, got {seen!r}"


def _response(context):
    return context.world.outcome.expect_result("an HTTP response")


def _envelope(response) -> dict:
    """The response's JSON envelope; a body that is not one fails the check, saying what came."""
    try:
        body = response.json()
    except ValueError:
        body = None
    assert isinstance(body, dict), f"expected a JSON envelope, got {response.status_code}: {response.text[:300]!r}"
    return body


@then('the service answers {status:d} with the text "{text:Q}"')
def step_answers_text(context, status, text):
    """The status, and the success envelope's text."""
    response = _response(context)
    body = _envelope(response)
    seen = (response.status_code, body.get("success"), (body.get("data") or {}).get("text"))
    assert seen == (status, True, text), f"expected {(status, True, text)}, seen {seen}: {body}"


@then('the service answers {status:d} with the error code "{code:Q}" naming "{named:Q}"')
def step_answers_error(context, status, code, named):
    """The status, an error envelope with that code, and the value at fault named in it."""
    response = _response(context)
    body = _envelope(response)
    error = body.get("error") or {}
    seen = (response.status_code, body.get("success"), error.get("code"))
    assert seen == (status, False, code), f"expected {(status, False, code)}, seen {seen}: {body}"
    said = f"{error.get('message', '')} {error.get('details', '')}"
    assert named in said, f"expected the error to name {named!r}, it said: {said}"
    for key in ("correlation_id", "request_id", "timestamp"):
        assert body.get(key), f"expected the error envelope to carry {key}, it is {body}"


@when('a client asks the gateway service for {kind:Phrase} with the request id "{request_id:Q}" and the correlation '
      'id "{correlation_id:Q}"')
def step_ask_for_kind(context, kind, request_id, correlation_id):
    """A request whose answer is not the contract's envelope: a stream, an OpenAI body, a document."""
    services = context.world.services
    services.url("gateway")
    context.world.attempt(lambda: services.ask_gateway_for(kind, **{"X-Request-ID": request_id,
                                                                   "X-Correlation-ID": correlation_id}))


@then('the answer is a 200 whose headers carry the request id "{request_id:Q}" and the correlation id '
      '"{correlation_id:Q}"')
def step_ids_in_headers(context, request_id, correlation_id):
    """Whatever the answer's shape, its headers echo the caller's ids."""
    response = _response(context)
    seen = (response.status_code, response.headers.get("X-Request-ID"), response.headers.get("X-Correlation-ID"))
    assert seen == (200, request_id, correlation_id), (
        f"expected 200 with the ids {request_id!r} and {correlation_id!r} in the headers, seen {seen}")


@then('the response carries the request id "{request_id:Q}" and the correlation id "{correlation_id:Q}"')
def step_ids_echoed(context, request_id, correlation_id):
    """Both ids come back in the headers and in the envelope."""
    response = _response(context)
    body = _envelope(response)
    seen = (response.headers.get("X-Request-ID"), response.headers.get("X-Correlation-ID"),
            body.get("request_id"), body.get("correlation_id"))
    want = (request_id, correlation_id, request_id, correlation_id)
    assert seen == want, f"expected the ids {want} in headers and body, seen {seen}"


@then("the response carries a request id and a correlation id of its own")
def step_ids_generated(context):
    """Ids the service made: present, distinct, the same in headers and body."""
    response = _response(context)
    body = _envelope(response)
    request_id, correlation_id = response.headers.get("X-Request-ID"), response.headers.get("X-Correlation-ID")
    assert request_id and correlation_id and request_id != correlation_id, (
        f"expected two generated ids, seen request {request_id!r} and correlation {correlation_id!r}")
    seen = (body.get("request_id"), body.get("correlation_id"))
    assert seen == (request_id, correlation_id), f"expected the body to carry the ids of the headers, seen {seen}"


@then("the token usage in the response is what the language model reported")
def step_http_usage(context):
    """Prompt, completion and total tokens as the model counted them, unswapped."""
    usage = _envelope(_response(context))["data"]["usage"]
    reported = context.world.model.chats()[-1].usage
    assert reported["prompt_tokens"] != reported["completion_tokens"], f"the sample cannot tell a swap: {reported}"
    assert usage == reported, f"expected the model's usage {reported}, the response carried {usage}"


@when('an OpenAI client asks the gateway service "{prompt:Q}"')
def step_openai_chat(context, prompt):
    """The official openai package's chat completion against the gateway service."""
    services = context.world.services
    context.world.attempt(lambda: services.openai_chat(prompt))


@when("an OpenAI client streams the gateway service's answer to \"{prompt:Q}\"")
def step_openai_stream(context, prompt):
    """The official client reads a streamed chat completion to its end."""
    services = context.world.services
    context.world.attempt(lambda: services.openai_stream(prompt))


@when('an OpenAI client embeds "{first:Q}" and "{second:Q}" through the gateway service')
def step_openai_embed(context, first, second):
    """The official client asks for the embeddings of two texts."""
    services = context.world.services
    context.world.attempt(lambda: services.openai_embed([first, second]))


@then('the OpenAI client\'s answer and its stream both say "{text:Q}"')
def step_openai_answers(context, text):
    """The plain and the streamed answer, as the client assembled them."""
    seen = context.world.services.openai_seen
    got = (seen.get("answer"), seen.get("stream"))
    assert got == (text, text), f"expected both to say {text!r}, seen {got}"


@then("the OpenAI client received {count:d} embeddings of the embedding model's dimensions")
def step_openai_embeddings(context, count):
    """How many vectors came back, and their length."""
    vectors = context.world.services.openai_seen.get("embeddings") or []
    dimensions = context.world.session.dimensions
    seen = [len(v) for v in vectors]
    assert seen == [dimensions] * count, f"expected {count} vectors of {dimensions} numbers, seen lengths {seen}"


@then("the OpenAI client received the embedding model's vectors of those {count:d} texts, in their order")
def step_openai_embeddings_in_order(context, count):
    """Each vector, decoded by the client, is the one the (deterministic) scripted embedding model made for its text
    (within float32's precision: the client asks for base64-packed floats)."""
    seen = context.world.services.openai_seen
    texts, vectors = seen.get("embedded") or [], seen.get("embeddings") or []
    expected = [context.world.model.vector_of(text) for text in texts]
    same = len(vectors) == count == len(expected) and all(
        len(v) == len(e) and max(abs(a - b) for a, b in zip(v, e, strict=True)) < 1e-5
        for v, e in zip(vectors, expected, strict=True))
    assert same, f"expected the model's {count} vectors for {texts} in order, got {len(vectors)} that differ"


@given("the gateway service keeps cached answers for {seconds:d} second")
@given("the gateway service keeps cached answers for {seconds:d} seconds")
def step_cache_ttl(context, seconds):
    """The gateway service is deployed with that time to live for its cache entries."""
    context.world.services.deploy_with(GATEWAY_CACHE_TTL_S=str(seconds))


@given("the gateway service is deployed without the message bus")
def step_gateway_without_bus(context):
    """An operator's deployment with no NATS_URL: the gateway answers over HTTP alone, with no shared cache."""
    context.world.services.deploy_with(NATS_URL="")


@when('a client of the tenant "{tenant:Name}" asks the gateway service "{prompt:Q}"')
def step_generate_as(context, tenant, prompt):
    """A named tenant's client asks the gateway service for a completion."""
    services = context.world.services
    context.world.attempt(lambda: services.generate(prompt, tenant=tenant))


@when('a client asks a second instance of the gateway service "{prompt:Q}"')
def step_generate_second(context, prompt):
    """The same request through another gateway instance of the platform."""
    services = context.world.services
    services.second_gateway()  # started before the clock
    context.world.attempt(lambda: services.generate(prompt, instance="second gateway"))


@when("a client streams the gateway service's answer to \"{prompt:Q}\"")
def step_stream_http(context, prompt):
    """A client reads the gateway service's server-sent events to the end."""
    services = context.world.services
    context.world.attempt(lambda: services.stream(prompt))


@when("the tenant's cached answers have expired, within {seconds:d} seconds")
def step_cache_expired(context, seconds):
    """The tenant's cache statistics come to count no entry."""
    services = context.world.services
    wait_until(lambda: services.cache_stats()["entries"] == 0, seconds, "the cached answers to expire")


@then('the gateway service answered "{text:Q}" from its cache')
def step_from_cache(context, text):
    """The last answer is the text, marked as served from the cache."""
    data = _envelope(_response(context)).get("data") or {}
    seen = (data.get("text"), data.get("cached"))
    assert seen == (text, True), f"expected {text!r} from the cache, seen {seen}"


@when("a client asks the gateway service for the tenant's cache statistics")
def step_ask_cache_stats(context):
    """The tenant reads its cache statistics; the answer is checked as it came."""
    services = context.world.services
    context.world.attempt(services.ask_cache_stats)


@then('the gateway service answered "{text:Q}" from the model')
def step_from_model(context, text):
    """The last answer is the text, and the gateway says it did not come from its cache."""
    data = _envelope(_response(context)).get("data") or {}
    seen = (data.get("text"), data.get("cached"))
    assert seen == (text, False), f"expected {text!r} from the model, not the cache; seen {seen}"


@then("the gateway service did not answer from its cache")
def step_not_from_cache(context):
    """The last answer came from the model."""
    body = _envelope(_response(context))
    cached = (body.get("data") or {}).get("cached")
    assert cached is False, f"expected an answer from the model, not the cache; seen {body}"


@then("the tenant's cache statistics show {hits:d} hits, {misses:d} misses and {entries:d} entries")
@then('the cache statistics of the tenant "{tenant:Name}" show {hits:d} hits, {misses:d} misses and {entries:d} '
      "entries")
def step_cache_stats(context, hits, misses, entries, tenant=None):
    """The hit, miss and entry counts the gateway reports for the tenant."""
    stats = context.world.services.cache_stats(tenant=tenant)
    seen = (stats.get("hits"), stats.get("misses"), stats.get("entries"))
    assert seen == (hits, misses, entries), f"expected {(hits, misses, entries)}, seen {seen}: {stats}"


@then("the gateway service keeps no cached answer of the tenant")
def step_no_cached_answer(context):
    """The tenant's cache statistics, as every gateway instance reads them, are empty."""
    stats = context.world.services.cache_stats()
    kept = {name: stats[name] for name in ("entries", "hits", "misses")}
    assert kept == {"entries": 0, "hits": 0, "misses": 0}, f"expected nothing cached for the tenant, found {kept}"


# OpenAI options the gateway does not support, by the name the specs give them
OPENAI_OPTIONS = {
    "two choices": {"n": 2},
    "a tool to call": {"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]},
    "a JSON response format": {"response_format": {"type": "json_object"}},
    "log probabilities": {"logprobs": True},
}


@when("an OpenAI client lists the gateway service's models")
def step_openai_models(context):
    """The official client's model list."""
    services = context.world.services
    context.world.attempt(services.openai_models)


@then('the OpenAI client sees the models "{a:Q}", "{b:Q}" and "{c:Q}"')
def step_openai_sees_models(context, a, b, c):
    """Exactly those model ids, in any order."""
    seen = context.world.outcome.expect_result("the model list")
    assert sorted(seen) == sorted([a, b, c]), f"expected the models {[a, b, c]}, the client saw {seen}"


@when('an OpenAI client asks the gateway service "{prompt:Q}" with {option:Phrase}')
def step_openai_option(context, prompt, option):
    """The official client sends an option the gateway does not support."""
    services = context.world.services
    context.world.attempt(lambda: services.openai_refusal(prompt, **OPENAI_OPTIONS[option]))


@when('an OpenAI client with a made-up key asks the gateway service "{prompt:Q}"')
def step_openai_bad_key(context, prompt):
    """The official client with a key the platform never issued."""
    services = context.world.services
    context.world.attempt(lambda: services.openai_refusal(prompt, api_key="sk-made-up-0123456789abcdef"))


@then('the OpenAI client raises its {kind:Phrase} error naming "{named:Q}"')
def step_openai_raised(context, kind, named):
    """The client's own exception class for the status, built from the gateway's error, naming the fault."""
    refused = context.world.outcome.expect_result("the OpenAI client's exception")
    classes = {"bad request": "BadRequestError", "authentication": "AuthenticationError"}
    assert refused is not None, f"expected the client to raise its {kind} error, the gateway answered"
    said = f"{refused.message} {getattr(refused, 'param', None) or ''} {getattr(refused, 'code', None) or ''}"
    assert type(refused).__name__ == classes[kind] and named in said, (
        f"expected {classes[kind]} naming {named!r}, the client raised {type(refused).__name__}: {said}")


def _model_usage(context, endpoint: str = "chat") -> dict:
    """The usage the model reported for its last answer, a sample that tells prompt from completion apart."""
    reported = context.world.model.script.journal(endpoint)[-1].usage
    if endpoint == "chat":
        assert reported["prompt_tokens"] != reported["completion_tokens"], f"the sample cannot tell a swap: {reported}"
    return reported


def _usage_of(usage) -> dict | None:
    """An OpenAI client's usage object as the counts the model reports."""
    return usage and {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                      "total_tokens": usage.total_tokens}


@when('an OpenAI client asks the gateway service "{prompt:Q}", setting {options:Json}')
def step_openai_options(context, prompt, options):
    """The official client's chat completion with OpenAI options (temperature, top_p, stop, max_tokens)."""
    services = context.world.services
    context.world.attempt(lambda: services.openai_chat(prompt, **options))


@then("the language model was asked with the options {options:Json}")
def step_model_options(context, options):
    """Each option as the model received it (the rest of what it received is not the point)."""
    received = context.world.model.chats()[-1].parameters
    seen = {name: received.get(name) for name in options}
    assert seen == options, f"expected the model to receive {options}, it received {received}"


@then('the OpenAI client\'s answer is "{text:Q}", ending because of "{reason:Q}"')
def step_openai_answer_finish(context, text, reason):
    """The client's answer text and the finish reason of its choice."""
    reply = context.world.services.openai_seen.get("reply")
    seen = reply and (reply.choices[0].message.content, reply.choices[0].finish_reason)
    assert seen == (text, reason), f"expected {(text, reason)}, the client read {seen}"


@then("the OpenAI client's answer reports the token usage the language model reported")
def step_openai_usage(context):
    """The non-streamed answer's usage is the model's own count, unswapped, with its total."""
    reported = _model_usage(context)
    reply = context.world.services.openai_seen.get("reply")
    seen = _usage_of(reply and reply.usage)
    assert seen == reported, f"expected the model's usage {reported}, the OpenAI client read {seen}"


@then('the OpenAI client\'s stream says "{text:Q}"')
def step_openai_stream_says(context, text):
    """The streamed answer as the client assembled it."""
    seen = context.world.services.openai_seen.get("stream")
    assert seen == text, f"expected the stream to say {text!r}, it said {seen!r}"


@then('the OpenAI client\'s stream fails with an error of type "{kind:Q}", after the first half of "{answer:Q}"')
def step_openai_stream_broke_off(context, kind, answer):
    """The official client raised the error event the gateway sent, having received the first pieces."""
    error = context.world.outcome.expect_error("the OpenAI client's stream to fail")
    received = getattr(error, "streamed_before", "")
    assert received and answer.startswith(received) and len(received) < len(answer), (
        f"expected a first part of {answer!r} before the error, the client received {received!r}")
    seen = (getattr(error, "code", None), getattr(error, "details", {}).get("type"))
    assert seen == ("DEPENDENCY_ERROR", kind), (
        f"expected the client's error DEPENDENCY_ERROR of type {kind!r}, got {type(error).__name__}: {error} {seen}")


@when("an OpenAI client streams the gateway service's answer to \"{prompt:Q}\", asking for the usage")
def step_openai_stream_usage(context, prompt):
    """The official client streams with stream_options include_usage."""
    services = context.world.services
    context.world.attempt(lambda: services.openai_stream(prompt, include_usage=True))


@then("the last chunk of the OpenAI client's stream reports the token usage the language model reported")
def step_openai_stream_usage_reported(context):
    """The stream's last chunk carries the model's usage, as OpenAI's include_usage promises."""
    reported = _model_usage(context)
    chunks = context.world.services.openai_seen.get("chunks") or []
    seen = _usage_of(chunks[-1].usage) if chunks else None
    assert seen == reported, f"expected the last of {len(chunks)} chunks to carry {reported}, it carried {seen}"


@when('a client embeds "{first:Q}", "{second:Q}" and "{third:Q}" through the gateway service')
def step_embed_http(context, first, second, third):
    """A client asks the gateway service's embeddings route for the vectors of three texts."""
    services = context.world.services
    services.url("gateway")
    context.world.attempt(lambda: services.embed([first, second, third]))


def _texts_sent(context) -> list[str]:
    """The texts of the embeddings request the scenario sent, as it went on the wire."""
    return json.loads(_response(context).request.content)["texts"]


@then("the service returns the embedding model's vectors of those {count:d} texts, in their order")
def step_embeddings_in_order(context, count):
    """One vector per text, each the one the (deterministic) scripted embedding model makes for that text."""
    texts = _texts_sent(context)
    data = _envelope(_response(context)).get("data") or {}
    vectors = data.get("embeddings") or []
    expected = [context.world.model.vector_of(text) for text in texts]
    same = len(vectors) == count == len(expected) and all(
        max(abs(a - b) for a, b in zip(v, e, strict=True)) < 1e-6 for v, e in zip(vectors, expected, strict=True))
    assert same, f"expected the model's {count} vectors for {list(texts)} in order, got {len(vectors)} vectors"


@then("the embedding model was asked for those {count:d} texts, in their order")
def step_embedding_inputs(context, count):
    """The texts as the embedding model received them."""
    texts = _texts_sent(context)
    asked = list(context.world.model.script.journal("embeddings")[-1].inputs)
    assert asked == texts and len(texts) == count, f"expected the model to be asked for {texts}, it got {asked}"


@then("the embeddings name the embedding model that made them")
def step_embeddings_model(context):
    """The provider model that answered, as the gateway reports it (not the platform's name asked for)."""
    model, expected = (_envelope(_response(context)).get("data") or {}).get("model"), SCRIPTED_MODELS["embedding"]
    assert model == expected, f"expected the embeddings of {expected!r}, the response names {model!r}"


@then("the token usage of the embeddings is what the embedding model reported")
def step_embedding_usage(context):
    """The embeddings route reports the model's token count."""
    reported = _model_usage(context, "embeddings")
    usage = (_envelope(_response(context)).get("data") or {}).get("usage")
    assert usage == reported, f"expected the model's usage {reported}, the response carried {usage}"


@then('the gateway service\'s answer came from the {role:ModelRole} model and ended because of "{reason:Q}"')
def step_answer_model_and_end(context, role, reason):
    """The model the answer names as its author, and why the answer ended."""
    data = _envelope(_response(context)).get("data") or {}
    seen = (data.get("model"), data.get("finish_reason"))
    assert seen == (SCRIPTED_MODELS[role], reason), (
        f"expected the answer of {SCRIPTED_MODELS[role]} ending because of {reason!r}, seen {seen}")
