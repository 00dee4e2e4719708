"""HTTP stand-ins for the gateway and the knowledge base, so the in-process RAG and agent code runs
inside the rag and agent services and reaches the other services over HTTP.

Nothing here loads LiteLLM: `ai_platform.gateway` loads its `Gateway` only on first use, and only
the gateway service uses it.
"""

from __future__ import annotations

from typing import Any

import httpx

from ai_platform.agents import KnowledgeBaseTool, ToolResult
from ai_platform.gateway import Completion, Usage
from ai_platform.services.http import CALL_LIMITS, Caller, data_of, tls, unreachable
from ai_platform.store import Passage

GATEWAY, RAG = "gateway", "rag"


class RemoteService:
    """A call to another service on a caller's behalf: its headers go along, and the service's
    failure becomes the contract's 502 / 503 / 504 naming it (its 4xx is passed on), as `Dependency` does."""

    def __init__(self, name: str, base_url: str, caller: Caller, timeout_s: float, *,
                 client: httpx.Client | None = None) -> None:
        # `dependency`, not `name`: the knowledge base tool's name is its tool id, which its spans record.
        self.dependency, self.base_url, self.caller, self.timeout_s = name, base_url.rstrip("/"), caller, timeout_s
        self._client = client or httpx.Client(limits=CALL_LIMITS, verify=tls())

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        """The `data` of the service's success envelope. Not retried: these calls are not idempotent."""
        try:
            response = self._client.request(method, self.base_url + path, json=body, headers=self.caller.headers(),
                                            timeout=self.timeout_s)
        except httpx.TransportError as exc:
            raise unreachable(self.dependency, exc, self.timeout_s) from None
        return data_of(self.dependency, response)


class RemoteGateway(RemoteService):
    """What Ingestor, Retriever and Agent need of a gateway, served by the gateway service."""

    def __init__(self, base_url: str, caller: Caller, timeout_s: float, *, client: httpx.Client | None = None) -> None:
        super().__init__(GATEWAY, base_url, caller, timeout_s, client=client)

    def complete(self, messages: list[dict], *, model: str | None = None, temperature: float | None = None,
                 max_tokens: int | None = None) -> Completion:
        asked = {"messages": messages, "model": model, "temperature": temperature, "max_tokens": max_tokens}
        done = self.call("POST", "/api/v1/gateway/generate", {k: v for k, v in asked.items() if v is not None})
        usage = done.get("usage") or {}
        return Completion(done["text"], done["model"],
                          Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)))

    def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        asked = {"texts": texts, **({"model": model} if model else {})}
        return self.call("POST", "/api/v1/gateway/embeddings", asked)["embeddings"]




__all__ = ["GATEWAY", "RAG", "RemoteGateway", "RemoteKnowledgeBase", "RemoteService"]


class RemoteKnowledgeBase(RemoteService):
    """The agents' knowledge-base tool, searching through the RAG service (with its threshold)."""

    name = KnowledgeBaseTool.name

    def __init__(self, base_url: str, caller: Caller, timeout_s: float, *, client: httpx.Client | None = None,
                 top_k: int = 5) -> None:
        super().__init__(RAG, base_url, caller, timeout_s, client=client)
        self.top_k = top_k

    def run(self, tenant_id: str, query: str) -> ToolResult:
        # The in-process tool words the passages for the model; this object is its retriever.
        return KnowledgeBaseTool(self).run(tenant_id, query)

    def search(self, tenant_id: str, query: str) -> list[Passage]:
        if tenant_id != self.caller.tenant_id:  # the request carries the caller's tenant, never another
            raise PermissionError(f"the knowledge base acts for tenant {self.caller.tenant_id!r}, not {tenant_id!r}")
        found = self.call("POST", "/api/v1/rag/search", {"query_text": query, "top_k": self.top_k})
        return [Passage(d["document_id"], d["title"], d["ordinal"], d["text"], score)
                for d, score in zip(found["documents"], found["scores"], strict=True)]

