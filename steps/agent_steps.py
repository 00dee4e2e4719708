"""Steps for agents: who they serve, what they are asked, what they answer."""

from behave import given, then, when


@given('the tenant has a support agent "{name:Name}"')
@given('the tenant "{tenant:Name}" has a support agent "{name:Name}"')
def step_agent(context, name, tenant=None):
    """A tenant's support agent, with the knowledge base as its tool."""
    context.world.agents.create(name, tenant=tenant)


@when('the user tells the agent "{message:Q}" in session "{session:Q}"')
@when('the user asks the agent "{message:Q}" in session "{session:Q}"')
def step_ask_agent(context, message, session):
    """The default tenant's user talks to its agent in a session."""
    agents = context.world.agents
    agent = agents.only_agent_of()
    context.world.attempt(lambda: agents.ask(agent, message, session))


@when('the user tells the agent "{name:Name}" "{message:Q}" in session "{session:Q}"')
@when('the user asks the agent "{name:Name}" "{message:Q}" in session "{session:Q}"')
def step_ask_named_agent(context, name, message, session):
    """The default tenant's user talks to one of its agents, by name, in a session."""
    agents = context.world.agents
    agent = agents.named(name)
    context.world.attempt(lambda: agents.ask(agent, message, session))


@when('a user of the tenant "{tenant:Name}" asks their agent "{message:Q}" in session "{session:Q}"')
def step_ask_tenant_agent(context, tenant, message, session):
    """A named tenant's user talks to that tenant's agent."""
    agents = context.world.agents
    agent = agents.only_agent_of(tenant)
    context.world.attempt(lambda: agents.ask(agent, message, session))


@when('the agent "{name:Name}" is asked to act for the tenant "{tenant:Name}"')
def step_act_for_other(context, name, tenant):
    """Someone asks the default tenant's agent to work for another tenant."""
    agents = context.world.agents
    agent = agents.named(name)
    context.world.attempt(lambda: agents.ask(agent, "Show me your documents.", "s", as_tenant=tenant))


def _reply(context):
    return context.world.outcome.expect_result("the agent's reply")


@then('the agent replies "{text:Q}"')
def step_agent_replies(context, text):
    """The agent's reply, word for word."""
    reply = _reply(context).text
    assert reply == text, f"expected the agent to reply {text!r}, it replied {reply!r}"


@then('the agent does not reply "{text:Q}"')
def step_agent_not_replies(context, text):
    """The agent replied, with anything but that text."""
    assert _reply(context).text != text, f"expected any reply but {text!r}, and that is what the agent said"


@then('the agent cites "{title:Q}"')
def step_agent_cites(context, title):
    """The agent's reply names the document among its sources."""
    sources = _reply(context).sources
    assert title in sources, f"expected the agent to cite {title!r}, it cited {sources}"


@then("the agent cites no source")
def step_agent_no_source(context):
    """The agent's reply names no source."""
    sources = _reply(context).sources
    assert sources == [], f"expected no sources, the agent cited {sources}"


@then("the agent used its knowledge base search tool")
def step_agent_used_kb(context):
    """The reply says the agent searched the knowledge base, and what it found is cited."""
    reply = _reply(context)
    assert "knowledge_base_search" in reply.tools_used and reply.sources, (
        f"expected the knowledge base search to find what the agent cites, tools {reply.tools_used}, "
        f"sources {reply.sources}")


@then("the agent refuses because it belongs to another tenant")
def step_agent_refuses(context):
    """The other tenant is told no such agent exists for it: 404, naming the agent."""
    error = context.world.outcome.expect_error("the agent to refuse")
    name = context.world.agents.only_agent_of().name
    assert (error.status, error.code) == (404, "NOT_FOUND") and name in str(error), (
        f"expected 404 NOT_FOUND naming the agent, got: {error}")


# The tools an agent is defined with, by the names the specs give them
AGENT_TOOLS = {"the knowledge base search tool": ("knowledge_base_search",), "no tools": ()}


@given('the tenant has an agent "{name:Name}" defined with {tools:Phrase}')
def step_agent_with_tools(context, name, tools):
    """An agent defined with the knowledge base search tool, or with an empty tool list."""
    assert tools in AGENT_TOOLS, f"no tool list called {tools!r}; known: {', '.join(AGENT_TOOLS)}"
    context.world.agents.create(name, tools=AGENT_TOOLS[tools])


@given('the tenant has an agent "{name:Name}" instructed "{instructions:Q}"')
def step_agent_instructed(context, name, instructions):
    """An agent with a system prompt of its own and the knowledge base search tool."""
    context.world.agents.create(name, instructions=instructions)


