"""Steps for what a service needs: its health and readiness probes, and how it answers when a server or a
service it depends on is gone, broken, slow, or loses an answer on the way back."""

from behave import given, then, when

from ai_contract import routes
from harness.waiting import wait_until

# The services and what they depend on, as the specs name them, to the names the platform gives them.
SERVICES = {"gateway": "gateway", "RAG": "rag", "agent": "agent", "query": "query"}
DEPENDENCIES = {"the model provider": "model provider", "NATS": "nats", "the database": "database",
                "the gateway service": "gateway", "the RAG service": "rag", "the agent service": "agent"}
READINESS_BUDGET_S = 10  # a readiness check notices a dependency gone at its next probe; NATS's client at once


def _service(name: str) -> str:
    assert name in SERVICES, f"no service called {name!r}; the platform has {', '.join(SERVICES)}"
    return SERVICES[name]


def _dependency(words: str) -> str:
    assert words in DEPENDENCIES, f"no dependency called {words!r}; known: {', '.join(DEPENDENCIES)}"
    return DEPENDENCIES[words]


def _named(words: str) -> list[str]:
    """'the database, the gateway service and NATS' -> the platform's names, sorted."""
    return sorted(_dependency(w.strip()) for w in words.replace(" and ", ", ").split(","))


def _readiness(services, service: str) -> tuple[int, dict]:
    answer = services.probe(service, routes.READY, "readiness-probe", "readiness-check")
    return answer.status_code, answer.json()


@when('the operator probes the {service:Phrase} service\'s health and readiness with the correlation id "{cid:Q}"')
def step_probe(context, service, cid):
    """GET /health and GET /ready, without a key, each with a request id of its own and the correlation id."""
    services, name = context.world.services, _service(service)
    services.url(name)  # started before the clock
    context.world.attempt(lambda: {probe: services.probe(name, route, f"{cid}-{probe}", cid)
                                   for probe, route in (("health", routes.HEALTH), ("ready", routes.READY))})


@then("both probes answer 200 with the request and correlation ids they were sent")
def step_probes_ok(context):
    """Each probe is a success envelope carrying, in body and headers, the ids its request carried."""
    answers = context.world.outcome.expect_result("the probes' answers")
    for probe, answer in answers.items():
        body = answer.json()
        sent = (answer.request.headers["X-Request-ID"], answer.request.headers["X-Correlation-ID"])
        seen = (answer.status_code, body.get("success"), body.get("request_id"), body.get("correlation_id"),
                answer.headers.get("X-Request-ID"), answer.headers.get("X-Correlation-ID"))
        assert seen == (200, True, *sent, *sent), f"expected /{probe} to answer 200 echoing {sent}, seen {seen}: {body}"


@then("the readiness answer says it checked {needs:Phrase}")
def step_checked(context, needs):
    """The ready answer lists every dependency the service checked, and no other."""
    data = context.world.outcome.expect_result("the probes' answers")["ready"].json().get("data") or {}
    assert sorted(data.get("dependencies") or []) == _named(needs), (
        f"expected the readiness answer to list {_named(needs)} as checked, it said {data}")


@given("an instance of the {service:Phrase} service of the scenario's own, reaching what it needs through links "
       "that can be cut")
@given("an instance of the {service:Phrase} service of the scenario's own that gives up on a dependency after "
       "{seconds:g} second, reaching what it needs through links that can be cut")
def step_own_instance(context, service, seconds=None):
    """The scenario's requests to that service go to an instance of its own, whose every dependency is behind a
    link the scenario can cut; it is ready before the step ends."""
    context.world.services.own_instance_behind_links(_service(service), timeout_s=seconds)


@when("the link from the {service:Phrase} service to {dependency:Phrase} is cut")
def step_cut(context, service, dependency):
    """Nothing passes between the service and the dependency any more; open connections are dropped."""
    context.world.faults.link_of(_dependency(dependency)).cut()


