"""Steps for the LLM gateway: completions, streams, fallbacks, timeouts."""


from behave import given, then, when

from harness.drivers import gateway
from harness.session import SCRIPTED_MODELS


@given("the gateway gives up on a model after {seconds:g} second")
@given("the gateway gives up on a model after {seconds:g} seconds")
def step_timeout(context, seconds):
    context.world.configure(gateway_timeout_s=seconds)


@given("the gateway falls back to the backup model when the primary model fails")
def step_fallback(context):
    context.world.use_fallback("primary", "backup")


@when('a component asks the gateway "{prompt:Q}"')
def step_complete(context, prompt):
    context.world.attempt(lambda: gateway.complete(context.world, prompt))


@when('a component asks the gateway "{prompt:Q}" with temperature {temperature:g} and at most {tokens:d} tokens')
def step_complete_params(context, prompt, temperature, tokens):
    context.world.attempt(
        lambda: gateway.complete(context.world, prompt, temperature=temperature, max_tokens=tokens)
    )


@when("a component streams the gateway's answer to \"{prompt:Q}\"")
def step_stream(context, prompt):
    context.world.pieces, context.world.stream = gateway.stream(context.world, prompt)


@then('the gateway returns "{text:Q}"')
def step_returns(context, text):
    assert context.world.error is None, f"expected the answer {text!r}, the gateway failed: {context.world.error}"
    assert context.world.result.text == text, f"expected {text!r}, the gateway returned {context.world.result.text!r}"


@then("the token usage the gateway reports is what the language model reported")
def step_usage(context):
    usage = context.world.result.usage
    reported = context.world.llm.journal("chat")[-1].usage
    seen = {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens}
    assert usage.input_tokens > 0 and usage.output_tokens > 0, f"expected non-zero usage, got {seen}"
    assert seen == reported, f"expected the model's usage {reported}, the gateway reported {seen}"


@then("the language model was asked with temperature {temperature:g} and at most {tokens:d} tokens")
def step_params_reached(context, temperature, tokens):
    params = context.world.llm.journal("chat")[-1].parameters
    assert params.get("temperature") == temperature and params.get("max_tokens") == tokens, (
        f"expected temperature {temperature} and max_tokens {tokens}, the model saw {params}"
    )


@then("the answer came from the {role:ModelRole} model")
def step_answered_by(context, role):
    model = context.world.result.model
    assert model == SCRIPTED_MODELS[role], f"expected the {role} model ({SCRIPTED_MODELS[role]}) to answer, {model} did"


@then('the gateway reports that {description} for the model "{model:Q}"')
def step_error(context, description, model):
    error = context.world.error
    assert error is not None, f"expected the error '{description}', the gateway answered {context.world.result!r}"
    assert description in str(error) and error.model == model, (
        f"expected '{description}' for model {model!r}, got {type(error).__name__}: {error}"
    )


@then("the caller got that error well before the model would have answered")
def step_error_early(context):
    # Not a performance check: it proves the timeout cut the wait, with seconds of margin.
    delay, elapsed = context.world.model_delay_s, context.world.elapsed_s
    assert elapsed < delay - 1.5, f"expected the error well before {delay} s, it came after {elapsed:.2f} s"


@then("the answer arrives in more than one piece")
def step_pieces(context):
    assert len(context.world.pieces) > 1, f"expected several pieces, got {context.world.pieces}"


@then('the pieces join to "{text:Q}"')
def step_pieces_join(context, text):
    joined = "".join(context.world.pieces)
    assert joined == text, f"expected the pieces to join to {text!r}, they joined to {joined!r}"


@then("the streamed answer reports its token usage")
def step_stream_usage(context):
    completion = context.world.stream.completion
    assert completion is not None and completion.usage.output_tokens > 0, (
        f"expected token usage at the end of the stream, got {completion!r}"
    )


