"""The rag, agent and query services without a database: routing, request validation, error mapping,
and start paths that leave LiteLLM out. Dependencies are a stub service on loopback or a closed port."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from conftest import as_tenant
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from ai_platform.services import agent, query, rag

TEST_BUDGET_S = 30
TENANT = as_tenant("tenant-a")


def closed_port() -> int:
    """A loopback port nothing listens on: a connection there is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nowhere() -> str:
    return f"http://127.0.0.1:{closed_port()}"


@pytest.fixture
def service_env(monkeypatch, nowhere) -> None:
    """Configuration whose database and services refuse connections."""
    for name, value in {"DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/none",
                        "EMBEDDING_DIMENSIONS": "16", "GATEWAY_SERVICE_URL": nowhere, "RAG_SERVICE_URL": nowhere,
                        "AGENT_SERVICE_URL": nowhere, "DEPENDENCY_TIMEOUT_S": "2"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NATS_URL", raising=False)


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, f"expected {status} {code}, got {response.status_code}: {response.text}"
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    assert response.headers["X-Request-ID"] and response.headers["X-Correlation-ID"]
    return body["error"]


# auto mode ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "part"), [
    ("What is the refund policy?", "rag"),
    ("what's the refund window", "rag"),
    ("How long do refunds take", "rag"),
    ("Why was my card declined", "rag"),
    ("Explain the annual plan", "rag"),
    ("Who approves refunds", "rag"),
    ("When does support open", "rag"),
    ("Where is the office", "rag"),
    ("Which plan includes SSO", "rag"),
    ("Is the API rate limited", "rag"),
    ("Can I pay by invoice", "rag"),
    ("Does the plan renew", "rag"),
    ("Do you ship abroad", "rag"),
    ("Are dogs allowed", "rag"),
    ("Should I upgrade", "rag"),
    ("Could you check my order", "rag"),
    ("Would annual billing be cheaper", "rag"),
    ("  refunds for annual plans?  ", "rag"),
    ("Summarise my last three tickets", "agent"),
    ("Book a meeting with sales", "agent"),
    ("Howdy, team", "agent"),
    ("Island hopping ideas", "agent"),
    ("Draft a reply to the customer.", "agent"),
])
def test_auto_mode_sends_questions_to_rag_and_everything_else_to_the_agent(text, part):
    assert query.route(query.QueryIn(query=text)) == part


@pytest.mark.parametrize("mode", ["rag", "agent", "both"])
def test_an_explicit_mode_is_kept(mode):
    assert query.route(query.QueryIn(query="Book a meeting?", mode=mode)) == mode


# start paths -------------------------------------------------------------------------------------

