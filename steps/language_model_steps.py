"""Steps that script the language model and read what it was asked."""

from behave import given, then

from harness.llm import Fault, Rule
from harness.session import SCRIPTED_MODELS

# The platform's grounding instruction, in the words the product documentation promises.
GROUNDING_MARKER = "using only the numbered passages"


@given('the language model answers "{answer:Q}" when asked about "{words:Q}"')
def step_answer_when_asked(context, answer, words):
    context.world.llm.add_rule(Rule(answer, (words,), anywhere=False))


@given('the language model answers "{answer:Q}" only when the prompt mentions "{words:Q}"')
def step_answer_when_prompt_mentions(context, answer, words):
    context.world.llm.add_rule(Rule(answer, (words,), anywhere=True))


@given('the {role:ModelRole} model answers "{answer:Q}"')
def step_model_answers(context, role, answer):
    context.world.llm.add_rule(Rule(answer, (), anywhere=True, model=SCRIPTED_MODELS[role]))


@given("the {role:ModelRole} model fails with HTTP {status:d}")
def step_model_fails(context, role, status):
    context.world.llm.add_fault(Fault("status", model=SCRIPTED_MODELS[role], status=status))


@given("the {role:ModelRole} model sends a malformed answer")
def step_model_malformed(context, role):
    context.world.llm.add_fault(Fault("malformed", model=SCRIPTED_MODELS[role]))


@given("the {role:ModelRole} model drops the connection")
def step_model_drops(context, role):
    context.world.llm.add_fault(Fault("drop", model=SCRIPTED_MODELS[role]))


@given("the {role:ModelRole} model takes {seconds:g} seconds to answer once")
def step_model_slow_once(context, role, seconds):
    context.world.llm.add_fault(Fault("delay", model=SCRIPTED_MODELS[role], delay_s=seconds, remaining=1))
    context.world.model_delay_s = seconds


@given("the {role:ModelRole} model takes {seconds:g} seconds to answer")
def step_model_slow(context, role, seconds):
    context.world.llm.add_fault(Fault("delay", model=SCRIPTED_MODELS[role], delay_s=seconds))
    context.world.model_delay_s = seconds


@then('the prompt sent to the language model contains "{text:Q}"')
def step_prompt_contains(context, text):
    prompt = _last_prompt(context)
    assert text in prompt, f"expected the prompt to contain {text!r}; the prompt was:\n{prompt}"


@then('the prompt sent to the language model does not contain "{text:Q}"')
def step_prompt_lacks(context, text):
    prompt = _last_prompt(context)
    assert text not in prompt, f"expected the prompt not to contain {text!r}; the prompt was:\n{prompt}"


@then('no prompt sent to the language model contains "{text:Q}"')
def step_no_prompt_contains(context, text):
    for entry in context.world.llm.journal("chat"):
        assert text not in entry.prompt, f"expected no prompt to contain {text!r}; one was:\n{entry.prompt}"


@then("the prompt sent to the language model tells it to answer only from the passages")
def step_prompt_grounded(context):
    prompt = _last_prompt(context)
    assert GROUNDING_MARKER in prompt, f"expected grounding instructions ({GROUNDING_MARKER!r}) in:\n{prompt}"


@then("the language model was not asked for an answer")
def step_model_not_asked(context):
    asked = context.world.llm.journal("chat")
    assert not asked, f"expected no chat request, the model was asked {len(asked)} time(s): {asked[0].prompt!r}"


@then("the {role:ModelRole} model was asked once")
def step_model_asked_once(context, role):
    model = SCRIPTED_MODELS[role]
    asked = [e for e in context.world.llm.journal() if e.model == model]
    assert len(asked) == 1, f"expected the {role} model ({model}) to be asked once, it was asked {len(asked)} time(s)"


def _last_prompt(context) -> str:
    asked = context.world.llm.journal("chat")
    assert asked, "expected a prompt to have been sent to the language model, none was"
    return asked[-1].prompt
