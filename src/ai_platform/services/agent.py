"""The agent service: a tenant's agents, defined over HTTP, chatting with session memory, doing tasks and
messaging each other over NATS (a request is answered by the agent it is sent to; the answer comes back).

An agent is the in-process `ai_platform.agents.Agent`; its model is the gateway service and its
knowledge-base tool the RAG service, both called on the caller's behalf.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Literal

import httpx
import nats.errors
from fastapi import Request
from pydantic import Field
from sqlalchemy.exc import OperationalError

from ai_contract import subjects
from ai_contract.codec import AgentMessage, AgentTask
from ai_platform.agents import Agent, AgentReply
from ai_platform.agents.agent import DEFAULT_INSTRUCTIONS
from ai_platform.agents.tasks import executing_task
from ai_platform.messaging import HostedAgentsInbox, MessagingError, TaskWorker
from ai_platform.services.config import dependency_timeout_s, required
from ai_platform.services.http import (
    CALL_LIMITS,
    Caller,
    Dependency,
    ServiceError,
    caller,
    create_service,
    error,
    ok,
    tls,
)
from ai_platform.services.inputs import Id, Name, NonBlank, PathId, Strict, Text, integer
from ai_platform.services.nats_workers import HostedWorkers, OnDemandClient, caller_from_message, instance_name
from ai_platform.services.openapi import DEPENDENCIES, answers
from ai_platform.services.remote import GATEWAY, RAG, RemoteGateway, RemoteKnowledgeBase
from ai_platform.store import AgentDefinition, LazyStore, ReceivedMessage

KNOWLEDGE_BASE = RemoteKnowledgeBase.name


@dataclass(frozen=True)
class AgentSettings:
    database_url: str
    dimensions: int
    gateway_url: str
    rag_url: str
    timeout_s: float
    nats_url: str | None  # agents message each other over NATS


def settings_from_env(environ: Mapping[str, str] = os.environ) -> AgentSettings:
    return AgentSettings(
        database_url=required("DATABASE_URL", environ), dimensions=int(required("EMBEDDING_DIMENSIONS", environ)),
        gateway_url=required("GATEWAY_SERVICE_URL", environ), rag_url=required("RAG_SERVICE_URL", environ),
        timeout_s=dependency_timeout_s(environ), nats_url=environ.get("NATS_URL") or None)


class AgentIn(Strict):
    agent_id: Id = None  # absent: made from the name
    name: Name
    description: Text = ""
    system_prompt: NonBlank = None
    # The tools this service has; an empty list is an agent that answers from the model alone.
    tool_ids: Annotated[list[Literal["knowledge_base_search"]], Field(max_length=8)] = Field(default_factory=list)

    def definition(self) -> AgentDefinition:
        agent_id = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:64].strip("-")
        agent_id = self.agent_id or agent_id or "agent"
        return AgentDefinition(agent_id, self.name, self.description, self.system_prompt,
                               tuple(dict.fromkeys(self.tool_ids)))


class ChatIn(Strict):
    message: NonBlank
    session_id: Id = None  # absent: a new session


class MessageIn(Strict):
    target_agent_id: Id  # a subject's header value: the contract's alphabet
    content: NonBlank


class AnswerParameters(Strict):
    question: NonBlank


class TaskIn(Strict):
    task_type: Literal["answer"]  # the one kind of task agents run
    parameters: AnswerParameters
    priority: integer(0, 10) = 0  # accepted for the contract; tasks run at once


def create_app():
    settings = settings_from_env()
    store = LazyStore(settings.database_url, settings.dimensions)
    # One connection pool for every call to the gateway and RAG services.
    client = httpx.Client(limits=CALL_LIMITS, verify=tls())
    dependencies = {GATEWAY: Dependency(GATEWAY, settings.gateway_url, settings.timeout_s),
                    RAG: Dependency(RAG, settings.rag_url, settings.timeout_s)}

    def definition_of(who: Caller, agent_id: str) -> AgentDefinition:
        found = store.get().agent_definitions(who.tenant_id, agent_id)
        if not found:  # another tenant's agent is not found either
            raise ServiceError(404, "NOT_FOUND", f"There is no agent {agent_id!r}.", {"agent_id": agent_id})
        return found[0]

    def ask(who: Caller, definition: AgentDefinition, session_id: str, message: str) -> AgentReply:
        gateway = RemoteGateway(settings.gateway_url, who, settings.timeout_s, client=client)
        tools = [RemoteKnowledgeBase(settings.rag_url, who, settings.timeout_s, client=client)
                 for tool in definition.tool_ids if tool == KNOWLEDGE_BASE]
        agent = Agent(definition.agent_id, who.tenant_id, gateway, store.get(), tools,
                      definition.system_prompt or DEFAULT_INSTRUCTIONS)
        return agent.ask(who.tenant_id, session_id, message)

    def run_task(tenant_id: str, task: AgentTask) -> str:
        """A task from NATS: the tenant's agent answers the task's question in a session of its own."""
        with executing_task(task.agent_id, task.task_id, task.task_type):
            if task.task_type != "answer":
                raise ValueError(f"unknown task type {task.task_type!r}; agents run 'answer' tasks")
            who = caller_from_message(tenant_id)
            question = str(task.parameters.get("question", ""))
            return ask(who, definition_of(who, task.agent_id), f"task-{task.task_id}", question).text

    def receive_message(tenant_id: str, message: AgentMessage) -> str | None:
        """A message for one of this service's agents is kept once; the agent answers a request. Messages for
        agents hosted elsewhere are theirs."""
        who = caller_from_message(tenant_id)
        found = store.get().agent_definitions(tenant_id, message.target_agent_id)
        received = ReceivedMessage(message.message_id, message.source_agent_id, message.message_type, message.content)
        if not found or not store.get().receive_message(tenant_id, message.target_agent_id, received):
            return None
        if message.message_type != subjects.REQUEST_MESSAGE:
            return None  # an answer is not answered again
        return ask(who, found[0], f"agent-{message.source_agent_id}", message.content).text

    workers = HostedWorkers("agent", lambda bus: [TaskWorker(bus, None, instance_name("agent"), run_task),
                                                  HostedAgentsInbox(bus, receive_message)])
    outbox = OnDemandClient(settings.nats_url, "agent-service",
                            "This agent service has no NATS_URL, so its agents cannot message other agents.")

    @asynccontextmanager
    async def lifespan(_app):
        await workers.start()
        yield
        await workers.close()
        await outbox.close()
        for dependency in dependencies.values():
            await dependency.close()
        client.close()
        await asyncio.to_thread(store.close)

    async def ready() -> dict[str, str | None]:
        problems = await asyncio.gather(asyncio.to_thread(store.problem),
                                        *(d.ready() for d in dependencies.values()))
        return {**dict(zip(["database", *dependencies], problems, strict=True)), **workers.checked()}

    app = create_service("agent", ready, lifespan)
    app.add_exception_handler(OperationalError, database_unreachable)

    @app.post("/api/v1/agents", **answers(200, 503, success=201))  # 200: replaced
    def define_agent(request: Request, body: AgentIn):
        definition = body.definition()
        created = store.get().save_agent(caller(request).tenant_id, definition)
        return ok(request, described(definition), "Agent created." if created else "Agent replaced.",
                  201 if created else 200)

    @app.get("/api/v1/agents", **answers(503))
    def list_agents(request: Request):
        found = store.get().agent_definitions(caller(request).tenant_id)
        return ok(request, {"agents": [described(d) for d in found], "count": len(found)})

    @app.get("/api/v1/agents/{agent_id}", **answers(404, 503))
    def get_agent(request: Request, agent_id: PathId):
        return ok(request, described(definition_of(caller(request), agent_id)))

    @app.post("/api/v1/agents/{agent_id}/chat", **answers(404, *DEPENDENCIES))
    def chat(request: Request, agent_id: PathId, body: ChatIn):
        who = caller(request)
        session_id = body.session_id or uuid.uuid4().hex
        reply = ask(who, definition_of(who, agent_id), session_id, body.message)
        return ok(request, {"session_id": session_id, "message": reply.text, **outcome(reply)})

    @app.post("/api/v1/agents/{agent_id}/execute", **answers(404, *DEPENDENCIES))
    def execute(request: Request, agent_id: PathId, body: TaskIn):
        who, task_id = caller(request), uuid.uuid4().hex
        with executing_task(agent_id, task_id, body.task_type):
            reply = ask(who, definition_of(who, agent_id), f"task-{task_id}", body.parameters.question)
        return ok(request, {"task_id": task_id, "status": "completed", "task_type": body.task_type,
                            "priority": body.priority, "result": {"answer": reply.text, **outcome(reply)}})

    @app.post("/api/v1/agents/{agent_id}/messages", **answers(404, 503, success=202))
    async def send_message(request: Request, agent_id: PathId, body: MessageIn):
        """The agent sends a request to another agent of the tenant, wherever that agent runs; 202 once sent."""
        who = caller(request)
        await asyncio.to_thread(definition_of, who, agent_id)
        try:
            message_id = await (await outbox.get()).send_agent_message(who.tenant_id, agent_id, body.target_agent_id,
                                                                       body.content)
        except (MessagingError, nats.errors.Error, TimeoutError) as exc:
            raise ServiceError(503, "DEPENDENCY_UNAVAILABLE", f"The message cannot be sent: {exc}",
                               {"dependency": "nats"}) from None
        return ok(request, {"message_id": message_id, "source_agent_id": agent_id,
                            "target_agent_id": body.target_agent_id}, "Message sent.", 202)

    @app.get("/api/v1/agents/{agent_id}/messages", **answers(404, 503))
    def received_messages(request: Request, agent_id: PathId):
        """What the agent received from other agents, oldest first: requests and answers."""
        who = caller(request)
        definition_of(who, agent_id)
        found = store.get().received_messages(who.tenant_id, agent_id)
        return ok(request, {"messages": [{"message_id": m.message_id, "source_agent_id": m.source_agent_id,
                                          "message_type": m.message_type, "content": m.content} for m in found],
                            "count": len(found)})

    return app


def described(definition: AgentDefinition) -> dict:
    return {"agent_id": definition.agent_id, "name": definition.name, "status": definition.status,
            "description": definition.description, "system_prompt": definition.system_prompt,
            "tool_ids": list(definition.tool_ids)}


def outcome(reply: AgentReply) -> dict:
    return {"sources": reply.sources, "tools_used": [r.tool for r in reply.tool_results],
            "usage": {"prompt_tokens": reply.usage.input_tokens, "completion_tokens": reply.usage.output_tokens,
                      "total_tokens": reply.usage.total_tokens}}


async def database_unreachable(request: Request, exc: OperationalError):
    return error(request, 503, "DEPENDENCY_UNAVAILABLE", "The database cannot be reached.",
                 {"dependency": "database", "cause": type(exc.orig).__name__})
