"""Steps for the platform's APIs end to end: documents, the unified query, agents, over HTTP."""

from behave import given, then, when

from ai_contract.answers import NOT_IN_KNOWLEDGE_BASE
from ai_contract.ids import is_valid_id
from harness.drivers.knowledge_base import asked_with, similarity_threshold
from harness.waiting import TIME_LIMIT_MARGIN_S, wait_until

SERVICE_NAMES = {"RAG": "rag", "agent": "agent", "gateway": "gateway", "query": "query"}


def _data(response, what: str) -> dict:
    """The success envelope's data; anything else fails saying what came back."""
    assert response.status_code in (200, 201, 202), f"expected {what}, got {response.status_code}: {response.text}"
    return response.json()["data"]


@given('the tenant has added the document "{title:Q}" with the text "{text:Q}" through the RAG API')
@given('the tenant "{tenant:Name}" has added the document "{title:Q}" with the text "{text:Q}" through the RAG API')
def step_api_document(context, title, text, tenant=None):
    """A document stored through the RAG API, ingested before the answer."""
    added = context.world.services.add_document(title, text, tenant=tenant)
    assert added.status_code == 201, f"expected {title!r} stored (201), got {added.status_code}: {added.text}"


@when('the tenant adds the document "{title:Q}" with the text "{text:Q}" through the RAG API, for ingestion in '
      "the background")
def step_api_document_background(context, title, text):
    """The RAG API queues the document on JetStream for its ingestion worker."""
    services = context.world.services
    context.world.attempt(lambda: services.add_document(title, text, background=True))


@then("the RAG API accepts the document for ingestion with a message id")
def step_accepted(context):
    """202, with the document id and the id of the queued message."""
    response = context.world.outcome.expect_result("the RAG API's answer")
    data = _data(response, "the document accepted")
    assert response.status_code == 202 and data.get("message_id"), f"expected 202 with a message id, got {data}"


@when('the tenant deletes the document "{title:Q}" through the RAG API')
def step_api_delete(context, title):
    services = context.world.services
    context.world.attempt(lambda: services.delete_document(title))


@then("the RAG API confirms the deletion")
def step_deleted(context):
    """204: the document is gone, or will never be stored."""
    response = context.world.outcome.expect_result("the RAG API's answer")
    assert response.status_code == 204, f"expected 204 for the deletion, got {response.status_code}: {response.text}"


@then('the RAG API does not list "{title:Q}" once the ingestion queue is drained, within {seconds:d} seconds')
def step_not_listed_after_drain(context, title, seconds):
    """Every queued document has been taken and acknowledged (the operator's view of the ingestion consumer),
    and the document is not among the tenant's."""
    messaging = context.world.messaging

    def drained() -> bool:
        consumer = messaging.ingest_consumer()
        return consumer.num_pending == 0 and consumer.num_ack_pending == 0
    wait_until(drained, seconds, "the ingestion queue to be drained")
    titles = context.world.services.document_titles()
    assert title not in titles, f"expected {title!r} never to be stored after its deletion, the RAG API lists {titles}"


@then('the RAG API lists "{title:Q}" for the tenant within {seconds:d} seconds')
def step_listed(context, title, seconds):
    """The document list the API gives the tenant comes to hold the document."""
    services = context.world.services
    wait_until(lambda: title in services.document_titles(), seconds, f"the RAG API to list {title!r}")


@then('the RAG API lists "{title:Q}" for the tenant "{tenant:Name}"')
def step_lists_for_tenant(context, title, tenant):
    """The tenant's document list, read with the tenant's own key, is exactly that document."""
    titles = context.world.services.document_titles(tenant=tenant)
    assert titles == [title], f"expected the tenant {tenant} to see only {title!r}, it sees {titles}"


