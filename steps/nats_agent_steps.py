"""Steps for agents over NATS: messages between agents, tasks shared by workers."""

from collections import Counter

from behave import given, then, when

from harness.drivers.messaging import DELIVERY_BUDGET_S
from harness.waiting import wait_until


@given('the agents "{a:Name}", "{b:Name}" and "{c:Name}" of the tenant listen on the message bus')
def step_agents_listen(context, a, b, c):
    """Three agents of the default tenant listen on the tenant's agent subject."""
    for agent in (a, b, c):
        context.world.messaging.agent_inbox(agent)


@given('the agent "{agent:Name}" of the tenant listens on the message bus')
@given('the agent "{agent:Name}" of the tenant "{tenant:Name}" listens on the message bus')
def step_agent_listens(context, agent, tenant=None):
    """An agent, played by the suite, listens on its tenant's agent subject."""
    context.world.messaging.agent_inbox(agent, tenant)


@when('"{source:Name}" sends "{text:Q}" to "{target:Name}"')
def step_send(context, source, text, target):
    """One agent of the default tenant sends a message to another."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.send_agent_message(source, target, text))


@then('"{agent:Name}" receives "{text:Q}" from "{source:Name}"')
def step_receives(context, agent, text, source):
    """The agent is handed that message, once, and nothing else."""
    inbox = context.world.messaging.received[(None, agent)]
    wait_until(lambda: inbox, DELIVERY_BUDGET_S, f"{agent} to receive a message")
    got = [(m.source_agent_id, m.content) for m in inbox]
    assert got == [(source, text)], f"expected {agent} to receive only {text!r} from {source}, it received {got}"


@then('"{agent:Name}" has received nothing')
@then('"{agent:Name}" of the tenant "{tenant:Name}" has received nothing')
def step_received_nothing(context, agent, tenant=None):
    """Nothing but a probe, sent after the message, reached the agent."""
    # A probe sent after the message arrives after it; once the probe is in, nothing else is coming.
    messaging = context.world.messaging
    inbox = messaging.received[(tenant, agent)]
    messaging.send_agent_message("probe", agent, "probe", tenant)
    wait_until(lambda: inbox, DELIVERY_BUDGET_S, f"the probe to reach {agent}")
    got = [m.content for m in inbox if m.source_agent_id != "probe"]
    assert got == [], f"expected {agent} to have received nothing, it received {got}"


@given("{count:d} instances of the agent service take tasks from the message bus")
def step_task_workers(context, count):
    """Agent service processes worker-1 to worker-N share the task subjects in the queue group agent.workers."""
    context.world.messaging.task_workers([f"worker-{i}" for i in range(1, count + 1)])


@given("the agent service takes tasks from the message bus")
def step_agent_service_workers(context):
    """The agent service runs; its task worker in the queue group agent.workers serves every tenant."""
    context.world.messaging.service_workers("agent")


@when('the manager submits {count:d} tasks to the agent "{agent:Name}"')
@when('the manager submits {count:d} task to the agent "{agent:Name}"')
@when('the manager submits {count:d} task to the agent "{agent:Name}" as {wire_format:WireFormat}')
def step_submit_tasks(context, count, agent="helper", wire_format="json"):
    """The manager listens for results, then submits the tasks, in that wire format."""
    context.world.messaging.submit_tasks(count, agent, wire_format)


@then("{count:d} results come back within {seconds:d} seconds")
def step_results_back(context, count, seconds):
    """Exactly that many results arrive on the tenant's results subject."""
    results = context.world.messaging.task_results.messages
    wait_until(lambda: len(results) >= count, seconds, f"{count} task results")
    assert len(results) == count, f"expected {count} results, {len(results)} came back"


@then("every task was done exactly once")
def step_tasks_once(context):
    """Each submitted task has one result, and no task has two."""
    messaging = context.world.messaging
    results, submitted = messaging.task_results.messages, messaging.submitted_tasks
    wait_until(lambda: {r.metadata["task_id"] for r in results} >= set(submitted), DELIVERY_BUDGET_S,
               "a result for every task")
    done = Counter(r.metadata["task_id"] for r in results)
    twice = {task: n for task, n in done.items() if n != 1}
    assert sorted(done) == sorted(submitted) and not twice, (
        f"expected each of {len(submitted)} tasks done once, seen {len(done)} tasks, done more than once: {twice}"
    )


@then('the result says the task failed, naming "{named:Q}"')
def step_task_failed(context, named):
    """The one result reports the failure and its cause, rather than the task vanishing."""
    results = context.world.messaging.task_results.messages
    wait_until(lambda: results, DELIVERY_BUDGET_S, "the task's result")
    result = results[0]
    assert result.metadata.get("status") == "failed", f"expected a failed task, the result was {result.metadata}"
    assert named in result.content, f"expected the failure to name {named!r}, it said {result.content!r}"


