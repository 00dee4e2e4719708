"""Drive agents through the agent service: each tenant's agents by name, asked in a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai_contract import routes
from harness.drivers.exchange import model_exchange
from harness.drivers.refusal import data_or_refusal
from harness.reporting import attach_json

if TYPE_CHECKING:
    from harness.world import World


@dataclass(frozen=True)
class Agent:
    name: str
    tenant: str | None  # the tenant's name in the spec; None is the scenario's default tenant


@dataclass(frozen=True)
class Reply:
    """The agent service's reply as its caller receives it."""

    text: str
    sources: list[str]
    tools_used: list[str]
    usage: dict  # prompt_tokens, completion_tokens, total_tokens, as the service reports them


@dataclass(frozen=True)
class TaskDone:
    """The agent service's answer to a task, as its caller receives it."""

    status: str
    task_type: str
    priority: int
    reply: Reply


class Agents:
    def __init__(self, world: World) -> None:
        self._world = world
        self._services = world.services
        self._agents: dict[tuple[str | None, str], Agent] = {}

    def create(self, name: str, *, tenant: str | None = None, tools: tuple[str, ...] = ("knowledge_base_search",),
               instructions: str | None = None) -> Agent:
        """An agent defined through the agent API: by default a support agent with the knowledge base search
        tool and the platform's own instructions."""
        self._services.create_agent(name, tenant=tenant, tools=tools, system_prompt=instructions)
        self._agents[(tenant, name)] = agent = Agent(name, tenant)
        return agent

    def only_agent_of(self, tenant: str | None = None) -> Agent:
        agents = [a for (t, _), a in self._agents.items() if t == tenant]
        who = tenant or "(default)"
        assert len(agents) == 1, f"expected one agent of the tenant {who}, the scenario has {len(agents)}"
        return agents[0]

    def named(self, name: str, *, tenant: str | None = None) -> Agent:
        assert (tenant, name) in self._agents, f"this scenario has no agent called {name!r}"
        return self._agents[(tenant, name)]

    def listed(self, *, tenant: str | None = None) -> list[str]:
        """The tenant's agents, as the agent API lists them."""
        listed = self._services.send("agent", "GET", routes.AGENTS, tenant=tenant, observation=True)
        assert listed.status_code == 200, f"expected the agent list, got {listed.status_code}: {listed.text}"
        return sorted(a["agent_id"] for a in listed.json()["data"]["agents"])

    def ask(self, agent: Agent, message: str, session: str, *, as_tenant: str | None = None) -> Reply:
        """Ask the agent, as its own tenant unless `as_tenant` names another."""
        with model_exchange(self._world):
            response = self._services.chat(agent.name, message, session, tenant=as_tenant or agent.tenant)
        data = data_or_refusal(response)
        attach_json("agent reply", {"sources": data["sources"], "tools_used": data["tools_used"]})
        return Reply(data["message"], data["sources"], data["tools_used"], data["usage"])

    def give_task(self, agent: Agent, question: str, priority: int) -> TaskDone:
        """An "answer" task for the agent, with its priority, through the agent API's execute route."""
        with model_exchange(self._world):
            response = self._services.execute(agent.name, "answer", {"question": question}, priority,
                                              tenant=agent.tenant)
        data = data_or_refusal(response)
        result = data["result"]
        return TaskDone(data["status"], data["task_type"], data["priority"],
                        Reply(result["answer"], result["sources"], result["tools_used"], result["usage"]))
