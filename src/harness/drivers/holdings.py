"""What a tenant owns on the platform, of every kind the operator's tenant removal must take away (CONTRACTS.md,
DELETE /api/v1/tenants/{tenant}): given to it through the platform's own doors, and read back only through
public interfaces: the tenant's API, the operator's view of NATS (streams, consumers), the gateway's cache
statistics, and the independent read of the database (@storage).

Each kind has a sentence the specs use, a way to give it to a tenant, and a reading that is empty once the
tenant owns none of it. A tenant's samples carry its own name, so one tenant's reading never matches another's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ai_contract import headers as h
from ai_contract import routes, subjects
from harness.drivers.knowledge_base import document_id
from harness.drivers.messaging import DELIVERY_BUDGET_S
from harness.reporting import attach_json
from harness.waiting import wait_until

if TYPE_CHECKING:
    from harness.world import World

ANSWER_BUDGET_S = 15.0  # an agent asked by another agent asks the language model before its answer comes back
GARBAGE = b"\x00\xffthis is not a message"


@dataclass(frozen=True)
class Kind:
    give: Callable[[Holdings, str | None], None]
    read: Callable[[Holdings, str | None], Any]


class Holdings:
    def __init__(self, world: World) -> None:
        self._world = world
        self._services = world.services
        self.before: dict[str, dict[str, Any]] = {}  # tenant name -> its readings just before a removal
        self.queued: dict[str, str] = {}  # tenant id -> the id of the document it queued for ingestion

    # giving ----------------------------------------------------------------------------------------

    def give(self, kinds: list[str], tenant: str | None = None) -> None:
        """The tenant comes to own one of each kind; each reading then shows it (a sample that tells)."""
        unknown = [k for k in kinds if k not in KINDS]
        assert not unknown, f"no kind of holding called {unknown}; known: {', '.join(KINDS)}"
        for kind in kinds:
            KINDS[kind].give(self, tenant)
        readings = self.read(kinds, tenant)
        empty = [kind for kind, reading in readings.items() if _is_empty(reading)]
        assert not empty, f"expected the tenant {self._label(tenant)} to own each kind, it owns none of {empty}: " \
                          f"{readings}"

    def _label(self, tenant: str | None) -> str:
        return (tenant or "acme").title()

    def _document(self, tenant: str | None) -> None:
        label = self._label(tenant)
        self._world.knowledge_base.add(f"{label} handbook", f"The {label} handbook says desks are cleared at "
                                       f"{len(label) + 3} pm every Friday.", tenant=tenant)

    def _agent_memory(self, tenant: str | None) -> None:
        self._services.create_agent("concierge", tenant=tenant, tools=())
        said = self._services.chat("concierge", f"Hello, I write for {self._label(tenant)}.", "morning",
                                   tenant=tenant)
        assert said.status_code == 200, f"expected the agent's reply, got {said.status_code}: {said.text}"

    def _agent_messages(self, tenant: str | None) -> None:
        for agent in ("planner", "researcher"):
            self._services.create_agent(agent, tenant=tenant, tools=())
        sent = self._services.send_between_agents("planner", "researcher",
                                                  f"Please list the {self._label(tenant)} holidays.", tenant=tenant)
        assert sent.status_code == 202, f"expected the message sent (202), got {sent.status_code}: {sent.text}"
        wait_until(lambda: self._messages_of("planner", tenant), ANSWER_BUDGET_S, "the planner to receive the answer")

    def _consumer(self, tenant: str | None) -> None:
        self._world.messaging.add_tenant_consumer(tenant)

    def _streamed_document(self, tenant: str | None) -> None:
        title = f"{self._label(tenant)} travel rules"
        self._world.messaging.publish_document(title, f"{self._label(tenant)} staff book trains, never planes.",
                                               tenant=tenant)
        kb = self._world.knowledge_base
        wait_until(lambda: document_id(title) in kb.document_ids(tenant=tenant), DELIVERY_BUDGET_S * 2,
                   f"{title!r} to be stored")

    def _dead_letter(self, tenant: str | None) -> None:
        messaging = self._world.messaging
        messaging.publish_bytes(GARBAGE, tenant=tenant)
        parked = messaging.parked("rag", expected=1, tenant=tenant)
        reasons = [(m.headers or {}).get(h.DEAD_LETTER_REASON) for m in parked]
        assert len(parked) == 1 and all(reasons), f"expected the unreadable message parked once, with its reason; " \
                                                  f"seen {reasons}"

    def _cached_answer(self, tenant: str | None) -> None:
        prompt = f"Which desk serves {self._label(tenant)}?"
        for _ in range(2):  # a miss that stores the answer, then a hit
            asked = self._services.generate(prompt, tenant=tenant)
            assert asked.status_code == 200, f"expected the gateway's answer, got {asked.status_code}: {asked.text}"

    def queue_document(self, title: str, text: str, tenant: str | None = None) -> None:
        """The tenant adds a document through the RAG API for ingestion in the background (202)."""
        queued = self._services.add_document(title, text, tenant=tenant, background=True)
        assert queued.status_code == 202, f"expected {title!r} queued (202), got {queued.status_code}: {queued.text}"
        self.queued[self._world.tenants.id_of(tenant)] = queued.json()["data"]["document_id"]

    # reading ---------------------------------------------------------------------------------------

    def read(self, kinds: list[str] | None = None, tenant: str | None = None) -> dict[str, Any]:
        readings = {kind: KINDS[kind].read(self, tenant) for kind in kinds or KINDS}
        attach_json(f"what the tenant {self._label(tenant)} owns", readings)
        return readings

    def left(self, tenant: str | None = None) -> dict[str, Any]:
        """The readings of every kind the tenant still owns some of."""
        return {kind: reading for kind, reading in self.read(tenant=tenant).items() if not _is_empty(reading)}

    def _rows(self, tenant: str | None, *tables: str) -> dict[str, int]:
        counts = self._world.knowledge_base.row_counts(tenant=tenant)
        return {table: counts[table] for table in tables}

    def _documents(self, tenant: str | None) -> dict:
        """Documents and their chunks as the API lists them (a document queued in the background apart)."""
        held = self._world.knowledge_base.held(tenant=tenant)
        queued = self.queued.get(self._world.tenants.id_of(tenant))
        return {doc: chunks for doc, chunks in held.items() if doc != queued}

    def _memory(self, tenant: str | None) -> dict:
        return {"agents": self._world.agents.listed(tenant=tenant), **self._rows(tenant, "agent_memory")}

    def _messages_of(self, agent: str, tenant: str | None) -> list[str]:
        listed = self._services.send("agent", "GET", routes.agent_messages(agent), tenant=tenant, observation=True)
        if listed.status_code == 404:  # no such agent (any more): it received nothing
            return []
        assert listed.status_code == 200, f"expected {agent}'s messages, got {listed.status_code}: {listed.text}"
        return [m["content"] for m in listed.json()["data"]["messages"]]

    def _messages(self, tenant: str | None) -> dict:
        return {"researcher": self._messages_of("researcher", tenant), "planner": self._messages_of("planner", tenant),
                **self._rows(tenant, "agent_messages")}

    def _consumer_name(self, tenant: str | None) -> str | None:
        return self._world.messaging.tenant_consumer(tenant)

    def _stream(self, tenant: str | None) -> int:
        messaging = self._world.messaging
        return messaging.stream_count(subjects.INGEST_STREAM, subjects.rag_ingest(messaging.tenant(tenant)))

    def _parked(self, tenant: str | None) -> int:
        messaging = self._world.messaging
        parked_on = subjects.dead_letter("rag", messaging.tenant(tenant))
        return messaging.stream_count(subjects.DEAD_LETTER_STREAM, parked_on)

    def _cache(self, tenant: str | None) -> dict:
        stats = self._services.cache_stats(tenant=tenant)
        return {name: stats[name] for name in ("hits", "misses", "entries")}

    # removal -----------------------------------------------------------------------------------------

    def remove(self, tenant: str | None = None) -> None:
        """The operator removes the tenant; what every other tenant owned is read just before."""
        tenants = self._world.tenants
        removed = tenants.id_of(tenant)
        self.before = {name: self.read(tenant=name) for name in tenants.names() if tenants.id_of(name) != removed}
        self._services.remove_tenant(self._world.tenants.id_of(tenant))


KINDS: dict[str, Kind] = {  # as the specs name them
    "a document, stored as chunks": Kind(Holdings._document, Holdings._documents),
    "an agent that remembers a conversation": Kind(Holdings._agent_memory, Holdings._memory),
    "messages its agents sent each other": Kind(Holdings._agent_messages, Holdings._messages),
    "an ingestion consumer of its own": Kind(Holdings._consumer, Holdings._consumer_name),
    "a document ingested from the message bus": Kind(Holdings._streamed_document, Holdings._stream),
    "a message parked as a dead letter, with its reason": Kind(Holdings._dead_letter, Holdings._parked),
    "cached answers and the counts of its cache hits and misses": Kind(Holdings._cached_answer, Holdings._cache),
}


def _is_empty(reading: Any) -> bool:
    """Nothing of the kind: no value, or only zeros and empty lists inside."""
    if isinstance(reading, dict):
        return all(_is_empty(v) for v in reading.values())
    return not reading
