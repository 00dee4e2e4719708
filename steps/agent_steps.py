"""Steps for agents: who they serve, what they are asked, what they answer."""

from behave import given, then, when

from harness.drivers import agents


@given('the tenant has a support agent "{name:Name}"')
@given('the tenant "{tenant:Name}" has a support agent "{name:Name}"')
def step_agent(context, name, tenant=None):
    context.world.agents = getattr(context.world, "agents", {})
    context.world.agents[tenant] = agents.agent_for(context.world, name, tenant=tenant)


@when('the user tells the agent "{message:Q}" in session "{session:Q}"')
@when('the user asks the agent "{message:Q}" in session "{session:Q}"')
def step_ask_agent(context, message, session):
    context.world.reply = agents.ask(context.world, context.world.agents[None], message, session)


@when('a user of the tenant "{tenant:Name}" asks their agent "{message:Q}" in session "{session:Q}"')
def step_ask_tenant_agent(context, tenant, message, session):
    context.world.reply = agents.ask(context.world, context.world.agents[tenant], message, session)


@when('the agent "{name:Name}" is asked to act for the tenant "{tenant:Name}"')
def step_act_for_other(context, name, tenant):
    agent = context.world.agents[None]
    assert agent.agent_id == name, f"this scenario has no agent called {name!r}"
    context.world.attempt(lambda: agents.ask(context.world, agent, "Show me your documents.", "s", as_tenant=tenant))


@then('the agent replies "{text:Q}"')
def step_agent_replies(context, text):
    reply = context.world.reply.text
    assert reply == text, f"expected the agent to reply {text!r}, it replied {reply!r}"


@then('the agent does not reply "{text:Q}"')
def step_agent_not_replies(context, text):
    assert context.world.reply.text != text, f"expected any reply but {text!r}, and that is what the agent said"


@then('the agent cites "{title:Q}"')
def step_agent_cites(context, title):
    sources = context.world.reply.sources
    assert title in sources, f"expected the agent to cite {title!r}, it cited {sources}"


@then("the agent cites no source")
def step_agent_no_source(context):
    assert context.world.reply.sources == [], f"expected no sources, the agent cited {context.world.reply.sources}"


@then("the agent used its knowledge base search tool")
def step_agent_used_kb(context):
    used = [r.tool for r in context.world.reply.tool_results if r.passages]
    assert "knowledge_base_search" in used, f"expected the knowledge base search to find passages, tools used: {used}"


@then("the agent refuses because it belongs to another tenant")
def step_agent_refuses(context):
    error = context.world.error
    assert error is not None, "expected the agent to refuse, it answered"
    assert "does not act for tenant" in str(error), f"expected a tenant refusal, got: {error}"