@then('the RAG API lists nothing for the tenant "{tenant:Name}"')
def step_lists_nothing(context, tenant):
    """The tenant's document list is empty."""
    titles = context.world.services.document_titles(tenant=tenant)
    assert titles == [], f"expected the tenant {tenant} to see no documents, it sees {titles}"


@given('the tenant has an agent "{name:Name}" with the knowledge base search tool, through the agent API')
@given('the tenant "{tenant:Name}" has an agent "{name:Name}" with the knowledge base search tool, through the '
       "agent API")
def step_api_agent(context, name, tenant=None):
    """An agent defined through the agent API."""
    context.world.services.create_agent(name, tenant=tenant)


@then('the agent API does not know the agent "{name:Name}" for the tenant "{tenant:Name}"')
def step_agent_unknown(context, name, tenant):
    """Another tenant asking for the agent gets 404 NOT_FOUND."""
    response = context.world.services.agent(name, tenant=tenant)
    code = (response.json().get("error") or {}).get("code")
    assert (response.status_code, code) == (404, "NOT_FOUND"), (
        f"expected 404 NOT_FOUND for another tenant's agent, got {response.status_code}: {response.text}")


@then('the agent API describes the agent "{name:Name}" to the tenant "{tenant:Name}" as "{title:Q}", with the tool '
      '"{tool:Q}"')
def step_agent_described(context, name, tenant, title, tool):
    """The tenant reads its agent back by its id: the name it was given and its tools."""
    _agent_described(context, name, title, [tool], tenant)


def _agent_described(context, name: str, title: str, tools: list[str], tenant: str | None = None) -> None:
    """The agent as the agent API reads it back by its id: its id, name and tools, exactly."""
    data = _data(context.world.services.agent(name, tenant=tenant), f"the agent {name!r}")
    seen = {key: data.get(key) for key in ("agent_id", "name", "tool_ids")}
    expected = {"agent_id": name, "name": title, "tool_ids": tools}
    assert seen == expected, f"expected the agent described as {expected}, seen {seen}"


@when('the user tells the agent "{name:Name}" "{message:Q}" in the conversation "{conversation:Q}" through the '
      "agent API")
@when('the user asks the agent "{name:Name}" "{message:Q}" in the conversation "{conversation:Q}" through the '
      "agent API")
def step_api_chat(context, name, message, conversation):
    """A turn of a conversation with the agent, through the agent API."""
    services = context.world.services
    context.world.attempt(lambda: services.chat(name, message, conversation))


@then('the agent API replies "{text:Q}"')
def step_api_reply(context, text):
    """The agent's reply, word for word."""
    data = _data(context.world.outcome.expect_result("the agent's reply"), "the agent's reply")
    assert data["message"] == text, f"expected the agent to reply {text!r}, it replied {data['message']!r}"


@then('the agent API\'s reply cites "{title:Q}" and says it used "{tool:Q}"')
def step_api_reply_cites(context, title, tool):
    """The reply names the document among its sources and the tool among those it used."""
    data = _data(context.world.outcome.expect_result("the agent's reply"), "the agent's reply")
    assert title in data["sources"] and tool in data["tools_used"], (
        f"expected {title!r} cited and {tool!r} used, seen sources {data['sources']} and tools {data['tools_used']}")


@when('the tenant gives the agent "{name:Name}" the task of answering "{question:Q}" at priority {priority:d}, '
      "through the agent API")
def step_api_execute(context, name, question, priority):
    """The agent executes a task over HTTP; the answer reports the task and its result."""
    services = context.world.services
    context.world.attempt(lambda: services.execute_task(name, question, priority))


@then("the agent API reports the answering task completed at priority {priority:d}, under a task id of its own")
def step_api_task_done(context, priority):
    """The task's report: its status, type and priority, and an id the platform gave it."""
    data = _data(context.world.outcome.expect_result("the task's report"), "the task's report")
    seen = {key: data.get(key) for key in ("status", "task_type", "priority")}
    assert seen == {"status": "completed", "task_type": "answer", "priority": priority}, (
        f"expected the answering task completed at priority {priority}, seen {seen}")
    task_id = data.get("task_id")
    assert isinstance(task_id, str) and is_valid_id(task_id) and len(task_id) >= 8, (
        f"expected a task id of the platform's own in the id alphabet, seen {task_id!r}")