@when("the link from the {service:Phrase} service to {dependency:Phrase} is restored")
def step_restore(context, service, dependency):
    """The link carries traffic again."""
    context.world.faults.link_of(_dependency(dependency)).restore()


@then("the {service:Phrase} service's readiness check answers 503 naming {dependency:Phrase} alone")
def step_not_ready(context, service, dependency):
    """Soon a 503 DEPENDENCY_UNAVAILABLE whose details name the dependency, and none that is still there."""
    services, name, missing = context.world.services, _service(service), _dependency(dependency)

    def names_it():
        status, body = _readiness(services, name)
        return (status, body) if missing in ((body.get("error") or {}).get("details") or {}).get("dependencies",
                                                                                              {}) else None
    status, body = wait_until(names_it, READINESS_BUDGET_S, f"the {service} service's readiness to name {missing}")
    error = body.get("error") or {}
    seen = (status, error.get("code"), sorted(error.get("details", {}).get("dependencies", {})))
    assert seen == (503, "DEPENDENCY_UNAVAILABLE", [missing]), (
        f"expected 503 DEPENDENCY_UNAVAILABLE naming only {missing}, seen {seen}: {body}")


@then("the {service:Phrase} service's readiness check answers 200 again within {seconds:d} seconds")
def step_ready_again(context, service, seconds):
    """Without a restart, the readiness check passes once the dependency is back."""
    services, name = context.world.services, _service(service)
    wait_until(lambda: _readiness(services, name)[0] == 200, seconds, f"the {service} service to be ready again")


@given("{dependency:Phrase} cannot be reached")
def step_unreachable(context, dependency):
    """Connections to the dependency are dropped as they come, as from a crashed or unplugged server."""
    context.world.faults.break_link(_dependency(dependency), "unreachable")


@given("{dependency:Phrase} answers with a bare HTTP 500")
def step_bare_500(context, dependency):
    """Something in front of the dependency answers a plain 500 page, no envelope: a crashed server behind a
    load balancer."""
    context.world.faults.break_link(_dependency(dependency), "bare 500")


@given("{dependency:Phrase} drops the connection once the request has arrived")
def step_answer_lost(context, dependency):
    """The dependency serves the request; its answer is lost as the connection drops on the way back."""
    context.world.faults.break_link(_dependency(dependency), "answer lost")


@given("{dependency:Phrase} answers only after {seconds:g} seconds")
def step_slow(context, dependency, seconds):
    """The dependency's answers come that late, over its link."""
    context.world.faults.break_link(_dependency(dependency), "slow", seconds=seconds)


@when('a user of the tenant asks "{question:Q}" through {door:Phrase}')
def step_ask(context, question, door):
    """A question through one of the platform's doors: the query API in a mode, the agent API, the RAG API."""
    services = context.world.services
    services.ready_to_ask(door)  # the service and the tenant's assistant agent, before the clock
    context.world.attempt(lambda: services.ask_through(door, question))


@then('the caller gets {status:d} "{code:Q}" naming {dependency:Phrase}')
def step_failure_named(context, status, code, dependency):
    """The contract's envelope for a failed dependency: the status, the code, and the dependency in details."""
    response = context.world.outcome.expect_result("the answer to the caller")
    try:
        body = response.json()
    except ValueError:
        body = {"unparsed": response.text[:300]}
    error = body.get("error") or {}
    seen = (response.status_code, error.get("code"), (error.get("details") or {}).get("dependency"))
    expected = (status, code, _dependency(dependency))
    assert seen == expected, f"expected {expected}, seen {seen}: {body}"
    for key in ("correlation_id", "request_id"):
        assert body.get(key), f"expected the error envelope to carry {key}, it is {body}"


@then('every call the platform made to the language model about "{text:Q}" was made once')
def step_called_once(context, text):
    """A request that changes something or costs a model call is never sent twice: each endpoint of the model
    saw the text once (a retried POST shows up as two)."""
    calls = context.world.model.calls_about(text)
    assert calls and all(count == 1 for count in calls.values()), (
        f"expected each model endpoint to be asked about {text!r} exactly once, it was asked {calls}")
