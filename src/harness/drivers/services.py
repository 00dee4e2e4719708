"""Drive the platform's HTTP services as a client would: requests and their responses, as seen
on the wire, and the official OpenAI client against the gateway service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx

from ai_contract import routes
from ai_contract.headers import AUTHORIZATION, CORRELATION_ID, REQUEST_ID, TENANT
from ai_contract.settings import DATABASE_URL, DEPENDENCY_TIMEOUT_S, LLM_API_BASE
from harness.drivers.refusal import ServiceRefusal, data_or_refusal
from harness.infra.processes import tls
from harness.platform.environment import CHUNK_OVERLAP, CHUNK_SIZE, PLATFORM_MODEL_NAMES
from harness.platform.processes import stop_together
from harness.reporting import attach_json, register_secret
from harness.world import World

CLIENT_TIMEOUT_S = 30.0
RAG_FOR_CLEANUP = ("rag",)  # the service whose operator route removes the scenario's tenants
ROUTES = {"gateway": "/api/v1/gateway/generate", "rag": "/api/v1/rag/query", "agent": "/api/v1/agents",
          "query": "/api/v1/query"}


# What each service needs besides the services it calls, by the names its readiness check gives them.
MODEL_PROVIDER, NATS, DATABASE = "model provider", "nats", "database"
SERVERS_NEEDED = {"gateway": (MODEL_PROVIDER, NATS), "rag": (DATABASE, NATS), "agent": (DATABASE, NATS), "query": ()}


# The doors a question goes through, as the specs name them: (service, the query API's mode).
ASKING_DOORS = {"the query API in rag mode": ("query", "rag"), "the query API in agent mode": ("query", "agent"),
                "the agent API": ("agent", ""), "the RAG API": ("rag", "")}
ASSISTANT = "assistant"  # the tenant's agent the query API hands anything but a question to


class Services:
    def __init__(self, world: World) -> None:
        self._world = world
        self._client = httpx.Client(timeout=CLIENT_TIMEOUT_S, verify=tls())
        world.add_cleanup(self._client.close)
        world.add_cleanup(self._remove_tenants)  # before the client closes
        self._tenant_data = False  # whether the scenario gave the platform anything of its tenants
        self.openai_seen: dict[str, Any] = {}  # what the OpenAI client received: answer, stream, embeddings
        self._urls: dict[str, str] = {}  # the services this scenario talks to, as first started
        self._overrides: dict[str, str] = {}  # operator settings this scenario's services are deployed with
        self.document_ids: dict[str, str] = {}  # title -> the id the RAG API gave the document
        self.document_texts: dict[str, str] = {}  # title -> the text last sent for it
        self.dependency_timeout_s: float | None = None  # the scenario's own instance's, where it set one

    def url(self, service: str) -> str:
        """The service's base URL; the service starts, with what it calls, on the scenario's first use."""
        if service not in self._urls:  # kept, so a service the scenario stopped stays stopped
            # The first service starts with the RAG service in one batch: the cleanup removes the scenario's
            # tenants through it (RAG_FOR_CLEANUP), so it would start anyway, later and alone.
            along = () if self._urls else RAG_FOR_CLEANUP
            self._urls[service] = self._world.session.services.url(service, self._deployment() or None,
                                                                   along=along)
        return self._urls[service]

    def query_gives_up_after(self, seconds: float) -> None:
        """A query service deployed with its own dependency timeout, in front of the usual RAG and agent services."""
        assert "query" not in self._urls, "deploy the query service with its settings before a step uses it"
        self.dependency_timeout_s = seconds
        overrides = {**self._deployment(), "DEPENDENCY_TIMEOUT_S": f"{seconds:g}",
                     "RAG_SERVICE_URL": self.url("rag"), "AGENT_SERVICE_URL": self.url("agent")}
        self._urls["query"] = self._world.session.services.url("query", overrides)

    def own_instance_behind_links(self, service: str, *, timeout_s: float | None = None) -> None:
        """The scenario's own instance of the service, which its requests to that service reach from now on; it
        reaches every server and service it needs through a link of its own that the scenario can cut or break
        (world.faults.links, by the name its readiness check gives the dependency). It stops in cleanup."""
        assert service not in self._urls, f"start the scenario's own {service} service before a step uses it"
        faults, platform, session = self._world.faults, self._world.session.services, self._world.session
        calls = {dependency: faults.link_to(dependency, self.url(dependency))
                 for dependency in platform.dependencies_of(service)}
        settings = dict(self._deployment())
        for server in SERVERS_NEEDED[service]:
            if server == NATS:
                settings.update(session.infra.bus_credentials.service_settings(
                    faults.link_to(NATS, self._world.nats_url())))
            elif server == DATABASE:
                settings[DATABASE_URL] = faults.link_to(DATABASE, session.database_url)
            else:
                base = {d.name: d for d in session.deployments()}[PLATFORM_MODEL_NAMES["primary"]].api_base
                assert base, "the model provider has no base URL in this profile: there is no link to cut"
                settings[LLM_API_BASE] = faults.link_to(MODEL_PROVIDER, base)
        if timeout_s is not None:
            settings[DEPENDENCY_TIMEOUT_S] = f"{timeout_s:g}"
            self.dependency_timeout_s = timeout_s
        (process,) = platform.replicas(service, [f"{service}-behind-links"], settings, calls)
        self._world.add_cleanup(process.stop)
        self._urls[service] = process.url

    def probe(self, service: str, route: str, request_id: str, correlation_id: str) -> httpx.Response:
        """GET /health or /ready of the service, as a load balancer or an operator asks: no key, with ids."""
        answer = self._client.get(self.url(service) + route,
                                  headers={REQUEST_ID: request_id, CORRELATION_ID: correlation_id})
        attach_json(f"GET {route} of {service} -> {answer.status_code}", {"headers": dict(answer.headers),
                                                                         "body": _body(answer)})
        return answer

    def ask_rag(self, question: str) -> httpx.Response:
        """A question to the RAG API."""
        return self.send("rag", "POST", routes.RAG_QUERY, body={"query": question})

    def ready_to_ask(self, door: str) -> None:
        """What asking through the door needs, before the clock: its service, and the tenant's assistant agent
        where an agent answers."""
        assert door in ASKING_DOORS, f"no way to ask called {door!r}; known: {', '.join(ASKING_DOORS)}"
        self.url(ASKING_DOORS[door][0])
        if door in ("the agent API", "the query API in agent mode"):
            self.create_agent(ASSISTANT)

    def ask_through(self, door: str, question: str) -> httpx.Response:
        """The question, through one of the platform's doors as the specs name them (ASKING_DOORS)."""
        service, mode = ASKING_DOORS[door]
        if service == "query":
            return self.query(question, mode=mode)
        if service == "agent":
            return self.chat(ASSISTANT, question, "questions")
        return self.ask_rag(question)

    def _deployment(self) -> dict[str, str]:
        """The operator settings this scenario's services need: what its Givens configured, and deploy_with."""
        config, settings = self._world.config, {}
        if config.gateway_timeout_s is not None:
            settings["GATEWAY_TIMEOUT_S"] = f"{config.gateway_timeout_s:g}"
        if config.fallbacks:
            settings["GATEWAY_FALLBACKS"] = ",".join(f"{primary}:{backup}" for primary, backups
                                                     in config.fallbacks.items() for backup in backups)
        if (config.chunk_size, config.chunk_overlap) != (CHUNK_SIZE, CHUNK_OVERLAP):
            settings["RAG_CHUNK_SIZE"], settings["RAG_CHUNK_OVERLAP"] = map(str, (config.chunk_size,
                                                                                  config.chunk_overlap))
        if self._world.stops_services:  # its own instances, so the run's shared ones are never stopped
            settings["NATS_WORKERS"] = "off"
        return {**settings, **self._overrides}

    def logs(self) -> str:
        """What every service this scenario started has logged so far."""
        services = [name for name in self._urls if name in ("gateway", "rag", "agent", "query")]
        return "\n".join(self.log_of(name) for name in services)

    def log_of(self, service: str) -> str:
        """What the service's process has logged so far, as its operator would read it."""
        path = self._world.session.services.process(service, self._deployment() or None).log_path
        return path.read_text(errors="replace") if path.exists() else ""

    def deploy_with(self, **settings: str) -> None:
        """Operator settings for this scenario's services: an instance deployed with them, reused by the run."""
        assert not self._urls, "deploy the services with their settings before a step uses them"
        self._overrides.update(settings)

    def second_gateway(self) -> str:
        """Another gateway instance of the same platform (same NATS, same database), as a scaled-out deployment."""
        if "second gateway" not in self._urls:
            self._urls["second gateway"] = self._world.session.services.url(
                "gateway", {**self._deployment(), "GATEWAY_INSTANCE": "second"})
        return self._urls["second gateway"]

    def stop(self, service: str) -> None:
        """Kill the service's process at once; it comes back, on the same port, in the scenario's cleanup."""
        for name in ("query", service):  # everything above it is running first, and remembered
            self.url(name)
        assert self._world.stops_services, "a scenario that stops a service is tagged @service-control"
        process = self._world.session.services.process(service, self._deployment())
        self._world.add_cleanup(self._world.session.services.process, service, self._deployment())  # ready again
        process.kill()

    def holds_tenant_data(self) -> None:
        """The scenario reached the platform by another way than this driver (NATS): remove its tenants at the end."""
        self._tenant_data = True

    def _remove_tenants(self) -> None:
        """Cleanup: the operator API removes each of the scenario's tenants, and only those."""
        if self._tenant_data:
            for tenant_id in self._world.tenants.all_ids():
                self.remove_tenant(tenant_id)

    def replicas(self, service: str, names: list[str], settings: dict[str, str], *, ready: bool = True) -> list:
        """Replicas of the service, each its own process named as given (SERVICE_INSTANCE), with the scenario's
        operator settings over `settings`; they stop in the scenario's cleanup."""
        platform = self._world.session.services
        calls = {dependency: self.url(dependency) for dependency in platform.dependencies_of(service)}
        started = platform.replicas(service, names, {**self._deployment(), **settings}, calls, ready=ready)
        self._world.add_cleanup(stop_together, started)
        return started

    def readiness(self, process) -> dict | None:
        """What the process answers on GET /ready (its status and, when not ready, the dependencies it names);
        None while it does not answer HTTP."""
        try:
            answer = self._client.get(process.url + routes.READY)
        except httpx.TransportError:
            return None
        return {"status": answer.status_code, **answer.json()}

    def is_ready(self, process) -> bool:
        answer = self.readiness(process)
        return answer is not None and answer["status"] == 200

    def key_of(self, tenant_id: str, base_url: str | None = None) -> str:
        """The tenant's API key, issued once a run by the operator route of a service (the RAG service's unless
        named); kept out of every report."""
        issued = self._world.session.tenant_keys
        if tenant_id not in issued:
            url = (base_url or self.url("rag")) + routes.tenant_keys(tenant_id)
            with self._world.telemetry.client_span(f"POST {routes.tenant_keys(tenant_id)}", tenant_id,
                                                   observation=True) as trace_headers:
                answer = self._client.post(url, headers={
                    **trace_headers, AUTHORIZATION: f"Bearer {self._world.session.operator_key}"})
            assert answer.status_code == 201, (
                f"expected the operator route to issue the tenant's key (201), got {answer.status_code}: {answer.text}")
            issued[tenant_id] = answer.json()["data"]["key"]
            register_secret(issued[tenant_id])
        return issued[tenant_id]

    def remove_tenant(self, tenant_id: str) -> None:
        """The operator API removes everything the tenant owns; anything but 204 is the platform's failure."""
        # The deployment's RAG service, never the scenario's own instance: that one stops, with its links, first.
        removed = self.send("rag", "DELETE", routes.tenant(tenant_id), as_tenant=False, observation=True, shared=True)
        if removed.status_code != 204:
            data_or_refusal(removed)  # raises the refusal the service gave
            raise AssertionError(f"expected 204 from the tenant removal, got {removed.status_code}: {removed.text}")

    # what a client of the platform does ---------------------------------------------------------

    def add_document(self, title: str, text: str, *, tenant: str | None = None, background: bool = False,
                     **fields: Any) -> httpx.Response:
        """The RAG API's add, with any other field of the contract's (document_id, content_type, metadata)."""
        body = {"title": title, "content": text, "async": background, **fields}
        self.document_texts[title] = text
        added = self.send("rag", "POST", routes.DOCUMENTS, body=body, tenant=tenant)
        if added.is_success:
            self.document_ids[title] = added.json()["data"]["document_id"]
        return added

    def delete_document(self, title: str) -> httpx.Response:
        assert title in self.document_ids, f"the scenario added no document {title!r} through the RAG API"
        return self.send("rag", "DELETE", routes.document(self.document_ids[title]))

    def documents_listed(self, *, tenant: str | None = None) -> dict:
        """The RAG API's document list: its documents and their count."""
        return self._look("rag", routes.DOCUMENTS, "the document list", tenant)

    def document_titles(self, *, tenant: str | None = None) -> list[str]:
        return sorted(d["title"] for d in self.documents_listed(tenant=tenant)["documents"])

    def query(self, text: str, *, mode: str = "auto", tenant: str | None = None, fields: dict | None = None,
              **headers: str) -> httpx.Response:
        """The unified query, with any other field of the contract's (top_k, threshold, conversation_id)."""
        return self.send("query", "POST", "/api/v1/query", body={"query": text, "mode": mode, **(fields or {})},
                         tenant=tenant, headers=headers)

    def query_at_once(self, text: str, tenants: list[str]) -> list[httpx.Response]:
        """The tenants' users ask the query API the same question at the same moment, one thread each."""
        self.url("query")  # started first, so the requests race each other and not the start
        with ThreadPoolExecutor(len(tenants)) as pool:
            return list(pool.map(lambda tenant: self.query(text, tenant=tenant), tenants))

    def create_agent(self, name: str, *, tenant: str | None = None, tools: tuple[str, ...] = ("knowledge_base_search",),
                     system_prompt: str | None = None) -> httpx.Response:
        """A new agent with the id given and that name, title-cased; anything but 201 fails the step."""
        created = self.define_agent(name.title(), agent_id=name, tools=tools, system_prompt=system_prompt,
                                    tenant=tenant)
        assert created.status_code == 201, f"expected the agent created, got {created.status_code}: {created.text}"
        return created

    def define_agent(self, name: str, *, agent_id: str | None = None, tools: tuple[str, ...] = (),
                     system_prompt: str | None = None, tenant: str | None = None) -> httpx.Response:
        """The agent API's define, as a client sends it: a name, the tools, and the agent's id and instructions only
        when given."""
        body = {"name": name, "tool_ids": list(tools), **({"agent_id": agent_id} if agent_id else {}),
                **({"system_prompt": system_prompt} if system_prompt else {})}
        return self.send("agent", "POST", routes.AGENTS, body=body, tenant=tenant)

    def agents_listed(self, *, tenant: str | None = None) -> dict:
        """The agent API's list: the tenant's agents and their count."""
        return self._look("agent", routes.AGENTS, "the agent list", tenant)

    def chat(self, agent: str, message: str, conversation: str | None, *, tenant: str | None = None) -> httpx.Response:
        """A turn with the agent; without a conversation the agent API starts a new one."""
        body = {"message": message, **({"session_id": conversation} if conversation else {})}
        return self.send("agent", "POST", f"/api/v1/agents/{agent}/chat", body=body, tenant=tenant)

    def execute(self, agent: str, task_type: str, parameters: dict, priority: int | None, *,
                tenant: str | None = None) -> httpx.Response:
        """The agent runs a task over HTTP and reports its result in the answer (no priority: the contract's)."""
        body = {"task_type": task_type, "parameters": parameters,
                **({"priority": priority} if priority is not None else {})}
        return self.send("agent", "POST", routes.agent_execute(agent), tenant=tenant, body=body)

    def execute_task(self, agent: str, question: str, priority: int | None) -> httpx.Response:
        """The agent runs a task to answer the question."""
        return self.execute(agent, "answer", {"question": question}, priority)

    def send_between_agents(self, source: str, target: str, text: str, *, tenant: str | None = None) -> httpx.Response:
        """The agent service's agent `source` sends a request to the agent `target`, over the message bus."""
        return self.send("agent", "POST", routes.agent_messages(source),
                         body={"target_agent_id": target, "content": text}, tenant=tenant)

    def messages_received_by(self, agent: str, *, tenant: str | None = None) -> list[dict]:
        """What the agent service says its agent received from other agents, oldest first."""
        return self._look("agent", routes.agent_messages(agent), f"{agent}'s messages", tenant)["messages"]

    def agent(self, agent: str, *, tenant: str | None = None) -> httpx.Response:
        return self.send("agent", "GET", f"/api/v1/agents/{agent}", tenant=tenant, observation=True)

    def send(self, service: str, method: str, path: str, *, body: Any = None, content: bytes | None = None,
             headers: dict[str, str] | None = None, tenant: str | None = None, as_tenant: bool = True,
             observation: bool = False, key: str | None = None, shared: bool = False) -> httpx.Response:
        """One HTTP request as a client sends it; the response, whatever its status, is the result.

        It carries the tenant's key (as_tenant) or the operator's, unless `key` says which ("" for none), and
        runs inside the suite's client span, whose traceparent it carries: the platform's spans for it make
        one trace. An observation (a Then step reading the platform) is not the scenario's request.
        """
        tenant_id = self._world.tenants.id_of(tenant)
        self._tenant_data = self._tenant_data or not observation
        if shared:  # the deployment's instance, whatever the scenario runs of its own
            base = self._world.session.services.url(service, self._deployment() or None)
        else:
            base = self.second_gateway() if service == "second gateway" else self.url(service)
        if key is None:
            key = self.key_of(tenant_id, base) if as_tenant else self._world.session.operator_key
        sent = {"Content-Type": "application/json", **({TENANT: tenant_id} if as_tenant else {}),
                **({AUTHORIZATION: f"Bearer {key}"} if key else {}), **(headers or {})}
        url = base + path
        telemetry = self._world.telemetry
        if not observation:
            telemetry.settle()
        with telemetry.client_span(f"{method} {path}", tenant_id, observation=observation) as trace_headers:
            response = self._client.request(method, url, json=body if content is None else None, content=content,
                                            headers={**trace_headers, **sent})
            telemetry.mark_status(response.status_code)
        attach_json(f"{method} {path} -> {response.status_code}", {
            "request": {"headers": sent, "body": body if content is None else f"({len(content)} bytes)"},
            "response": {"status": response.status_code, "headers": dict(response.headers),
                         "body": _body(response)}})
        return response

    def generate(self, prompt: str, *, tenant: str | None = None, instance: str = "gateway",
                 options: dict | None = None, instruction: str | None = None, **headers: str) -> httpx.Response:
        """A completion of the prompt, with generation options (model, sampling, limits) and a system instruction
        before it when given."""
        asked = ({"messages": [{"role": "system", "content": instruction}, {"role": "user", "content": prompt}]}
                 if instruction is not None else {"prompt": prompt})
        return self.send(instance, "POST", ROUTES["gateway"], body={**asked, **(options or {})}, headers=headers,
                         tenant=tenant)

    def ask_gateway_for(self, kind: str, **headers: str) -> httpx.Response:
        """A request of a kind the specs name, with the caller's headers: each gets an answer of its own shape."""
        question = "Which day is the market open?"
        kinds = {"a streamed completion": ("POST", routes.GENERATE_STREAM, {"prompt": question}),
                 "an OpenAI chat completion": ("POST", routes.OPENAI_CHAT, {
                     "model": PLATFORM_MODEL_NAMES["primary"], "messages": [{"role": "user", "content": question}]}),
                 "the OpenAI model list": ("GET", routes.OPENAI_MODELS, None),
                 "its OpenAPI document": ("GET", "/openapi.json", None)}
        assert kind in kinds, f"unknown kind of request {kind!r}; the specs name {', '.join(kinds)}"
        method, path, body = kinds[kind]
        return self.send("gateway", method, path, body=body, headers=headers)

    def stream(self, prompt: str) -> httpx.Response:
        """The gateway's server-sent events for the prompt, read to the end."""
        return self.send("gateway", "POST", routes.GENERATE_STREAM, body={"prompt": prompt})

    def cache_stats(self, *, tenant: str | None = None) -> dict:
        return self._look("gateway", routes.CACHE_STATS, "the cache statistics", tenant)

    def ask_cache_stats(self) -> httpx.Response:
        """The tenant's request for its cache statistics, whatever the answer."""
        return self.send("gateway", "GET", routes.CACHE_STATS)

    def _look(self, service: str, path: str, what: str, tenant: str | None) -> dict:
        """A GET the scenario observes with (not one of its actions): its data, or the step fails naming what."""
        seen = self.send(service, "GET", path, tenant=tenant, observation=True)
        assert seen.status_code == 200, f"expected {what}, got {seen.status_code}: {seen.text}"
        return seen.json()["data"]

    def bad_request(self, service: str, kind: str) -> httpx.Response:
        """A request a careless client could send, by the name the specs give it."""
        route = ROUTES[service]
        routed: dict[str, tuple[str, str, dict]] = {  # kind -> (method, path, how it is sent)
            "a document without a title": ("POST", "/api/v1/rag/documents", {"body": {"content": "Some text."}}),
            "a document with an empty text": ("POST", "/api/v1/rag/documents", {
                "body": {"title": "Blank", "content": ""}}),
            'a document of type "application/pdf"': ("POST", "/api/v1/rag/documents", {
                "body": {"title": "Scan", "content": "%PDF-1.7", "content_type": "application/pdf"}}),
            "a question asking for the top 0 passages": ("POST", "/api/v1/rag/query", {
                "body": {"query": "When does the office open?", "top_k": 0}}),
            "a search with neither a text nor an embedding": ("POST", "/api/v1/rag/search", {"body": {"top_k": 3}}),
            'a request for the document "never-added"': ("GET", "/api/v1/rag/documents/never-added", {}),
            'an agent with the tool "crystal_ball"': ("POST", "/api/v1/agents", {
                "body": {"name": "Oracle", "tool_ids": ["crystal_ball"]}}),
            'a message to the agent "nobody"': ("POST", "/api/v1/agents/nobody/chat", {"body": {"message": "Hi"}}),
            'a query in the mode "psychic"': ("POST", "/api/v1/query", {"body": {"query": "Hi", "mode": "psychic"}}),
            "a query without an API key": ("POST", "/api/v1/query", {"body": {"query": "Hi"}, "key": ""}),
            "a blank query": ("POST", "/api/v1/query", {"body": {"query": "   "}}),
        }
        if kind in routed:
            method, path, sent = routed[kind]
            return self.send(service, method, path, **sent)
        samples: dict[str, dict] = {
            "a completion request without an API key": {"body": {"prompt": "Hello"}, "key": ""},
            "a body that is not JSON": {"content": b'{"prompt": "Hello",'},
            "a completion request with the temperature 5": {"body": {"prompt": "Hello", "temperature": 5}},
            "a completion request with the temperature -0.5": {"body": {"prompt": "Hello", "temperature": -0.5}},
            "a completion request with the top_p 0": {"body": {"prompt": "Hello", "top_p": 0}},
            "a completion request with the top_p 1.5": {"body": {"prompt": "Hello", "top_p": 1.5}},
            "a completion request with five stop words": {"body": {"prompt": "Hello", "stop": [
                "END", "STOP", "###", "Q:", "FIN"]}},
            "a completion request with the max_tokens 0": {"body": {"prompt": "Hello", "max_tokens": 0}},
            "a completion request with neither prompt nor messages": {"body": {"temperature": 0.5}},
            "a completion request with an empty conversation": {"body": {"messages": []}},
            'a completion request whose max_tokens is "many"': {"body": {"prompt": "Hello", "max_tokens": "many"}},
            'a completion request for the model "gpt-9-turbo"': {"body": {"prompt": "Hello", "model": "gpt-9-turbo"}},
            "a body of 2 MiB": {"content": json.dumps({"prompt": "x" * (2 * 1024 * 1024)}).encode()},
        }
        if kind == "a GET to the completion route":
            return self.send(service, "GET", route)
        if kind.startswith('a request to the route "'):
            return self.send(service, "POST", kind.split('"')[1], body={})
        assert kind in samples, f"no bad request called {kind!r}; known: {', '.join(samples)}"
        return self.send(service, "POST", route, **samples[kind])

    # who is calling ------------------------------------------------------------------------------

    def knock(self, door: str, credential: str = "the tenant's key", *, tenant: str | None = None,
              naming_tenant: str | None = None, scheme: str | None = None) -> httpx.Response:
        """A request through one of the platform's doors (DOORS), carrying the credential the spec names (or the
        tenant's key under the scheme given), as the tenant, naming another tenant in X-Tenant-ID when asked to."""
        service, method, path, body = DOORS[door]
        tenant_id = self._world.tenants.id_of(tenant)
        base = self.url(service)
        key = {"no key": "", "the tenant's key": None, "the operator's key": self._world.session.operator_key,
               "a made-up key": "sk-made-up-0123456789abcdef",
               "the tenant's key with another signature": forged(self.key_of(tenant_id, base)),
               "the tenant's key under another prefix": reprefixed(self.key_of(tenant_id, base)),
               "the tenant's key with the Basic scheme": None}[credential]
        headers = {TENANT: self._world.tenants.id_of(naming_tenant)} if naming_tenant else {}
        if credential == "the tenant's key with the Basic scheme":
            headers[AUTHORIZATION], key = f"Basic {self.key_of(tenant_id, base)}", ""
        if scheme is not None:  # the tenant's key under a scheme spelt as the spec says ("bearer", "BEARER")
            headers[AUTHORIZATION], key = f"{scheme} {self.key_of(tenant_id, base)}", ""
        return self.send(service, method, path.replace("{tenant}", tenant_id), body=body, tenant=tenant,
                         headers=headers, key=key)

    def operator_route(self, action: str, of_tenant: str, *, tenant: str | None = None) -> httpx.Response:
        """A tenant's client calls an operator route (remove a tenant, issue a key) with its own key."""
        target = self._world.tenants.id_of(of_tenant)
        method, path = {"remove everything": ("DELETE", routes.tenant(target)),
                        "issue a key": ("POST", routes.tenant_keys(target))}[action]
        return self.send("rag", method, path, tenant=tenant, key=self.key_of(self._world.tenants.id_of(tenant)))

    def _openai(self, api_key: str | None = None):
        """The official OpenAI client pointed at the gateway service, as the tenant (or with the key given)."""
        from openai import OpenAI  # imported here: only the scenarios about it pay for it

        base = self.url("gateway")
        client = OpenAI(base_url=base + "/v1", api_key=api_key or self.key_of(self._world.tenant, base),
                        max_retries=0, timeout=CLIENT_TIMEOUT_S)
        self._world.add_cleanup(client.close)
        return client

    @contextmanager
    def _openai_span(self, what: str) -> Iterator[dict[str, str]]:
        """The suite's client span around a call of the OpenAI client; yields the headers that carry it."""
        with self._world.telemetry.client_span(what, self._world.tenant) as trace_headers:
            yield trace_headers

    def openai_chat(self, prompt: str, **options: Any) -> str:
        """The client's chat completion, with the OpenAI options given; the whole reply is kept as "reply"."""
        client = self._openai()
        with self._openai_span(f"POST {routes.OPENAI_CHAT}") as trace_headers:
            reply = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": prompt}],
                                                   extra_headers=trace_headers, **options)
        self.openai_seen["reply"] = reply
        self.openai_seen["answer"] = reply.choices[0].message.content
        return self.openai_seen["answer"]

    def openai_stream(self, prompt: str, *, include_usage: bool = False) -> str:
        """The client's streamed chat completion, read to the end; its chunks are kept as "chunks"."""
        options = {"stream_options": {"include_usage": True}} if include_usage else {}
        client = self._openai()
        from openai import APIError

        chunks = self.openai_seen["chunks"] = []  # what the client received, kept when the stream fails midway
        with self._openai_span(f"POST {routes.OPENAI_CHAT} (stream)") as trace_headers:
            try:
                for chunk in client.chat.completions.create(
                        model="chat", messages=[{"role": "user", "content": prompt}], stream=True,
                        extra_headers=trace_headers, **options):
                    chunks.append(chunk)
            except APIError as exc:  # an error event midway: the client raises what the gateway sent
                raise ServiceRefusal(200, exc.code or "", exc.message, {"type": exc.type or ""},
                                     streamed_before=self._openai_text()) from exc
        self.openai_seen["stream"] = self._openai_text()
        return self.openai_seen["stream"]

    def _openai_text(self) -> str:
        """The text of the chunks the OpenAI client received."""
        return "".join(c.choices[0].delta.content or "" for c in self.openai_seen.get("chunks", []) if c.choices)

    def embed(self, texts: list[str], **options: Any) -> httpx.Response:
        """The gateway service's own embeddings route (the contract's, not OpenAI's)."""
        return self.send("gateway", "POST", routes.EMBEDDINGS, body={"texts": texts, **options})

    def openai_models(self) -> list[str]:
        client = self._openai()
        with self._openai_span(f"GET {routes.OPENAI_MODELS}") as trace_headers:
            return [model.id for model in client.models.list(extra_headers=trace_headers)]

    def openai_refusal(self, prompt: str, *, api_key: str | None = None, **options: Any):
        """What the official OpenAI client raised for a chat completion with these options (its APIStatusError,
        which it builds from the gateway's error body), or None when it got an answer."""
        from openai import APIStatusError

        client = self._openai(api_key)
        try:
            with self._openai_span(f"POST {routes.OPENAI_CHAT}") as trace_headers:
                client.chat.completions.create(
                    model="chat", messages=[{"role": "user", "content": prompt}], extra_headers=trace_headers,
                    **options)
        except APIStatusError as refused:
            return refused
        return None

    def openai_embed(self, texts: list[str]) -> list[list[float]]:
        client = self._openai()
        with self._openai_span(f"POST {routes.OPENAI_EMBEDDINGS}") as trace_headers:
            made = client.embeddings.create(model="embedding", input=texts, extra_headers=trace_headers)
        self.openai_seen["embedded"] = list(texts)
        self.openai_seen["embeddings"] = [item.embedding for item in made.data]
        return self.openai_seen["embeddings"]


