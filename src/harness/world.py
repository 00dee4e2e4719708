"""What one scenario sees: its tenants, its platform configuration, and its cleanup."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

from ai_platform.agents import TenantMismatch
from ai_platform.gateway import GatewayError, GatewaySettings
from ai_platform.messaging import MessagingError
from ai_platform.platform import Platform, PlatformSettings
from ai_platform.rag import ChunkingPolicy, DocumentRejected, RetrievalSettings
from harness.session import PLATFORM_MODEL_NAMES, SuiteSession

# The scripted embedder scores related passages lower than a real model does (about 0.4 to 0.7
# rather than 0.8 and up), so the suite's default threshold is lower than the platform's 0.7.
SCRIPTED_THRESHOLD = 0.3
SCENARIO_TIMEOUT_S = 5.0
# Errors the platform promises to users; Then steps assert on them. Anything else is "broken".
PRODUCT_ERRORS = (DocumentRejected, GatewayError, TenantMismatch, MessagingError)


class Tenants:
    """Names in the specs ("acme") map to ids unique to this scenario, so runs never collide."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self.current = self.id_of("default")

    def id_of(self, name: str) -> str:
        if name not in self._ids:
            self._ids[name] = f"{name}-{uuid.uuid4().hex[:10]}"
        return self._ids[name]

    def all_ids(self) -> list[str]:
        return list(self._ids.values())


class World:
    def __init__(self, session: SuiteSession) -> None:
        self.session = session
        self.tenants = Tenants()
        threshold = SCRIPTED_THRESHOLD if session.scripted else RetrievalSettings().similarity_threshold
        self.retrieval = RetrievalSettings(top_k=5, similarity_threshold=threshold)
        self.chunking = ChunkingPolicy(size=300, overlap=50)
        self.gateway_timeout_s = SCENARIO_TIMEOUT_S
        self.fallbacks: dict[str, list[str]] = {}
        self._platform: Platform | None = None
        self.result = None
        self.error: Exception | None = None
        self.elapsed_s = 0.0

    def attempt(self, action):
        """Run a user action; a product error becomes the outcome that Then steps check.

        Also records how long the action took, for steps about timeouts.
        """
        self.result, self.error = None, None
        began = time.perf_counter()
        try:
            self.result = action()
        except PRODUCT_ERRORS as exc:
            self.error = exc
        finally:
            self.elapsed_s = time.perf_counter() - began
        return self.result

    @property
    def tenant(self) -> str:
        return self.tenants.current

    @property
    def llm(self):
        """The scripted language model's script: answers, faults, journal."""
        return self.session.model_server.script

    @property
    def platform(self) -> Platform:
        if self._platform is None:
            gateway = GatewaySettings(
                deployments=self.session.deployments(),
                chat_model=PLATFORM_MODEL_NAMES["primary"],
                embedding_model=PLATFORM_MODEL_NAMES["embedding"],
                fallbacks=self.fallbacks,
                timeout_s=self.gateway_timeout_s,
            )
            store = self.session.store
            settings = PlatformSettings(store.engine.url.render_as_string(hide_password=False), gateway,
                                        self.session.dimensions, self.chunking, self.retrieval)
            self._platform = Platform(settings, store=store)
        return self._platform

    def configure(self, **changes) -> None:
        """Change the platform's settings; it is rebuilt with them on next use."""
        for name, value in changes.items():
            if name in ("top_k", "similarity_threshold"):
                self.retrieval = replace(self.retrieval, **{name: value})
            elif name in ("size", "overlap"):
                self.chunking = ChunkingPolicy(**{"size": self.chunking.size, "overlap": self.chunking.overlap,
                                                  name: value})
            elif hasattr(self, name):
                setattr(self, name, value)
            else:
                raise AttributeError(f"no platform setting called {name!r}")
        self._platform = None

    def use_fallback(self, primary_role: str = "primary", backup_role: str = "backup") -> None:
        self.configure(fallbacks={PLATFORM_MODEL_NAMES[primary_role]: [PLATFORM_MODEL_NAMES[backup_role]]})

    def cleanup(self) -> None:
        """Remove every row this scenario's tenants made and forget the model's script."""
        if self.session.store_started:
            for tenant_id in self.tenants.all_ids():
                self.session.store.purge_tenant(tenant_id)
        if self.session.model_server_started:
            self.llm.reset()
