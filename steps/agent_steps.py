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