@then('the task\'s result answers "{text:Q}", citing "{title:Q}" and saying it used "{tool:Q}"')
def step_api_task_result(context, text, title, tool):
    """The task's result: the agent's answer, its sources and the tools it used."""
    result = _data(context.world.outcome.expect_result("the task's report"), "the task's report").get("result") or {}
    seen = (result.get("answer"), title in (result.get("sources") or []), tool in (result.get("tools_used") or []))
    assert seen == (text, True, True), (
        f"expected the result {text!r} citing {title!r} and using {tool!r}, seen the result {result}")


@when('a user of the tenant asks the query API "{text:Q}"')
@when('a user of the tenant "{tenant:Name}" asks the query API "{text:Q}"')
@when('a user of the tenant asks the query API "{text:Q}" in {mode:Name} mode')
@when('a user of the tenant asks the query API "{text:Q}" in {mode:Name} mode, with the correlation id '
      '"{correlation_id:Q}"')
def step_query(context, text, tenant=None, mode="auto", correlation_id=None):
    """A question or an instruction to the unified query API."""
    services = context.world.services
    headers = {"X-Correlation-ID": correlation_id} if correlation_id else {}
    services.url("query")  # started before the clock
    context.world.attempt(lambda: services.query(text, mode=mode, tenant=tenant, **headers))


@when('a user of the tenant asks the query API "{text:Q}" in {mode:Name} mode, keeping the {top_k:d} best passages')
def step_query_top_k(context, text, mode, top_k):
    """A question to the unified query API that limits how many passages the answer may rest on."""
    services = context.world.services
    services.url("query")
    context.world.attempt(lambda: services.query(text, mode=mode, fields={"top_k": top_k}))


def _answer(context) -> dict:
    return _data(context.world.outcome.expect_result("the query API's answer"), "an answer")


@then('the query API answers "{text:Q}" from the knowledge base')
@then('the query API answers "{text:Q}" from the agent')
def step_query_answer(context, text):
    """The unified answer's text, word for word."""
    answer = _answer(context)["answer"]
    assert answer == text, f"expected the answer {text!r}, the query API answered {answer!r}"


@then("the query API answered using {used:Name}")
def step_query_mode(context, used):
    """Which part the unified query used, and that each used part answered."""
    data = _answer(context)
    parts = {"rag": ["rag_response"], "agent": ["agent_response"], "both": ["rag_response", "agent_response"]}[used]
    seen = (data["mode_used"], [p for p in ("rag_response", "agent_response") if p in data])
    assert seen == (used, parts), f"expected mode {used} with {parts}, seen {seen}"


@then('the query API\'s answer cites "{title:Q}"')
def step_query_cites(context, title):
    """The unified answer names the document among its sources."""
    sources = _answer(context)["sources"]
    assert title in sources, f"expected {title!r} among the sources, the query API cited {sources}"


@then("the query API answers that the knowledge base does not cover the question")
def step_query_not_covered(context):
    """The platform's 'not in the knowledge base' answer, with no source."""
    data = _answer(context)
    assert (data["answer"], data["sources"]) == (NOT_IN_KNOWLEDGE_BASE, []), (
        f"expected {NOT_IN_KNOWLEDGE_BASE!r} with no source, got {data['answer']!r} citing {data['sources']}")


@then('the query API answers {status:d} with the error code "{code:Q}" naming "{named:Q}"')
def step_query_error(context, status, code, named):
    """The status, and an error envelope whose details name the failed dependency."""
    response = context.world.outcome.expect_result("the query API's answer")
    body = response.json()
    error = body.get("error") or {}
    seen = (response.status_code, error.get("code"), (error.get("details") or {}).get("dependency"))
    assert seen == (status, code, named), f"expected {(status, code, named)}, seen {seen}: {body}"