def test_rag_agent_and_query_services_start_without_litellm(service_env):
    script = (
        "import json, sys\n"
        "from ai_platform.services import agent, query, rag\n"
        "apps = [module.create_app() for module in (rag, agent, query)]\n"
        "print(json.dumps({'litellm': 'litellm' in sys.modules,"
        " 'gateway': 'ai_platform.gateway.gateway' in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"litellm": False, "gateway": False}


# request validation, no database touched ---------------------------------------------------------

@pytest.fixture
def rag_client(service_env) -> TestClient:
    return TestClient(rag.create_app())


@pytest.fixture
def agent_client(service_env) -> TestClient:
    return TestClient(agent.create_app())


@pytest.fixture
def query_client(service_env) -> TestClient:
    return TestClient(query.create_app())


@pytest.mark.parametrize(("method", "path", "body", "named"), [
    ("POST", "/api/v1/rag/documents", {"content": "Refunds take five days."}, "title"),
    ("POST", "/api/v1/rag/documents", {"title": "Refunds", "content": "x", "document_id": "a/b"}, "document_id"),
    ("POST", "/api/v1/rag/query", {"query": "   "}, "query"),
    ("POST", "/api/v1/rag/query", {"query": "Refunds?", "top_k": 0}, "top_k"),
    ("POST", "/api/v1/rag/query", {"query": "Refunds?", "top_k": 101}, "top_k"),
    ("POST", "/api/v1/rag/query", {"query": "Refunds?", "threshold": 1.5}, "threshold"),
    ("POST", "/api/v1/rag/search", {"top_k": 3}, "query_text or query_embedding"),
])
def test_the_rag_service_refuses_invalid_fields(rag_client, method, path, body, named):
    failure = error_of(rag_client.request(method, path, json=body, headers=TENANT), 400, "VALIDATION_ERROR")
    assert named in json.dumps(failure)


@pytest.mark.parametrize(("content_type", "content", "field", "said"), [
    ("application/pdf", "Refunds take five days.", "content_type", "unsupported type 'application/pdf'"),
    ("text/plain", "   \n ", "content", "is empty"),
])
def test_a_refused_document_is_a_validation_error_before_it_is_queued(rag_client, content_type, content, field, said):
    body = {"title": "Refunds", "content": content, "content_type": content_type, "async": True}
    failure = error_of(rag_client.post("/api/v1/rag/documents", json=body, headers=TENANT), 400, "VALIDATION_ERROR")
    assert [(e["field"], said in e["problem"]) for e in failure["details"]["errors"]] == [(field, True)]


def test_a_search_embedding_of_the_wrong_size_is_refused(rag_client):
    body = {"query_embedding": [0.1, 0.2, 0.3]}
    failure = error_of(rag_client.post("/api/v1/rag/search", json=body, headers=TENANT), 400, "VALIDATION_ERROR")
    [problem] = failure["details"]["errors"]
    assert problem["field"] == "query_embedding" and "16 items" in problem["problem"], problem


def test_queueing_without_nats_is_an_unavailable_dependency(rag_client):
    body = {"title": "Refunds", "content": "Refunds take five days.", "async": True}
    failure = error_of(rag_client.post("/api/v1/rag/documents", json=body, headers=TENANT), 503,
                       "DEPENDENCY_UNAVAILABLE")
    assert failure["details"]["dependency"] == "nats"


def test_an_unreachable_database_is_an_unavailable_dependency(rag_client):
    failure = error_of(rag_client.get("/api/v1/rag/documents", headers=TENANT), 503, "DEPENDENCY_UNAVAILABLE")
    assert failure["details"]["dependency"] == "database"


def test_the_rag_service_is_not_ready_without_its_database_and_gateway(rag_client):
    with rag_client:
        failure = error_of(rag_client.get("/ready"), 503, "DEPENDENCY_UNAVAILABLE")
    assert set(failure["details"]["dependencies"]) == {"database", "gateway"}


@pytest.mark.parametrize(("path", "body", "named"), [
    ("/api/v1/agents", {"name": "Helper", "tool_ids": ["web_search"]}, "tool_ids"),
    ("/api/v1/agents", {"tool_ids": []}, "name"),
    ("/api/v1/agents/helper/chat", {"message": " "}, "message"),
    ("/api/v1/agents/helper/execute", {"task_type": "dance", "parameters": {"question": "Hi?"}}, "task_type"),
    ("/api/v1/agents/helper/execute", {"task_type": "answer", "parameters": {}}, "parameters.question"),
    ("/api/v1/agents/helper/execute",
     {"task_type": "answer", "parameters": {"question": "Hi?"}, "priority": 11}, "priority"),
])
def test_the_agent_service_refuses_invalid_fields(agent_client, path, body, named):
    failure = error_of(agent_client.post(path, json=body, headers=TENANT), 400, "VALIDATION_ERROR")
    assert named in json.dumps(failure)


@pytest.mark.parametrize(("body", "named"), [
    ({"query": "Refunds?", "mode": "psychic"}, "mode"),
    ({"query": ""}, "query"),
    ({"query": "Refunds?", "top_k": 0}, "top_k"),
    ({"query": "Refunds?", "threshold": -0.1}, "threshold"),
])
def test_the_query_service_refuses_invalid_fields(query_client, body, named):
    failure = error_of(query_client.post("/api/v1/query", json=body, headers=TENANT), 400, "VALIDATION_ERROR")
    assert named in json.dumps(failure)


@pytest.mark.parametrize(("client", "path"), [
    ("rag_client", "/api/v1/rag/query"), ("agent_client", "/api/v1/agents"), ("query_client", "/api/v1/query"),
])
def test_every_service_wants_a_tenant_and_a_json_body(request, client, path):
    service = request.getfixturevalue(client)
    error_of(service.post(path, json={"query": "Hi?"}), 401, "UNAUTHENTICATED")
    error_of(service.post(path, content=b'{"query": ', headers={**TENANT, "Content-Type": "application/json"}),
             422, "MALFORMED_BODY")


# the query service's dependencies ----------------------------------------------------------------

class StubServices:
    """The rag and agent services as the query service sees them, each told how to behave."""

    def __init__(self) -> None:
        self.behaviour = {"rag": "answer", "agent": "answer"}  # answer | fail | slow
        self.agents: set[tuple[str, str]] = set()  # (tenant, agent id) defined so far
        self.seen: list[tuple[str, dict]] = []  # (path, headers) of every call
        self.app = FastAPI()
        self.app.post("/api/v1/rag/query")(self._rag_query)
        self.app.post("/api/v1/agents")(self._define_agent)
        self.app.post("/api/v1/agents/{agent_id}/chat")(self._chat)

    async def _behave(self, part: str, request: Request) -> JSONResponse | None:
        self.seen.append((request.url.path, dict(request.headers)))
        if self.behaviour[part] == "fail":
            return JSONResponse({"success": False, "error": {"code": "BOOM", "message": f"{part} broke"}}, 500)
        if self.behaviour[part] == "slow":
            await asyncio.sleep(3)
        return None

    async def _rag_query(self, request: Request):
        return await self._behave("rag", request) or JSONResponse(
            {"success": True, "data": {"answer": "Refunds take five days.", "sources": ["Refunds"], "passages": [],
                                       "usage": {}}})

    async def _define_agent(self, request: Request):
        body = await request.json()
        self.agents.add((request.headers["x-tenant-id"], body["agent_id"]))
        return JSONResponse({"success": True, "data": {"agent_id": body["agent_id"], "status": "active"}}, 201)

    async def _chat(self, request: Request, agent_id: str):
        failed = await self._behave("agent", request)
        if failed:
            return failed
        if (request.headers["x-tenant-id"], agent_id) not in self.agents:
            return JSONResponse({"success": False, "error": {"code": "NOT_FOUND", "message": "no agent"}}, 404)
        body = await request.json()
        return JSONResponse({"success": True, "data": {"session_id": body.get("session_id", "s-1"),
                                                       "message": "Meeting booked.", "sources": ["Calendar"],
                                                       "tools_used": []}})


@pytest.fixture
def stub() -> Iterator[tuple[StubServices, str]]:
    services = StubServices()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(services.app, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield services, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def unified(stub, monkeypatch, service_env) -> Iterator[tuple[StubServices, TestClient]]:
    services, url = stub
    monkeypatch.setenv("RAG_SERVICE_URL", url)
    monkeypatch.setenv("AGENT_SERVICE_URL", url)
    monkeypatch.setenv("DEPENDENCY_TIMEOUT_S", "0.5")
    with TestClient(query.create_app()) as client:
        yield services, client


def ask(client: TestClient, text: str, **fields):
    return client.post("/api/v1/query", json={"query": text, **fields},
                       headers={**TENANT, "X-Request-ID": "req-1", "X-Correlation-ID": "journey-1"})


def test_a_question_is_answered_by_rag_with_the_callers_ids_passed_on(unified):
    services, client = unified
    response = ask(client, "How long do refunds take?", user_id="user-7")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["mode_used"], data["answer"], data["sources"]) == ("rag", "Refunds take five days.", ["Refunds"])
    assert "agent_response" not in data and "errors" not in data
    [(path, headers)] = services.seen
    assert path == "/api/v1/rag/query"
    assert (headers["x-tenant-id"], headers["x-user-id"]) == ("tenant-a", "user-7")
    assert (headers["x-request-id"], headers["x-correlation-id"]) == ("req-1", "journey-1")


def test_the_default_agent_is_defined_on_the_tenants_first_query(unified):
    services, client = unified
    response = ask(client, "Book a meeting with sales", conversation_id="conv-9")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["mode_used"], data["answer"]) == ("agent", "Meeting booked.")
    assert data["agent_response"]["session_id"] == "conv-9"
    assert services.agents == {("tenant-a", "assistant")}