@then('every result says "{text:Q}"')
def step_results_say(context, text):
    """Every result carries the agent's answer."""
    contents = {r.content for r in context.world.messaging.task_results.messages}
    assert contents == {text}, f"expected every result to say {text!r}, they said {contents}"


@then("more than one worker did some of the work")
def step_shared(context):
    """The results name more than one worker."""
    shares = Counter(r.metadata["worker_id"] for r in context.world.messaging.task_results.messages)
    assert len(shares) > 1, f"expected the queue group to share tasks, shares were {dict(shares)}"


@when('"{source:Name}" sends "{text:Q}" to "{target:Name}" as part of a traced operation')
def step_send_traced(context, source, text, target):
    """The sender sends inside an operation of its own trace."""
    messaging = context.world.messaging
    context.world.attempt(lambda: messaging.send_traced_agent_message(source, target, text))


@then('"{agent:Name}" handles the message within the sender\'s trace')
def step_handled_in_trace(context, agent):
    """The W3C trace context crossed NATS: the receiving agent ran in the sender's trace."""
    trace_id = context.world.outcome.expect_result("the message sent")
    traces = context.world.messaging.traces_seen[(None, agent)]
    wait_until(lambda: traces, DELIVERY_BUDGET_S, f"{agent} to handle the message")
    assert traces == [trace_id], f"expected {agent} to run in the trace {trace_id}, it ran in {traces}"


# agents hosted by the agent service ---------------------------------------------------------------

ANSWER_BUDGET_S = 15.0  # the receiving agent asks the language model before its answer comes back


@given('the agent service hosts the agents "{a:Name}", "{b:Name}" and "{c:Name}"')
@given('the agent service hosts the agent "{a:Name}" of the tenant "{tenant:Name}"')
@when('the tenant defines the agents "{a:Name}", "{b:Name}" and "{c:Name}" in the agent service again')
def step_hosted_agents(context, a, b=None, c=None, tenant=None):
    """Agents defined through the agent API, without tools: what they answer is the model's answer."""
    for agent in filter(None, (a, b, c)):
        context.world.services.create_agent(agent, tenant=tenant, tools=())


@when('"{source:Name}" of the agent service sends "{text:Q}" to "{target:Name}"')
def step_hosted_send(context, source, text, target):
    """The agent API sends the request over the message bus on behalf of its agent."""
    services = context.world.services
    context.world.attempt(lambda: services.send_between_agents(source, target, text))


@given('"{source:Name}" of the agent service has asked "{target:Name}" "{text:Q}" and got the answer')
def step_hosted_exchange(context, source, target, text):
    """A request and its answer, both kept by the agent service."""
    services = context.world.services
    sent = services.send_between_agents(source, target, text)
    assert sent.status_code == 202, f"expected the message sent (202), got {sent.status_code}: {sent.text}"
    wait_until(lambda: services.messages_received_by(source), ANSWER_BUDGET_S, f"{source} to receive the answer")


@then('the agent service accepted the message for sending')
def step_hosted_sent(context):
    """202 with the message's id, from and to whom."""
    response = context.world.outcome.expect_result("the agent API's answer")
    data = response.json().get("data") or {}
    assert response.status_code == 202 and data.get("message_id"), (
        f"expected 202 with the sent message's id, got {response.status_code}: {response.text}")


@then('"{agent:Name}" of the agent service receives the request "{text:Q}" from "{source:Name}"')
def step_hosted_receives_request(context, agent, text, source):
    """The agent service lists that request, once, as the only message its agent received."""
    _received_only(context, agent, (source, "text", text))


@then('"{agent:Name}" of the agent service receives the answer "{text:Q}" from "{source:Name}"')
def step_hosted_receives_answer(context, agent, text, source):
    """The agent service lists that answer, once, as the only message its agent received."""
    _received_only(context, agent, (source, "reply", text))


def _received_only(context, agent, expected):
    """(source, agent_message.message_type, content) of the one message the agent received."""
    services = context.world.services
    wait_until(lambda: services.messages_received_by(agent), ANSWER_BUDGET_S, f"{agent} to receive a message")
    got = [(m["source_agent_id"], m["message_type"], m["content"]) for m in services.messages_received_by(agent)]
    source, kind, text = expected
    assert got == [expected], f"expected {agent} to have received only the {kind} {text!r} from {source}, got {got}"


@then('"{agent:Name}" of the agent service has received nothing')
@then('"{agent:Name}" of the tenant "{tenant:Name}" of the agent service has received nothing')
def step_hosted_nothing(context, agent, tenant=None):
    """Checked after the exchange it could have been part of is over (a later Then waited for it)."""
    got = context.world.services.messages_received_by(agent, tenant=tenant)
    assert got == [], f"expected {agent} to have received nothing, it received {got}"