@then('the failure passes through "{first:Q}", then "{second:Q}", then "{third:Q}", each hop with the correlation '
      'id "{correlation_id:Q}"')
def step_failure_chain(context, first, second, third, correlation_id):
    """Following error.details down the chain names each dependency, and each hop kept the caller's id."""
    error = context.world.outcome.expect_result("the query API's answer").json()["error"]
    chain, ids, details = [], [], error.get("details") or {}
    while details.get("dependency"):
        chain.append(details["dependency"])
        ids.append(details.get("correlation_id"))
        details = (details.get("error") or {}).get("details") or {}
    assert chain == [first, second, third], f"expected the chain {[first, second, third]}, seen {chain}"
    assert ids[:2] == [correlation_id] * 2, f"expected {correlation_id!r} at the rag and gateway hops, seen {ids}"


@given("the {service:Phrase} service has stopped")
def step_service_stopped(context, service):
    """The service's process is killed; it comes back in the scenario's cleanup."""
    context.world.services.stop(SERVICE_NAMES[service])


@given("the query API gives up on a dependency after {seconds:g} second")
@given("the query API gives up on a dependency after {seconds:g} seconds")
def step_query_timeout(context, seconds):
    """The query service is deployed with that timeout for each call to RAG and the agent."""
    context.world.services.query_gives_up_after(seconds)


@then("the caller had that answer at the query API's timeout")
@then("the caller had that answer at the service's timeout")
def step_answered_at_timeout(context):
    """Not before the service's configured timeout, and not later than it plus the fixed margin (never scaled):
    the service gave up on the slow dependency when it was configured to."""
    elapsed, timeout = context.world.outcome.elapsed_s, context.world.services.dependency_timeout_s
    assert timeout is not None, "the scenario deployed no service with a dependency timeout of its own"
    latest = timeout + TIME_LIMIT_MARGIN_S
    assert timeout * 0.9 <= elapsed < latest, (
        f"expected the answer between {timeout * 0.9:.2f} s and {latest:.2f} s (the {timeout:g} s timeout), "
        f"it took {elapsed:.2f} s")


@then('the query API says the "{part:Name}" part failed with "{code:Q}"')
def step_part_failed(context, part, code):
    """In both mode, the failed part is named with its error code."""
    errors = _answer(context).get("errors") or {}
    seen = (errors.get(part) or {}).get("code")
    assert seen == code, f"expected the {part} part to have failed with {code}, the errors were {errors}"


@when('a user of the tenant asks the query API "{text:Q}" in {mode:Name} mode, keeping the {top_k:d} best passages '
      "with {similarity:Phrase}")
def step_query_retrieval(context, text, mode, top_k, similarity):
    """A unified query with the caller's top_k and similarity threshold (or none)."""
    services = context.world.services
    fields = asked_with(top_k, similarity_threshold(similarity))
    context.world.attempt(lambda: services.query(text, mode=mode, fields=fields))


@then("the query API's answer from the knowledge base rests on {count:d} passages")
def step_query_passages(context, count):
    """How many passages the knowledge base part of the unified answer used."""
    rag = _answer(context).get("rag_response") or {}
    seen = [(p["title"], round(p["score"], 4)) for p in rag.get("passages", [])]
    assert len(seen) == count, f"expected {count} passages, the knowledge base answer rests on {seen}"


@when('a user of the tenant tells the query API "{text:Q}" in {mode:Name} mode, in the conversation '
      '"{conversation:Q}"')
@when('a user of the tenant asks the query API "{text:Q}" in {mode:Name} mode, in the conversation '
      '"{conversation:Q}"')