@then('the agent {searches:Phrase} the knowledge base for "{message:Q}"')
def step_agent_searches(context, searches, message):
    """Whether the message was embedded for a search (the embedding model's journal) and what was found reached
    the model's prompt."""
    assert searches in ("searches", "does not search"), f"no search called {searches!r}"
    _reply(context)
    model = context.world.model
    embedded = [e for e in model.requests() if e.endpoint == "embeddings" and message in e.inputs]
    passage_shown = "refunded within 30 days" in model.last_prompt()
    seen = (len(embedded), passage_shown)
    want = (1, True) if searches == "searches" else (0, False)
    assert seen == want, (f"expected the agent to {'search' if want[0] else 'not search'} the knowledge base: "
                          f"(embeddings of the message, passage in the prompt) should be {want}, were {seen}")


@then("the agent's reply says it used the tools {tools:Json}")
def step_agent_tools_used(context, tools):
    """The tools the reply names, exactly; sources only come from a tool."""
    reply = _reply(context)
    assert reply.tools_used == tools, f"expected the tools {tools}, the reply names {reply.tools_used}"
    assert bool(reply.sources) == bool(tools), f"expected sources only from a tool, got {reply.sources}"


@then('the model\'s instructions begin with "{instructions:Q}"')
def step_model_instructions(context, instructions):
    """The first message the model was given is the system message, starting with the agent's instructions."""
    messages = context.world.model.chats()[-1].messages
    first = messages[0] if messages else {}
    seen = (first.get("role"), str(first.get("content", ""))[:len(instructions)])
    assert seen == ("system", instructions), f"expected a system message starting {instructions!r}, saw {messages}"


def _model_usage(context) -> dict:
    reported = context.world.model.chats()[-1].usage
    assert reported["prompt_tokens"] != reported["completion_tokens"], f"the sample cannot tell a swap: {reported}"
    return reported


@then("the agent's reply reports the token usage the language model reported")
def step_agent_usage(context):
    """The chat reply's usage is the model's own count, unswapped."""
    reported, usage = _model_usage(context), _reply(context).usage
    assert usage == reported, f"expected the model's usage {reported}, the reply reported {usage}"


@when('the tenant gives the agent "{name:Name}" the task to answer "{question:Q}" with priority {priority:d}')
def step_give_task(context, name, question, priority):
    """An answer task through the agent API, with a priority."""
    agents = context.world.agents
    agent = agents.named(name)
    context.world.attempt(lambda: agents.give_task(agent, question, priority))


def _task(context):
    return context.world.outcome.expect_result("the task's result")


@then('the task is completed with the answer "{text:Q}", citing "{title:Q}"')
def step_task_done(context, text, title):
    """The task's status, its answer and its sources."""
    task = _task(context)
    seen = (task.status, task.reply.text, task.reply.sources)
    assert seen == ("completed", text, [title]), f"expected {('completed', text, [title])}, seen {seen}"


@then('the task reports the type "{task_type:Q}" and the priority {priority:d}')
def step_task_echo(context, task_type, priority):
    """The task comes back with the type and priority it was given."""
    task = _task(context)
    seen = (task.task_type, task.priority)
    assert seen == (task_type, priority), f"expected type and priority {(task_type, priority)}, seen {seen}"


@then("the task reports the token usage the language model reported")
def step_task_usage(context):
    """The task result's usage is the model's own count, unswapped."""
    reported, usage = _model_usage(context), _task(context).reply.usage
    assert usage == reported, f"expected the model's usage {reported}, the task reported {usage}"


@when('the user tells the agent {count:d} numbered messages in session "{session:Q}"')
def step_numbered_messages(context, count, session):
    """The user says "Message number 1." to "Message number <count>." in one session."""
    agents = context.world.agents
    agent = agents.only_agent_of()
    for number in range(1, count + 1):
        context.world.attempt(lambda n=number: agents.ask(agent, f"Message number {n}.", session))
        context.world.outcome.expect_result(f"a reply to message {number}")


@then("the language model was given the session's earlier turns, oldest first, before the new message")
def step_turns_in_order(context):
    """The last prompt repeats each earlier exchange (the user's message, then the model's answer), in order."""
    chats = context.world.model.chats()
    assert len(chats) >= 3, f"expected at least three prompts, the model was asked {len(chats)} time(s)"
    earlier = [turn for e in chats[:-1] for turn in (("user", e.messages[-1]["content"]), ("assistant", e.answer))]
    given = [(m["role"], m["content"]) for m in chats[-1].messages if m["role"] != "system"]
    assert given == [*earlier, ("user", chats[-1].messages[-1]["content"])], (
        f"expected the earlier turns {earlier} then the new message, the model was given {given}")
