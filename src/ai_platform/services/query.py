"""The unified query service: one question, answered by the RAG service, an agent, or both.

In auto mode a question goes to RAG and anything else to the agent. A failing part is never hidden
in a 200: alone it is that dependency's 502 / 503 / 504; in "both" mode the surviving answer comes
back with the failed part named in `errors`.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Request
from pydantic import Field

from ai_platform.services.config import dependency_timeout_s, required
from ai_platform.services.http import Caller, Dependency, ServiceError, caller, create_service, ok
from ai_platform.services.inputs import Id, NonBlank, Strict, integer
from ai_platform.services.openapi import DEPENDENCIES, answers

RAG, AGENT = "rag", "agent"
DEFAULT_AGENT = "assistant"
# Made for a tenant the first time its query reaches the default agent.
DEFAULT_AGENT_DEFINITION = {"agent_id": DEFAULT_AGENT, "name": "Assistant",
                            "description": "Answers a tenant's unified queries with its knowledge base.",
                            "tool_ids": ["knowledge_base_search"]}
QUESTION_WORDS = frozenset({"what", "how", "why", "explain", "who", "when", "where", "which", "is", "can", "does",
                            "do", "are", "should", "could", "would"})


@dataclass(frozen=True)
class QuerySettings:
    rag_url: str
    agent_url: str
    timeout_s: float


def settings_from_env(environ: Mapping[str, str] = os.environ) -> QuerySettings:
    return QuerySettings(required("RAG_SERVICE_URL", environ), required("AGENT_SERVICE_URL", environ),
                         dependency_timeout_s(environ))


class QueryIn(Strict):
    query: NonBlank
    mode: Literal["auto", "rag", "agent", "both"] = "auto"
    user_id: Id = None  # passed on as X-User-ID
    conversation_id: Id = None
    top_k: integer(1, 100) = None
    threshold: Annotated[float, Field(ge=0, le=1)] = None
    agent_id: Id = DEFAULT_AGENT


def is_question(text: str) -> bool:
    """Ends with "?" or starts with a question word ("What's" counts as "what", "Howdy" does not)."""
    first = re.match(r"[a-z]+", text.strip().lower())
    return text.rstrip().endswith("?") or (first is not None and first.group() in QUESTION_WORDS)


def route(body: QueryIn) -> str:
    if body.mode != "auto":
        return body.mode
    return RAG if is_question(body.query) else AGENT


def create_app():
    settings = settings_from_env()
    rag = Dependency(RAG, settings.rag_url, settings.timeout_s)
    agent = Dependency(AGENT, settings.agent_url, settings.timeout_s)

    async def ask_rag(who: Caller, body: QueryIn) -> dict:
        asked = {"query": body.query, "top_k": body.top_k, "threshold": body.threshold}
        return await rag.call("POST", "/api/v1/rag/query", who, {k: v for k, v in asked.items() if v is not None})

    async def ask_agent(who: Caller, body: QueryIn) -> dict:
        chat = {"message": body.query, **({"session_id": body.conversation_id} if body.conversation_id else {})}
        path = f"/api/v1/agents/{quote(body.agent_id, safe='')}/chat"
        try:
            return await agent.call("POST", path, who, chat)
        except ServiceError as exc:
            if exc.status != 404 or body.agent_id != DEFAULT_AGENT:
                raise
        # The tenant's first query for the default agent: define it (a replace, so a race is harmless).
        await agent.call("POST", "/api/v1/agents", who, DEFAULT_AGENT_DEFINITION)
        return await agent.call("POST", path, who, chat)

    parts = {RAG: ask_rag, AGENT: ask_agent}

    @asynccontextmanager
    async def lifespan(_app):
        yield
        await rag.close()
        await agent.close()

    async def ready() -> dict[str, str | None]:
        problems = await asyncio.gather(rag.ready(), agent.ready())
        return dict(zip((RAG, AGENT), problems, strict=True))

    app = create_service("query", ready, lifespan)

    @app.post("/api/v1/query", **answers(404, *DEPENDENCIES))
    async def unified_query(request: Request, body: QueryIn):
        who = caller(request)
        if body.user_id:
            who = replace(who, user_id=body.user_id)
        mode = route(body)
        asked = [RAG, AGENT] if mode == "both" else [mode]
        outcomes = await asyncio.gather(*(attempt(parts[name](who, body)) for name in asked))
        answered = {name: data for name, (data, _) in zip(asked, outcomes, strict=True) if data is not None}
        failed = {name: failure for name, (_, failure) in zip(asked, outcomes, strict=True) if failure is not None}
        if not answered:  # the first part's failure, with every part's named when both were asked
            first = failed[asked[0]]
            if len(failed) > 1:
                raise ServiceError(first.status, first.code, first.message,
                                   {**first.details, "errors": {name: described(f) for name, f in failed.items()}})
            raise first
        return ok(request, combined(mode, answered, failed))

    return app


async def attempt(call) -> tuple[dict | None, ServiceError | None]:
    """A part's answer, or its failure: in "both" mode one part failing must not cancel the other."""
    try:
        return await call, None
    except ServiceError as exc:
        return None, exc


def combined(mode: str, answered: dict[str, dict], failed: dict[str, ServiceError]) -> dict:
    rag, agent = answered.get(RAG), answered.get(AGENT)
    answers = [rag["answer"]] if rag else []
    answers += [agent["message"]] if agent else []
    sources = [*(rag or {}).get("sources", []), *(agent or {}).get("sources", [])]
    result = {"mode_used": mode, "answer": "\n\n".join(dict.fromkeys(answers)), "sources": list(dict.fromkeys(sources))}
    if rag:
        result["rag_response"] = rag
    if agent:
        result["agent_response"] = agent
    if failed:
        result["errors"] = {name: described(f) for name, f in failed.items()}
    return result


def described(failure: ServiceError) -> dict:
    return {"code": failure.code, "message": failure.message, "status": failure.status}