def step_query_conversation(context, text, mode, conversation):
    """A unified query that belongs to a conversation."""
    services = context.world.services
    context.world.attempt(lambda: services.query(text, mode=mode, fields={"conversation_id": conversation}))
    _answer(context)


@then('the query API\'s answer from the agent {verdict:Phrase} "{text:Q}"')
def step_query_agent_answer(context, verdict, text):
    """The agent part of the unified answer is, or is not, the text."""
    assert verdict in ("is", "is not"), f"no verdict called {verdict!r}"
    message = (_answer(context).get("agent_response") or {}).get("message")
    assert (message == text) == (verdict == "is"), f"expected the agent's answer {verdict} {text!r}, got {message!r}"


@when('the tenant adds the document "{title:Q}" with the id "{document_id:Q}", of type "{content_type:Q}" and with '
      "the metadata {metadata:Json}, through the RAG API")
def step_api_document_fields(context, title, document_id, content_type, metadata):
    """A document with an id, a content type and metadata of the caller's."""
    services = context.world.services
    context.world.attempt(lambda: services.add_document(
        title, f"{title}: staff take leave after telling their manager two weeks ahead.", document_id=document_id,
        content_type=content_type, metadata=metadata))


@then('the RAG API stores it as "{document_id:Q}"')
def step_api_stored_as(context, document_id):
    """201, with the caller's document id."""
    data = _data(context.world.outcome.expect_result("the RAG API's answer"), "the document stored")
    assert data.get("document_id") == document_id, f"expected the id {document_id!r}, the RAG API said {data}"


@then('the RAG API shows the document "{document_id:Q}" titled "{title:Q}", of type "{content_type:Q}"')
def step_api_shows_document(context, document_id, title, content_type):
    """The document as the RAG API reads it back by its id."""
    shown = context.world.services.send("rag", "GET", f"/api/v1/rag/documents/{document_id}", observation=True)
    data = _data(shown, f"the document {document_id!r}")
    seen = (data.get("document_id"), data.get("title"), data.get("content_type"))
    assert seen == (document_id, title, content_type), f"expected {(document_id, title, content_type)}, saw {seen}"


@when('the tenant defines an agent named "{title:Q}" through the agent API')
def step_define_by_name(context, title):
    """The agent API's define with a name alone: the platform makes the agent's id."""
    services = context.world.services
    context.world.attempt(lambda: services.define_agent(title))


@when('the tenant defines the agent "{name:Name}" again as "{title:Q}" with no tools, through the agent API')
def step_redefine(context, name, title):
    """The same agent id, defined anew."""
    services = context.world.services
    context.world.attempt(lambda: services.define_agent(title, agent_id=name))


@then('the agent API says it {verdict:Phrase} the agent "{name:Name}"')
def step_defined(context, verdict, name):
    """201 "Agent created." for a new agent, 200 "Agent replaced." for one defined again, naming its id."""
    expected = {"created": (201, "Agent created."), "replaced": (200, "Agent replaced.")}[verdict]
    response = context.world.outcome.expect_result(f"the agent {verdict}")
    body = response.json()
    seen = (response.status_code, body.get("message"))
    assert seen == expected, f"expected {expected} for the agent {verdict}, got {seen}: {response.text}"
    assert body["data"]["agent_id"] == name, f"expected the agent's id {name!r}, got {body['data']['agent_id']!r}"


@then('the agent API describes the agent "{name:Name}" as "{title:Q}", with no tools')
def step_agent_described_bare(context, name, title):
    """The tenant reads its agent back: its new name, and no tool."""
    _agent_described(context, name, title, [])


@then('the agent API lists only the agent "{name:Name}" for the tenant')
def step_agents_listed(context, name):
    """The tenant's agent list: that one agent, and a count that says so."""
    listed = context.world.services.agents_listed()
    seen = ([agent["agent_id"] for agent in listed["agents"]], listed["count"])
    assert seen == ([name], 1), f"expected only the agent {name!r} listed (count 1), seen {seen}"


