"""What lives for the whole run: infrastructure, the language model, the shared store."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ai_platform.gateway import Deployment
from ai_platform.store import Store
from harness.infra import Infrastructure, select_mode
from harness.llm import ScriptedModelServer
from harness.loop import BackgroundLoop
from harness.platform import ServiceFleet, ServiceProcess, service_environment
from harness.reporting import register_secret
from harness.waiting import set_scale

SCRIPTED_API_KEY = "sk-scripted-not-a-real-key"
# Model roles in the specs, and the provider model names the scripted server sees.
SCRIPTED_MODELS = {"primary": "scripted-primary", "backup": "scripted-backup", "embedding": "scripted-embedding"}
PLATFORM_MODEL_NAMES = {"primary": "chat", "backup": "chat-backup", "embedding": "embedding"}
PLATFORM_MODES = ("embedded", "external")
# Where an external platform's services listen, by service.
SERVICE_URL_VARIABLES = {"gateway": "GATEWAY_SERVICE_URL", "rag": "RAG_SERVICE_URL", "agent": "AGENT_SERVICE_URL",
                         "query": "QUERY_SERVICE_URL"}
SCRIPTED_DIMENSIONS = 384
LIVE_DIMENSIONS = 1536


class SuiteSession:
    def __init__(self, userdata: Mapping[str, str]) -> None:
        self.platform_mode = userdata.get("platform", "embedded")
        if self.platform_mode not in PLATFORM_MODES:
            raise ValueError(f"unknown platform mode {self.platform_mode!r}; choose {' or '.join(PLATFORM_MODES)}")
        self.llm_profile = userdata.get("llm", "scripted")
        if self.llm_profile not in ("scripted", "live"):
            raise ValueError(f"unknown llm profile {self.llm_profile!r}; choose scripted or live")
        set_scale(float(userdata.get("timeout_scale", 1)))
        self.infra = Infrastructure(select_mode(userdata))
        self.dimensions = SCRIPTED_DIMENSIONS if self.scripted else LIVE_DIMENSIONS
        self._model_server: ScriptedModelServer | None = None
        self._store: Store | None = None
        self._loop: BackgroundLoop | None = None
        self._services: PlatformServices | None = None
        register_secret(SCRIPTED_API_KEY)
        for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LIVE_API_KEY"):
            register_secret(os.environ.get(name))

    @property
    def scripted(self) -> bool:
        return self.llm_profile == "scripted"

    @property
    def model_server(self) -> ScriptedModelServer:
        if not self.scripted:
            raise RuntimeError("this scenario needs the scripted language model, but -D llm=live is selected")
        if self._model_server is None:
            self._model_server = ScriptedModelServer(dimensions=self.dimensions).start()
        return self._model_server

    def deployments(self) -> tuple[Deployment, ...]:
        if self.scripted:
            base = self.model_server.base_url
            return tuple(
                Deployment(PLATFORM_MODEL_NAMES[role], f"openai/{SCRIPTED_MODELS[role]}", base, SCRIPTED_API_KEY)
                for role in ("primary", "backup", "embedding")
            )
        chat = os.environ.get("LIVE_CHAT_MODEL", "openai/gpt-4o-mini")
        return (
            Deployment("chat", chat),
            Deployment("chat-backup", os.environ.get("LIVE_BACKUP_MODEL", chat)),
            Deployment("embedding", os.environ.get("LIVE_EMBEDDING_MODEL", "openai/text-embedding-3-small")),
        )

    @property
    def store(self) -> Store:
        if self._store is None:
            store = Store(self.infra.database_url(), self.dimensions)
            store.create_schema()
            self._store = store
        return self._store

    @property
    def loop(self) -> BackgroundLoop:
        if self._loop is None:
            self._loop = BackgroundLoop()
        return self._loop

    @property
    def services(self) -> PlatformServices:
        """The platform's HTTP services, each started on first use."""
        if self._services is None:
            self._services = PlatformServices(self)
        return self._services

    @property
    def model_server_started(self) -> bool:
        return self._model_server is not None

    @property
    def store_started(self) -> bool:
        return self._store is not None

    def close(self) -> None:
        try:
            if self._services is not None:  # before what they depend on, so they stop quietly
                self._services.close()
            if self._loop is not None:
                self._loop.close()
            if self._store is not None:
                self._store.close()
            if self._model_server is not None:
                self._model_server.close()
        finally:
            self.infra.close()


class PlatformServices:
    """The platform's services: embedded, this run starts them, one instance per configuration, on
    first use; external, they are where the environment says (`GATEWAY_SERVICE_URL` and the like)."""

    def __init__(self, session: SuiteSession) -> None:
        self._session = session
        self._fleet = ServiceFleet(session.infra.record)

    def url(self, name: str, overrides: dict[str, str] | None = None) -> str:
        if self._session.platform_mode == "external":
            if overrides:
                raise RuntimeError(f"this scenario deploys the {name} service with {sorted(overrides)}, which an "
                                   "external platform cannot do: tag it @service-control")
            variable = SERVICE_URL_VARIABLES[name]
            url = os.environ.get(variable, "").strip()
            if not url:
                raise RuntimeError(f"-D platform=external needs {variable}: where the {name} service listens")
            return url.rstrip("/")
        return self.process(name, overrides).url

    def process(self, name: str, overrides: dict[str, str] | None = None) -> ServiceProcess:
        """The service's process (started, with what it calls, if it is not running)."""
        if self._session.platform_mode == "external":
            raise RuntimeError(f"the {name} service of an external platform cannot be started or stopped here")
        env = service_environment(self._session, overrides=overrides)
        return self._fleet.start([name], env)[name]

    def close(self) -> None:
        self._fleet.close()