def test_another_named_agent_that_does_not_exist_is_not_found(unified):
    _, client = unified
    error_of(ask(client, "Book a meeting", agent_id="planner"), 404, "NOT_FOUND")


@pytest.mark.parametrize(("behaviour", "status", "code"), [
    ("fail", 502, "DEPENDENCY_ERROR"), ("slow", 504, "DEPENDENCY_TIMEOUT"),
])
def test_a_failing_rag_service_is_the_querys_failure(unified, behaviour, status, code):
    services, client = unified
    services.behaviour["rag"] = behaviour
    failure = error_of(ask(client, "Refunds?", mode="rag"), status, code)
    assert failure["details"]["dependency"] == "rag"


def test_an_unreachable_agent_service_is_unavailable(monkeypatch, service_env):
    with TestClient(query.create_app()) as client:
        failure = error_of(ask(client, "Book a meeting", mode="agent"), 503, "DEPENDENCY_UNAVAILABLE")
    assert failure["details"]["dependency"] == "agent"


def test_both_modes_answer_with_the_surviving_part_and_name_the_failed_one(unified):
    services, client = unified
    services.behaviour["rag"] = "fail"
    response = ask(client, "Refunds?", mode="both")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["mode_used"], data["answer"], data["sources"]) == ("both", "Meeting booked.", ["Calendar"])
    assert data["errors"]["rag"]["code"] == "DEPENDENCY_ERROR" and "rag_response" not in data


def test_both_modes_combine_two_answers(unified):
    _, client = unified
    data = ask(client, "Refunds?", mode="both").json()["data"]
    assert data["answer"] == "Refunds take five days.\n\nMeeting booked."
    assert data["sources"] == ["Refunds", "Calendar"] and "errors" not in data


def test_both_modes_fail_when_neither_part_answers(unified):
    services, client = unified
    services.behaviour.update(rag="fail", agent="slow")
    failure = error_of(ask(client, "Refunds?", mode="both"), 502, "DEPENDENCY_ERROR")
    assert failure["details"]["errors"]["agent"]["code"] == "DEPENDENCY_TIMEOUT"