@when('the user tells the agent "{name:Name}" "{message:Q}" without naming a conversation, through the agent API')
def step_chat_unnamed(context, name, message):
    """A chat with no session id; the reply names the conversation the agent API started."""
    services = context.world.services
    reply = context.world.attempt(lambda: services.chat(name, message, None))
    context.unnamed_replies = [*getattr(context, "unnamed_replies", []), _data(reply, "the agent's reply")]


@then("the two replies name two new conversations, each of its own")
def step_new_conversations(context):
    """Each reply names a conversation id of the contract's alphabet, and no two are the same."""
    named = [reply.get("session_id") for reply in context.unnamed_replies]
    assert all(isinstance(n, str) and is_valid_id(n) for n in named) and len(set(named)) == len(named) == 2, (
        f"expected two different new conversation ids, the replies named {named}")


@when('the user asks the agent "{name:Name}" "{message:Q}" in the conversation the first reply named, through the '
      "agent API")
def step_chat_named_by_reply(context, name, message):
    """A turn in the conversation the agent API started for the first unnamed chat."""
    services = context.world.services
    conversation = context.unnamed_replies[0]["session_id"]
    context.world.attempt(lambda: services.chat(name, message, conversation))


@when('the tenant gives the agent "{name:Name}" the task of answering "{question:Q}" without a priority, through the '
      "agent API")
def step_api_execute_default(context, name, question):
    """A task with no priority field: the contract's default applies."""
    services = context.world.services
    context.world.attempt(lambda: services.execute_task(name, question, None))


@given('the tenant has an agent "{name:Name}" with no tools, through the agent API')
def step_api_agent_bare(context, name):
    """An agent that answers from the model alone."""
    context.world.services.create_agent(name, tools=())


@when('a user of the tenant asks the query API "{text:Q}" for the agent "{agent:Name}"')
def step_query_for_agent(context, text, agent):
    """The unified query in agent mode, naming the agent that is to answer."""
    services = context.world.services
    services.url("query")
    context.world.attempt(lambda: services.query(text, mode="agent", fields={"agent_id": agent}))


@then("the query API's answer from the agent used no tool")
def step_query_agent_no_tool(context):
    """The agent that answered is one without tools (the tenant's assistant would have searched)."""
    reply = _answer(context).get("agent_response") or {}
    assert reply.get("tools_used") == [], f"expected an answer from an agent that used no tool, got {reply}"


@then('the query API answers {status:d} with the error code "{code:Q}", saying there is no agent "{agent:Name}"')
def step_query_no_agent(context, status, code, agent):
    """The agent service's refusal, passed on: the status, the code and the agent it could not find."""
    response = context.world.outcome.expect_result("the query API's answer")
    error = response.json().get("error") or {}
    seen = (response.status_code, error.get("code"))
    assert seen == (status, code) and agent in error.get("message", ""), (
        f"expected {status} {code} naming the agent {agent!r}, got {response.status_code}: {response.text}")


@then('the query API\'s answer cites only "{title:Q}"')
def step_query_cites_only(context, title):
    """The unified answer's sources: that document, once, and nothing else."""
    sources = _answer(context)["sources"]
    assert sources == [title], f"expected only {title!r} among the sources, the query API cited {sources}"


@then("the RAG API lists these documents for the tenant, and says there are {count:d}:")
def step_documents_listed(context, count):
    """The tenant's document list: each document's title, type and chunk count, and the count of documents."""
    listed = context.world.services.documents_listed()
    seen = sorted((d["title"], d["content_type"], d["chunks"]) for d in listed["documents"])
    expected = sorted((row["title"], row["type"], int(row["chunks"])) for row in context.table)
    assert (seen, listed["count"]) == (expected, count), (
        f"expected {expected} and the count {count}, the RAG API listed {seen} with the count {listed['count']}")
