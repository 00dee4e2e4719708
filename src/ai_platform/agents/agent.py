"""An agent: answers a message with its tools' results and the memory of the same session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai_platform import telemetry
from ai_platform.agents.tools import Tool, ToolResult
from ai_platform.gateway import Usage
from ai_platform.store import Turn

DEFAULT_INSTRUCTIONS = "You are a helpful assistant. Use the tool results below when they are relevant."

if TYPE_CHECKING:
    from ai_platform.gateway import Gateway
    from ai_platform.store import Store


class TenantMismatch(PermissionError):
    def __init__(self, agent_id: str, agent_tenant: str, requested_tenant: str) -> None:
        super().__init__(
            f"agent {agent_id!r} belongs to tenant {agent_tenant!r} and does not act for tenant {requested_tenant!r}"
        )


@dataclass(frozen=True)
class AgentReply:
    text: str
    session_id: str
    sources: list[str]
    tool_results: list[ToolResult]
    usage: Usage


class Agent:
    def __init__(self, agent_id: str, tenant_id: str, gateway: Gateway, store: Store, tools: list[Tool],
                 instructions: str = DEFAULT_INSTRUCTIONS, memory_turns: int = 20) -> None:
        self.agent_id, self.tenant_id = agent_id, tenant_id
        self._gateway, self._store, self._tools = gateway, store, tools
        self.instructions, self._memory_turns = instructions, memory_turns

    def ask(self, tenant_id: str, session_id: str, message: str) -> AgentReply:
        if tenant_id != self.tenant_id:
            raise TenantMismatch(self.agent_id, self.tenant_id, tenant_id)
        if not message.strip():
            raise ValueError("the message to the agent is empty")
        with telemetry.span("agent.memory.retrieve", **{"agent.id": self.agent_id}) as retrieving:
            history = self._store.recent_turns(self.tenant_id, self.agent_id, session_id, self._memory_turns)
            retrieving.set_attribute("memory.turns", len(history))
        results = []
        for tool in self._tools:
            with telemetry.span("agent.tool.execute", **{"agent.id": self.agent_id, "tool.name": tool.name}):
                results.append(tool.run(self.tenant_id, message))
        completion = self._gateway.complete(self._messages(history, results, message))
        with telemetry.span("agent.memory.update", **{"agent.id": self.agent_id, "memory.turns.added": 2}):
            self._store.append_turns(
                self.tenant_id, self.agent_id, session_id, [Turn("user", message), Turn("assistant", completion.text)]
            )
        sources = list(dict.fromkeys(s for r in results for s in r.sources))
        return AgentReply(completion.text, session_id, sources, results, completion.usage)

    def _messages(self, history: list[Turn], results: list[ToolResult], message: str) -> list[dict]:
        tools_text = "\n\n".join(f"Tool {r.tool}:\n{r.context}" for r in results)
        system = self.instructions + (f"\n\n{tools_text}" if tools_text else "")
        return [
            {"role": "system", "content": system},
            *({"role": t.role, "content": t.content} for t in history),
            {"role": "user", "content": message},
        ]
