"""Drive agents: each tenant's agents by name, asked in a session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_platform.agents import Agent, AgentReply
from harness.drivers.exchange import model_exchange
from harness.reporting import attach_json

if TYPE_CHECKING:
    from harness.world import World


class Agents:
    def __init__(self, world: World) -> None:
        self._world = world
        self._agents: dict[tuple[str | None, str], Agent] = {}  # (tenant name, agent name) -> agent

    def create(self, name: str, *, tenant: str | None = None) -> Agent:
        agent = self._world.platform.agent(name, self._world.tenants.id_of(tenant))
        self._agents[(tenant, name)] = agent
        return agent

    def only_agent_of(self, tenant: str | None = None) -> Agent:
        agents = [a for (t, _), a in self._agents.items() if t == tenant]
        who = tenant or "(default)"
        assert len(agents) == 1, f"expected one agent of the tenant {who}, the scenario has {len(agents)}"
        return agents[0]

    def named(self, name: str, *, tenant: str | None = None) -> Agent:
        assert (tenant, name) in self._agents, f"this scenario has no agent called {name!r}"
        return self._agents[(tenant, name)]

    def ask(self, agent: Agent, message: str, session: str, *, as_tenant: str | None = None) -> AgentReply:
        """Ask the agent, on behalf of its own tenant unless `as_tenant` names another."""
        tenant_id = self._world.tenants.id_of(as_tenant) if as_tenant else agent.tenant_id
        with model_exchange(self._world):
            reply = agent.ask(tenant_id, session, message)
        attach_json("tool results", [
            {"tool": r.tool, "sources": r.sources,
             "passages": [{"document": p.title, "score": round(p.score, 4)} for p in r.passages]}
            for r in reply.tool_results])
        return reply
