"""Steps for the LLM gateway: completions, streams, fallbacks, timeouts."""

from behave import given, then, when

from harness.drivers.gateway import limits
from harness.platform.environment import PLATFORM_MODEL_NAMES
from harness.session import SCRIPTED_MODELS


@given("the gateway gives up on a model after {seconds:g} second")
@given("the gateway gives up on a model after {seconds:g} seconds")
def step_timeout(context, seconds):
    """The gateway's timeout for one model call."""
    context.world.configure(gateway_timeout_s=seconds)


@given("the gateway falls back to the backup model when the primary model fails")
def step_fallback(context):
    """The primary model's fallback is the backup model."""
    context.world.use_fallback("primary", "backup")


@when('a component asks the gateway "{prompt:Q}"')
def step_complete(context, prompt):
    """A platform component asks the gateway for a completion."""
    gateway = context.world.gateway
    context.world.attempt(lambda: gateway.complete(prompt))


@when('a component asks the gateway "{prompt:Q}" with temperature {temperature:g} and at most {tokens:d} tokens')
def step_complete_params(context, prompt, temperature, tokens):
    """A completion with the caller's sampling parameters."""
    gateway = context.world.gateway
    context.world.attempt(lambda: gateway.complete(prompt, temperature=temperature, max_tokens=tokens))


@when('a component asks the gateway "{prompt:Q}" with top_p {top_p:g} and the stop word "{stop:Q}"')
def step_complete_nucleus(context, prompt, top_p, stop):
    """A completion with nucleus sampling and a stop word."""
    gateway = context.world.gateway
    context.world.attempt(lambda: gateway.complete(prompt, top_p=top_p, stop=[stop]))


@when('a component asks the gateway "{prompt:Q}" using the {role:ModelRole} model')
def step_complete_model(context, prompt, role):
    """A completion from the model the caller names, by the name the gateway offers it under."""
    gateway = context.world.gateway
    context.world.attempt(lambda: gateway.complete(prompt, model=PLATFORM_MODEL_NAMES[role]))


@when('a component asks the gateway "{prompt:Q}" with {limit:Limit}')
def step_complete_limited(context, prompt, limit):
    """A completion with a stop word or a token limit, or neither."""
    gateway = context.world.gateway
    context.world.attempt(lambda: gateway.complete(prompt, **limits(limit)))


@when("a component streams the gateway's answer to \"{prompt:Q}\"")
@when("a component streams the gateway's answer to \"{prompt:Q}\" through {route:Phrase}")
def step_stream(context, prompt, route="the streaming route"):
    """A component reads the gateway's streamed answer to its end, from the streaming route or the completion
    route with stream on."""
    gateway = context.world.gateway
    context.world.attempt(lambda: gateway.stream(prompt, route))


@when("a component streams the gateway's answer to \"{prompt:Q}\" with {limit:Limit}")
def step_stream_limited(context, prompt, limit):
    """A streamed completion with a stop word or a token limit."""
    gateway = context.world.gateway
    context.world.attempt(lambda: gateway.stream(prompt, **limits(limit)))


@then('the answer ended because of "{reason:Q}"')
def step_finish_reason(context, reason):
    """Why the answer ended, as the gateway reports it (the model's finish reason)."""
    seen = context.world.outcome.expect_result("a completion").finish_reason
    assert seen == reason, f"expected the answer to end because of {reason!r}, the gateway reported {seen!r}"


@then('the stream ends in an error event naming "{dependency:Q}", after the first half of "{answer:Q}"')
def step_stream_broke_off(context, dependency, answer):
    """The caller received the pieces the model wrote before it failed, then one error event, and no end event."""
    refusal = context.world.outcome.expect_error("a stream that breaks off")
    received = getattr(refusal, "streamed_before", "")
    assert received and answer.startswith(received) and len(received) < len(answer), (
        f"expected a first part of {answer!r} before the error event, the caller received {received!r}")
    said = f"{refusal} {getattr(refusal, 'details', '')}"
    assert getattr(refusal, "code", None) == "DEPENDENCY_ERROR" and dependency in said, (
        f"expected an error event DEPENDENCY_ERROR naming {dependency!r}, got {type(refusal).__name__}: {said}")


