"""Plant faults in the platform, one at a time, and see which scenarios catch each (run from the repo root).

    python benchmarks/plant_faults.py              # every fault below, embedded platform
    python benchmarks/plant_faults.py 2 5          # only those
    python benchmarks/plant_faults.py --external   # against the platform command's deployment (make external)

Each fault is a (file, original text, faulty text, features that should catch it). The file is restored
after its run, whatever happens. A fault is caught when behave exits non-zero.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FAULTS = [
    ("tenant removal leaves NATS untouched", "src/ai_platform/services/rag.py",
     "        await queue.forget(tenant_id)\n", "", ["features/rag/tenant_removal.feature"]),
    ("tenant removal keeps the agents", "src/ai_platform/store/store.py",
     "            conn.execute(delete(self.agents).where(self.agents.c.tenant_id == tenant_id))\n", "",
     ["features/rag/tenant_removal.feature"]),
    ("workers reply to a codec error without parking it", "src/ai_platform/messaging/workers.py",
     "            await self.bus.park(self.component, tenant, msg, exc.reason, str(exc))\n", "",
     ["features/messaging/codec_on_the_wire.feature"]),
    ("every agent instance reports the same worker id", "src/ai_platform/services/agent.py",
     'TaskWorker(bus, None, instance_name("agent"), run_task)', 'TaskWorker(bus, None, "agent-service", run_task)',
     ["features/messaging/worker_pools.feature"]),
    ("the RAG service ignores the operator's max deliveries", "src/ai_platform/services/rag.py",
     'ingest_max_deliver=int(number("RAG_INGEST_MAX_DELIVER", 5, environ))', "ingest_max_deliver=5",
     ["features/messaging/dead_letters.feature"]),
    ("a service is ready before its NATS workers listen", "src/ai_platform/services/nats_workers.py",
     '        return self._problem\n', '        return None\n',
     ["features/messaging/connection_failures.feature"]),
    ("the agent service skips the tenant check of a task", "src/ai_platform/messaging/workers.py",
     "        if sender_tenant != tenant:", "        if False:", ["features/messaging/gateway_over_nats.feature"]),
    ("an agent's answer to another agent is never sent", "src/ai_platform/messaging/workers.py",
     "        if answer is not None:\n", "        if False:\n", ["features/messaging/agent_service_messaging.feature"]),
    ("a message between agents is kept for its sender", "src/ai_platform/services/agent.py",
     "store.get().receive_message(tenant_id, message.target_agent_id, received)",
     "store.get().receive_message(tenant_id, message.source_agent_id, received)",
     ["features/messaging/agent_service_messaging.feature"]),
    ("tenant removal keeps the agents' messages", "src/ai_platform/store/store.py",
     "            conn.execute(delete(self.agent_messages).where(self.agent_messages.c.tenant_id == tenant_id))\n",
     "", ["features/messaging/agent_service_messaging.feature"]),
    ("the gateway ignores the operator's fallbacks", "src/ai_platform/services/gateway.py",
     "        fallbacks.setdefault(primary.strip(), []).append(backup.strip())\n", "        pass\n",
     ["features/gateway/failures.feature"]),
    ("the gateway ignores the operator's cache TTL", "src/ai_platform/services/gateway.py",
     'number("GATEWAY_CACHE_TTL_S", DEFAULT_TTL_S)', "DEFAULT_TTL_S", ["features/services/gateway_cache.feature"]),
    ("the query service ignores its dependency timeout", "src/ai_platform/services/config.py",
     'return number("DEPENDENCY_TIMEOUT_S", DEFAULT_DEPENDENCY_TIMEOUT_S, environ)',
     "return DEFAULT_DEPENDENCY_TIMEOUT_S", ["features/e2e/questions_over_http.feature"]),
    ("a request naming another tenant than its key's is served", "src/ai_platform/services/http.py",
     "    if claimed and claimed != tenant:", "    if False:", ["features/security/identity.feature"]),
    ("a tenant's key opens the operator routes", "src/ai_platform/services/http.py",
     "        if tenant:\n            return 403, FORBIDDEN", "        if False:\n            return 403, FORBIDDEN",
     ["features/security/identity.feature"]),
    ("the gateway passes the provider's error text on", "src/ai_platform/gateway/gateway.py",
     "text, cause = str(exc).lower(), self._safe_cause(exc, model)", "text, cause = str(exc).lower(), str(exc)",
     ["features/gateway/secrets.feature"]),
    ("log records are not masked", "src/ai_platform/services/redaction.py",
     "        record.msg, record.args = mask(text, _secrets), ()", "        record.msg, record.args = text, ()",
     ["features/gateway/secrets.feature"]),
    ("an unknown key is taken as no tenant instead of refused", "src/ai_platform/services/http.py",
     "        return 401, UNAUTHENTICATED, \"The API key is not valid.\"\n    claimed",
     "        return None\n    claimed", ["features/security/identity.feature"]),
    ("the OpenAI routes answer errors in the contract's envelope", "src/ai_platform/services/http.py",
     "    if request.url.path.startswith(OPENAI_PREFIX):", "    if False:",
     ["features/services/gateway_service.feature", "features/security/identity.feature"]),
    ("the gateway drops OpenAI options it does not support", "src/ai_platform/services/gateway.py",
     "        body.refuse_unsupported()\n", "", ["features/services/gateway_service.feature"]),
    ("the model list leaves out the backup model", "src/ai_platform/services/gateway.py",
     "for name in gateway.models]})", "for name in gateway.models if name != 'chat-backup']})",
     ["features/services/gateway_service.feature"]),
    ("a tenant's bus client may subscribe to any subject", "src/ai_platform/messaging/authorization.py",
     '"sub": {"allow": allowed["subscribe"]}', '"sub": {"allow": [">"]}',
     ["features/security/bus_permissions.feature"]),
    ("a tenant's bus client may publish on every tenant's subjects", "src/ai_platform/messaging/authorization.py",
     '"pub": {"allow": allowed["publish"]}', '"pub": {"allow": ["ai.>"]}',
     ["features/security/bus_permissions.feature"]),
    ("a bus client with an unknown key gets in as a guest", "src/ai_platform/messaging/authorization.py",
     "tenant_id = self._tenant_of(token) if token else None",
     'tenant_id = (self._tenant_of(token) or "guest") if token else None',
     ["features/security/bus_permissions.feature"]),
    ("an anonymous bus client gets in", "src/ai_platform/messaging/authorization.py",
     "tenant_id = self._tenant_of(token) if token else None",
     'tenant_id = self._tenant_of(token) if token else "anonymous"',
     ["features/security/bus_permissions.feature"]),
    ("a tenant's bus client may read every tenant's reply inbox", "src/ai_platform/messaging/authorization.py",
     '"sub": {"allow": allowed["subscribe"]}', '"sub": {"allow": [*allowed["subscribe"], "_INBOX.>"]}',
     ["features/security/bus_permissions.feature"]),
    ("request bodies take JSON's loose types again (true as a number, 0 as a boolean)",
     "src/ai_platform/services/inputs.py", "strict=True, extra=", "strict=False, extra=",
     ["features/security/hostile_input.feature"]),
    ("a chunked body is read to its end, however large", "src/ai_platform/services/bodies.py",
     "            if size > self.max_bytes:\n", "            if size > self.max_bytes * 100:\n",
     ["features/security/hostile_input.feature"]),
    ("a body that stalls is waited for as long as it takes", "src/ai_platform/services/bodies.py",
     "await asyncio.wait_for(self._read(receive), self.timeout_s)", "await self._read(receive)",
     ["features/security/hostile_input.feature"]),
    ("id headers are passed on unchecked", "src/ai_platform/services/http.py",
     "        if bad_ids:\n", "        if bad_ids and False:\n", ["features/security/hostile_input.feature"]),
    ("unknown fields are ignored", "src/ai_platform/services/inputs.py",
     'extra="forbid"', 'extra="ignore"', ["features/security/hostile_input.feature"]),
    ("NaN deep in a body reaches the route", "src/ai_platform/services/bodies.py",
     '        return path or "body", f"{value} is not a number JSON allows"\n', "        return None\n",
     ["features/security/hostile_input.feature"]),
    ("the OpenAPI documents forget the streaming content type", "src/ai_platform/services/openapi.py",
     "content = {EVENT_STREAM: {", 'content = {"application/json": {',
     ["features/services/contract_fuzzing.feature"]),
    ("documented statuses: a route forgets its 404", "src/ai_platform/services/agent.py",
     '"/api/v1/agents/{agent_id}", **answers(404, 503))', '"/api/v1/agents/{agent_id}", **answers(503))',
     ["features/services/contract_fuzzing.feature"]),
    ("a delete does not supersede a queued document", "src/ai_platform/store/store.py",
     "                if entry is not None and entry.superseded:\n", "                if False:\n",
     ["features/rag/background_ingestion.feature"]),
    ("the same document queued again is taken for a duplicate", "src/ai_platform/messaging/client.py",
     '{content}\\0{ticket}".encode()', '{content}".encode()', ["features/rag/background_ingestion.feature"]),
    ("a document id outside the alphabet is stored when it comes over NATS", "src/ai_platform/messaging/workers.py",
     "        if not is_valid_id(envelope.data.document_id):", "        if False:",
     ["features/messaging/dead_letters.feature"]),
    ("the gateway passes tool messages to a model it gives no tools", "src/ai_platform/services/gateway.py",
     'role: Literal["system", "user", "assistant"]', 'role: Literal["system", "user", "assistant", "tool"]',
     ["features/security/hostile_input.feature"]),
    ("the RAG service's readiness forgets the database", "src/ai_platform/services/rag.py",
     'checked = {"database": database, GATEWAY: gateway}', "checked = {GATEWAY: gateway}",
     ["features/services/readiness.feature"]),
    ("the query service's readiness ignores the agent service it calls", "src/ai_platform/services/query.py",
     "        return dict(zip((RAG, AGENT), problems, strict=True))", "        return {RAG: problems[0]}",
     ["features/services/readiness.feature"]),
    ("a service stays ready when its NATS connection is lost", "src/ai_platform/services/nats_workers.py",
     "        if self._problem is None and self.bus is not None and not self.bus.nc.is_connected:",
     "        if False:", ["features/services/readiness.feature"]),
    ("a 503 from /ready no longer names the dependencies", "src/ai_platform/services/http.py",
     '{"dependencies": problems})', '{"problems": sorted(problems.values())})',
     ["features/services/readiness.feature"]),
    ("the service-to-service client retries a POST whose connection dropped", "src/ai_platform/services/http.py",
     'attempts = 2 if method == "GET" else 1', "attempts = 2", ["features/services/dependency_failures.feature"]),
    ("the remote gateway and knowledge base retry a call once", "src/ai_platform/services/remote.py",
     "        except httpx.TransportError as exc:\n"
     "            raise unreachable(self.name, exc, self.timeout_s) from None",
     "        except httpx.TransportError:\n            try:\n                response = self._client.request("
     "method, self.base_url + path, json=body, headers=self.caller.headers(), timeout=self.timeout_s)\n"
     "            except httpx.TransportError as exc:\n"
     "                raise unreachable(self.name, exc, self.timeout_s) from None",
     ["features/services/dependency_failures.feature"]),
    ("a dependency's bare 5xx page is a 500", "src/ai_platform/services/http.py",
     "    try:\n        body = response.json()\n    except ValueError:\n        body = {}\n",
     "    body = response.json()\n", ["features/services/dependency_failures.feature"]),
    ("the service-to-service client waits for a slow dependency", "src/ai_platform/services/http.py",
     "httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s)", "httpx.AsyncClient(base_url=self.base_url)",
     ["features/services/dependency_failures.feature"]),
    ("the remote gateway waits for a slow gateway", "src/ai_platform/services/remote.py",
     "headers=self.caller.headers(),\n                                            timeout=self.timeout_s)",
     "headers=self.caller.headers())", ["features/services/dependency_failures.feature"]),
]


def main(chosen: list[int], external: bool = False) -> int:
    caught = 0
    for number, (name, path, original, faulty, features) in enumerate(FAULTS, 1):
        if chosen and number not in chosen:
            continue
        file = Path(path)
        text = file.read_text()
        assert original in text, f"fault {number}: the original text is not in {path}"
        try:
            file.write_text(text.replace(original, faulty, 1))
            behave = ["-D", "allure=off", "-f", "progress", *features]
            command = ["-m", "harness.platform", "external", "--", *behave] if external else ["-m", "behave", *behave]
            run = subprocess.run([sys.executable, *command], capture_output=True, text=True)
        finally:
            file.write_text(text)
        failing = [line.strip() for line in run.stdout.splitlines() if ".feature:" in line and "  " in line]
        verdict = "caught" if run.returncode else "SURVIVED"
        caught += bool(run.returncode)
        print(f"{number}. {name}: {verdict}" + (f" by {failing[0]}" if failing else ""), flush=True)
    return 0 if caught else 1


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(main([int(a) for a in arguments if a.isdigit()], external="--external" in arguments))