# The platform's doors, by the name the specs give them: (service, method, path, body). A "{tenant}" in the
# path is the caller's tenant.
DOORS: dict[str, tuple[str, str, str, Any]] = {
    "a completion request": ("gateway", "POST", routes.GENERATE, {"prompt": "Hello"}),
    "a streamed completion request": ("gateway", "POST", routes.GENERATE_STREAM, {"prompt": "Hello"}),
    "an embeddings request": ("gateway", "POST", routes.EMBEDDINGS, {"texts": ["Hello"]}),
    "a cache statistics request": ("gateway", "GET", routes.CACHE_STATS, None),
    "an OpenAI chat completion": ("gateway", "POST", routes.OPENAI_CHAT, {
        "model": "chat", "messages": [{"role": "user", "content": "Hello"}]}),
    "an OpenAI embeddings request": ("gateway", "POST", routes.OPENAI_EMBEDDINGS, {"model": "embedding",
                                                                                   "input": ["Hello"]}),
    "an OpenAI model list": ("gateway", "GET", routes.OPENAI_MODELS, None),
    "a document": ("rag", "POST", routes.DOCUMENTS, {"title": "Door", "content": "A door opens."}),
    "a document list": ("rag", "GET", routes.DOCUMENTS, None),
    "a question": ("rag", "POST", routes.RAG_QUERY, {"query": "When does the office open?"}),
    "a search": ("rag", "POST", routes.RAG_SEARCH, {"query_text": "office"}),
    "an agent": ("agent", "POST", routes.AGENTS, {"name": "Door keeper"}),
    "an agent list": ("agent", "GET", routes.AGENTS, None),
    "a query": ("query", "POST", routes.QUERY, {"query": "When does the office open?"}),
}


def forged(key: str) -> str:
    """The same tenant, a signature the platform never made."""
    head, _, signature = key.rpartition(".")
    return f"{head}.{'A' * len(signature)}"


def reprefixed(key: str) -> str:
    """The same tenant and signature under a first part the platform never gave a key."""
    _, dot, rest = key.partition(".")
    return f"sk{dot}{rest}" if dot else f"sk-{key}"


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]