@then('the streamed answer ended because of "{reason:Q}"')
def step_stream_finish_reason(context, reason):
    """Why the streamed answer ended, as its last event reports it."""
    completion = context.world.outcome.expect_result("a stream").completion
    seen = completion and completion.finish_reason
    assert seen == reason, f"expected the stream to end because of {reason!r}, its last event said {seen!r}"


@then('the gateway returns "{text:Q}"')
def step_returns(context, text):
    """The completion's text, word for word."""
    completion = context.world.outcome.expect_result(f"the answer {text!r}")
    assert completion.text == text, f"expected {text!r}, the gateway returned {completion.text!r}"


@then("the token usage the gateway reports is what the language model reported")
def step_usage(context):
    """Prompt, completion and total tokens reach the caller unchanged and unswapped."""
    usage = context.world.outcome.expect_result("a completion").usage
    reported = context.world.model.chats()[-1].usage
    seen = {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens}
    assert reported["prompt_tokens"] != reported["completion_tokens"], f"the sample cannot tell a swap: {reported}"
    assert seen == reported, f"expected the model's usage {reported}, the gateway reported {seen}"


@then("the language model was asked with temperature {temperature:g} and at most {tokens:d} tokens")
def step_params_reached(context, temperature, tokens):
    """The caller's parameters as the model received them."""
    params = context.world.model.chats()[-1].parameters
    assert params.get("temperature") == temperature and params.get("max_tokens") == tokens, (
        f"expected temperature {temperature} and max_tokens {tokens}, the model saw {params}"
    )


@then('the language model was asked with top_p {top_p:g} and the stop word "{stop:Q}"')
@then('the language model was asked with top_p {top_p:g} and the stop words {stops:QuotedList}')
def step_nucleus_reached(context, top_p, stop=None, stops=()):
    """Nucleus sampling and the stop words, in order, as the model received them."""
    expected = [stop] if stop is not None else list(stops)
    params = context.world.model.chats()[-1].parameters
    assert params.get("top_p") == top_p and params.get("stop") == expected, (
        f"expected top_p {top_p} and the stop words {expected}, the model saw {params}"
    )


@then("the answer came from the {role:ModelRole} model")
def step_answered_by(context, role):
    """The model that served the completion, as the gateway reports it."""
    model = context.world.outcome.expect_result("an answer").model
    assert model == SCRIPTED_MODELS[role], f"expected the {role} model ({SCRIPTED_MODELS[role]}) to answer, {model} did"


@then('the gateway reports that {description:Phrase} for the model "{model:Q}"')
def step_error(context, description, model):
    """The gateway's error names the cause and the model."""
    error = context.world.outcome.expect_error(f"the error '{description}'")
    assert description in str(error) and error.model == model, (
        f"expected '{description}' for model {model!r}, got {type(error).__name__}: {error}"
    )


@then("the caller got that error well before the model would have answered")
def step_error_early(context):
    """The timeout cut the wait: the error came seconds before the slow answer would have."""
    delay, elapsed = context.world.model.delay_s, context.world.outcome.elapsed_s
    assert elapsed < delay - 1.5, f"expected the error well before {delay} s, it came after {elapsed:.2f} s"


@then("the answer arrives in more than one piece")
def step_pieces(context):
    """The stream delivered several pieces."""
    pieces = context.world.outcome.expect_result("a stream").pieces
    assert len(pieces) > 1, f"expected several pieces, got {pieces}"


@then('the pieces join to "{text:Q}"')
def step_pieces_join(context, text):
    """The streamed pieces make up the whole answer."""
    joined = "".join(context.world.outcome.expect_result("a stream").pieces)
    assert joined == text, f"expected the pieces to join to {text!r}, they joined to {joined!r}"


@then("the streamed answer reports the token usage the language model reported")
def step_stream_usage(context):
    """The usage at the end of the stream is the model's own count."""
    completion = context.world.outcome.expect_result("a stream").completion
    reported = context.world.model.chats()[-1].usage
    seen = completion and {"prompt_tokens": completion.usage.input_tokens,
                           "completion_tokens": completion.usage.output_tokens,
                           "total_tokens": completion.usage.total_tokens}
    assert seen == reported, f"expected the model's usage {reported} at the end of the stream, got {seen}"
