"""Steps for agents over NATS: messages between agents, tasks shared by workers."""

from behave import given, then, when

from ai_platform import codec
from ai_platform.messaging import subjects
from harness.drivers.messaging import bus_of, tenant_id, wait_until

# agents -----------------------------------------------------------------------------------------

@given('the agents "{a:Name}", "{b:Name}" and "{c:Name}" of the tenant listen on the message bus')
def step_agents_listen(context, a, b, c):
    for agent in (a, b, c):
        context.world.inboxes[(None, agent)] = bus_of(context).agent_inbox(tenant_id(context), agent)


@given('the agent "{agent:Name}" of the tenant "{tenant:Name}" listens on the message bus')
def step_agent_listens(context, agent, tenant):
    context.world.inboxes[(tenant, agent)] = bus_of(context).agent_inbox(tenant_id(context, tenant), agent)


@when('"{source:Name}" sends "{text:Q}" to "{target:Name}"')
def step_send(context, source, text, target):
    messaging = bus_of(context)
    messaging.run(messaging.client.send_agent_message(tenant_id(context), source, target, text))


@then('"{agent:Name}" receives "{text:Q}" from "{source:Name}"')
def step_receives(context, agent, text, source):
    inbox = context.world.inboxes[(None, agent)]
    wait_until(lambda: inbox.received, 5, f"{agent} to receive a message")
    got = [(m.source_agent_id, m.content) for m in inbox.received]
    assert got == [(source, text)], f"expected {agent} to receive only {text!r} from {source}, it received {got}"


@then('"{agent:Name}" has received nothing')
@then('"{agent:Name}" of the tenant "{tenant:Name}" has received nothing')
def step_received_nothing(context, agent, tenant=None):
    # A probe sent after the message arrives after it; once the probe is in, nothing else is coming.
    inbox, messaging = context.world.inboxes[(tenant, agent)], bus_of(context)
    messaging.run(messaging.client.send_agent_message(tenant_id(context, tenant), "probe", agent, "probe"))
    wait_until(lambda: inbox.received, 5, f"the probe to reach {agent}")
    got = [m.content for m in inbox.received if m.source_agent_id != "probe"]
    assert got == [], f"expected {agent} to have received nothing, it received {got}"


# tasks ------------------------------------------------------------------------------------------

@given("{count:d} agent workers of the tenant take tasks from the message bus")
def step_task_workers(context, count):
    messaging = bus_of(context)
    context.world.task_workers = [messaging.task_worker(tenant_id(context), f"worker-{i}") for i in range(1, count + 1)]


@when("the manager submits {count:d} tasks to the agent workers")
def step_submit_tasks(context, count):
    messaging, tenant = bus_of(context), tenant_id(context)
    results = context.world.task_results = []

    async def collect(msg):
        results.append(codec.decode(msg.data).data)

    messaging.run(messaging.client.bus.nc.subscribe(subjects.agent_results(tenant), cb=collect))
    context.world.submitted = [f"task-{i:02d}" for i in range(1, count + 1)]
    for task_id in context.world.submitted:
        messaging.run(messaging.client.submit_task(tenant, task_id, "helper", "answer",
                                                   {"question": f"Please handle task number {task_id}."}))


@then("{count:d} results come back within {seconds:d} seconds")
def step_results_back(context, count, seconds):
    wait_until(lambda: len(context.world.task_results) >= count, seconds, f"{count} task results")


@then("every task was done exactly once")
def step_tasks_once(context):
    done = sorted(r.metadata["task_id"] for r in context.world.task_results)
    handled = sum(w.handled for w in context.world.task_workers)
    assert done == context.world.submitted, f"expected each of {len(context.world.submitted)} tasks once, got {done}"
    assert handled == len(done), f"expected {len(done)} executions in all, the workers ran {handled}"


@then('every result says "{text:Q}"')
def step_results_say(context, text):
    contents = {r.content for r in context.world.task_results}
    assert contents == {text}, f"expected every result to say {text!r}, they said {contents}"


@then("more than one worker did some of the work")
def step_shared(context):
    shares = {w.worker_id: w.handled for w in context.world.task_workers}
    assert sum(1 for n in shares.values() if n) > 1, f"expected the queue group to share tasks, shares were {shares}"
