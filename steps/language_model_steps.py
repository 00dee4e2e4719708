"""Steps that script the language model and read what it was asked."""

from behave import given, then

# The platform's grounding instruction, in the words the product documentation promises.
GROUNDING_MARKER = "using only the numbered passages"


@given('the language model answers "{answer:Q}" when asked about "{words:Q}"')
def step_answer_when_asked(context, answer, words):
    """The model's answer when the question mentions the words."""
    context.world.model.answers(answer, words, anywhere=False)


@given('the language model answers "{answer:Q}" only when the prompt mentions "{words:Q}"')
def step_answer_when_prompt_mentions(context, answer, words):
    """The model's answer when any part of the prompt mentions the words."""
    context.world.model.answers(answer, words, anywhere=True)


@given('the {role:ModelRole} model answers "{answer:Q}"')
def step_model_answers(context, role, answer):
    """What one model answers to anything."""
    context.world.model.role_answers(role, answer)


@given("the {role:ModelRole} model fails with HTTP {status:d}")
def step_model_fails(context, role, status):
    """The model answers every request with an HTTP error status."""
    context.world.model.fails(role, "status", status=status)


@given("the {role:ModelRole} model fails with HTTP {status:d} once")
def step_model_fails_once(context, role, status):
    """The model's next answer is an HTTP error status; it answers normally after that."""
    context.world.model.fails(role, "status", status=status, times=1)


@given("the {role:ModelRole} model refuses the platform's API key, quoting it in its error")
def step_model_quotes_key(context, role):
    """The model answers 401 with an error message that repeats the key it was sent, as some providers do."""
    context.world.model.fails(role, "quotes-key")


@given("the {role:ModelRole} model sends a malformed answer")
def step_model_malformed(context, role):
    """The model answers with a body that is not valid JSON."""
    context.world.model.fails(role, "malformed")


@given("the {role:ModelRole} model answers with no choices")
def step_model_no_choices(context, role):
    """The model answers 200 with a chat completion that holds no choice: valid JSON, nothing to read."""
    context.world.model.fails(role, "no-choices")


@given("the {role:ModelRole} model drops the connection")
def step_model_drops(context, role):
    """The model closes the connection without answering."""
    context.world.model.fails(role, "drop")


@given("the {role:ModelRole} model breaks off in the middle of its next answer")
def step_model_breaks_off(context, role):
    """The model's next stream stops halfway with an error event (a request that does not stream gets a 500)."""
    context.world.model.fails(role, "breaks-off", times=1)


@given("the {role:ModelRole} model takes {seconds:g} seconds to answer once")
def step_model_slow_once(context, role, seconds):
    """The model's next answer is late by that many seconds."""
    context.world.model.is_slow(role, seconds, times=1)


@given("the {role:ModelRole} model takes {seconds:g} seconds to answer")
def step_model_slow(context, role, seconds):
    """Every answer of the model is late by that many seconds."""
    context.world.model.is_slow(role, seconds)


@then('the prompt sent to the language model contains "{text:Q}"')
def step_prompt_contains(context, text):
    """The latest prompt includes the text."""
    prompt = context.world.model.last_prompt()
    assert text in prompt, f"expected the prompt to contain {text!r}; the prompt was:\n{prompt}"


@then('the language model was given the conversation "{first:Q}" then "{second:Q}"')
def step_conversation_given(context, first, second):
    """The latest chat request's messages, as "role: text", in order and nothing else."""
    messages = context.world.model.chats()[-1].messages
    seen = [f"{m['role']}: {m['content']}" for m in messages]
    assert seen == [first, second], f"expected the model to be given {[first, second]}, it was given {seen}"


@then('the prompt sent to the language model does not contain "{text:Q}"')
def step_prompt_lacks(context, text):
    """The latest prompt leaves the text out."""
    prompt = context.world.model.last_prompt()
    assert text not in prompt, f"expected the prompt not to contain {text!r}; the prompt was:\n{prompt}"


@then('no prompt sent to the language model contains "{text:Q}"')
def step_no_prompt_contains(context, text):
    """No chat prompt of the whole scenario, not only the last, includes the text."""
    prompts = [e.prompt for e in context.world.model.chats()]
    assert prompts, "expected the language model to have been asked something, it was asked nothing"
    leaks = [p for p in prompts if text in p]
    assert not leaks, f"expected no prompt to contain {text!r}; {len(leaks)} of {len(prompts)} did:\n{leaks[0]}"


@then("the prompt sent to the language model tells it to answer only from the passages")
def step_prompt_grounded(context):
    """The latest prompt carries the grounding instructions."""
    prompt = context.world.model.last_prompt()
    assert GROUNDING_MARKER in prompt, f"expected grounding instructions ({GROUNDING_MARKER!r}) in:\n{prompt}"


@then("the language model was not asked for an answer")
def step_model_not_asked(context):
    """No chat request reached the model in this scenario."""
    asked = context.world.model.chats()
    assert not asked, f"expected no chat request, the model was asked {len(asked)} time(s): {asked[0].prompt!r}"


@then("the {role:ModelRole} model was asked once")
def step_model_asked_once(context, role):
    """Exactly one request reached that model."""
    asked = context.world.model.requests_to(role)
    assert len(asked) == 1, f"expected the {role} model to be asked once, it was asked {len(asked)} time(s)"


@then("the language model was asked {count:d} times")
def step_model_asked_times(context, count):
    """Exactly that many chat requests reached the model."""
    asked = context.world.model.chats()
    assert len(asked) == count, f"expected {count} chat requests to the model, it received {len(asked)}"
