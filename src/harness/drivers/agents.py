"""Drive agents: ask in a session, as a tenant."""

from __future__ import annotations

from ai_platform.agents import Agent, AgentReply
from harness.drivers.exchange import model_exchange
from harness.reporting import attach_json
from harness.world import World


def agent_for(world: World, agent_name: str, *, tenant: str | None = None) -> Agent:
    tenant_id = world.tenants.id_of(tenant) if tenant else world.tenant
    return world.platform.agent(agent_name, tenant_id)


def ask(world: World, agent: Agent, message: str, session: str, *, as_tenant: str | None = None) -> AgentReply:
    tenant_id = world.tenants.id_of(as_tenant) if as_tenant else agent.tenant_id
    with model_exchange(world):
        reply = agent.ask(tenant_id, session, message)
    attach_json("tool results", [{"tool": r.tool, "sources": r.sources,
                                  "passages": [{"document": p.title, "score": round(p.score, 4)} for p in r.passages]}
                                 for r in reply.tool_results])
    return reply
