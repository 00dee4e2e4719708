"""What one scenario sees: its tenants, its drivers, the platform it configured, one outcome.

Steps reach everything through `context.world`. The drivers are declared here and built on first
use; each registers its own cleanup when it creates something. World has `__slots__`, so a step
cannot hang state of its own on it: state lives in the driver that owns it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import import_module
from typing import TYPE_CHECKING, Any

from ai_platform.agents import TenantMismatch
from ai_platform.codec import CodecError
from ai_platform.gateway import GatewayError, GatewaySettings
from ai_platform.messaging import MessagingError
from ai_platform.rag import ChunkingPolicy, DocumentRejected, RetrievalSettings
from harness.drivers.refusal import ServiceRefusal
from harness.platform.environment import LOCAL_SIMILARITY_THRESHOLD
from harness.session import PLATFORM_MODEL_NAMES, SuiteSession

if TYPE_CHECKING:
    from ai_platform.platform import Platform

# The scripted embedder scores related passages lower than a real model does (about 0.4 to 0.7
# rather than 0.8 and up), so the suite's default threshold is lower than the platform's 0.7.
SCRIPTED_THRESHOLD = 0.3
GATEWAY_TIMEOUT_S = 5.0
# Errors the platform promises to users; Then steps assert on them. Anything else is "broken".
PRODUCT_ERRORS = (DocumentRejected, GatewayError, TenantMismatch, MessagingError, CodecError, ServiceRefusal)


class Tenants:
    """Names in the specs ("acme") map to ids unique to this scenario, so runs never collide."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self.current = self.id_of("default")

    def id_of(self, name: str | None = None) -> str:
        """The id of a named tenant; no name means the scenario's default tenant."""
        if name is None:
            return self.current
        if name not in self._ids:
            self._ids[name] = f"{name}-{uuid.uuid4().hex[:10]}"
        return self._ids[name]

    def all_ids(self) -> list[str]:
        return list(self._ids.values())


@dataclass
class Outcome:
    """What the last user action gave: a result, or a product error, and how long it took."""

    result: Any = None
    error: Exception | None = None
    elapsed_s: float = 0.0

    def expect_result(self, what: str):
        """The result, or an assertion that says the action failed when `what` was expected."""
        assert self.error is None, f"expected {what}, the action failed: {type(self.error).__name__}: {self.error}"
        return self.result

    def expect_error(self, what: str) -> Exception:
        assert self.error is not None, f"expected {what}, the action succeeded with {self.result!r}"
        return self.error


@dataclass
class PlatformConfig:
    """The settings a scenario gives the platform it drives; changing one rebuilds it."""

    retrieval: RetrievalSettings
    chunking: ChunkingPolicy = field(default_factory=lambda: ChunkingPolicy(size=300, overlap=50))
    gateway_timeout_s: float = GATEWAY_TIMEOUT_S
    fallbacks: dict[str, list[str]] = field(default_factory=dict)


class Driver:
    """Declares a driver on World: `knowledge_base = Driver("harness.drivers.knowledge_base:KnowledgeBase")`.

    The class is imported and built with the world the first time a step uses it.
    """

    def __init__(self, target: str) -> None:
        self.target = target

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, world: World | None, owner=None):
        if world is None:
            return self
        if self.name not in world._drivers:
            module, cls = self.target.split(":")
            world._drivers[self.name] = getattr(import_module(module), cls)(world)
        return world._drivers[self.name]


class World:
    __slots__ = ("session", "tenants", "outcome", "config", "own_workers", "_add_cleanup", "_drivers", "_platform")

    model = Driver("harness.drivers.model:ScriptedModel")
    knowledge_base = Driver("harness.drivers.knowledge_base:KnowledgeBase")
    agents = Driver("harness.drivers.agents:Agents")
    gateway = Driver("harness.drivers.gateway:GatewayDriver")
    messaging = Driver("harness.drivers.messaging:Messaging")
    codec = Driver("harness.drivers.codec:CodecDriver")
    faults = Driver("harness.drivers.faults:Faults")
    database = Driver("harness.drivers.database:Database")
    evidence = Driver("harness.drivers.evidence:Evidence")
    services = Driver("harness.drivers.services:Services")
    telemetry = Driver("harness.drivers.telemetry:Telemetry")

    def __init__(self, session: SuiteSession, add_cleanup: Callable, *, own_workers: bool = False) -> None:
        self.session = session
        # The scenario hosts the platform's workers itself, on a NATS server of its own (@own-workers).
        self.own_workers = own_workers
        self.tenants = Tenants()
        self.outcome = Outcome()
        threshold = {"scripted": SCRIPTED_THRESHOLD, "local": LOCAL_SIMILARITY_THRESHOLD}.get(
            session.llm_profile, RetrievalSettings().similarity_threshold)
        self.config = PlatformConfig(RetrievalSettings(top_k=5, similarity_threshold=threshold))
        self._add_cleanup = add_cleanup
        self._drivers: dict[str, Any] = {}
        self._platform: Platform | None = None

    def add_cleanup(self, cleanup: Callable, *args) -> None:
        """Run at the end of the scenario, last registered first, whatever its result."""
        self._add_cleanup(cleanup, *args)

    def attempt(self, action: Callable[[], Any]):
        """Run a user action; a product error becomes the outcome that Then steps check.

        Only the action is timed: anything to warm up happens before the call.
        """
        self.outcome = Outcome()
        began = time.perf_counter()
        try:
            self.outcome.result = action()
        except PRODUCT_ERRORS as exc:
            self.outcome.error = exc
        finally:
            self.outcome.elapsed_s = time.perf_counter() - began
        return self.outcome.result

    @property
    def tenant(self) -> str:
        return self.tenants.current

    @property
    def platform(self) -> Platform:
        """The platform under test, built with this scenario's settings on first use."""
        if self._platform is None:
            gateway = GatewaySettings(
                deployments=self.session.deployments(),
                chat_model=PLATFORM_MODEL_NAMES["primary"],
                embedding_model=PLATFORM_MODEL_NAMES["embedding"],
                fallbacks=self.config.fallbacks,
                timeout_s=self.config.gateway_timeout_s,
            )
            from ai_platform.platform import Platform, PlatformSettings  # LiteLLM: only for a scenario that needs it

            store = self.session.store
            settings = PlatformSettings(store.engine.url.render_as_string(hide_password=False), gateway,
                                        self.session.dimensions, self.config.chunking, self.config.retrieval)
            self._platform = Platform(settings, store=store)
        return self._platform

    def configure(self, **changes) -> None:
        """Change the platform's settings; it is rebuilt with them on next use."""
        self._platform = None
        for name, value in changes.items():
            if name in ("top_k", "similarity_threshold"):
                self.config.retrieval = replace(self.config.retrieval, **{name: value})
            elif name in ("size", "overlap"):
                self.config.chunking = replace(self.config.chunking, **{name: value})
            elif name in ("gateway_timeout_s", "fallbacks"):
                setattr(self.config, name, value)
            else:
                raise AttributeError(f"no platform setting called {name!r}")

    def use_fallback(self, primary_role: str = "primary", backup_role: str = "backup") -> None:
        self.configure(fallbacks={PLATFORM_MODEL_NAMES[primary_role]: [PLATFORM_MODEL_NAMES[backup_role]]})

    def nats_url(self) -> str:
        """The NATS server this scenario's components connect to."""
        infra = self.session.infra
        return infra.isolated_nats_url() if self.own_workers else infra.nats_url()

    def cleanup(self) -> None:
        """Remove every row this scenario's tenants made, and forget the model's script.

        The store's purge is what the platform's remove_tenant does (tenant_removal.feature proves it);
        called directly, so a scenario that drove only the services does not build the in-process
        platform, and import LiteLLM, just to clean up.
        """
        if self.session.store_started:
            for tenant_id in self.tenants.all_ids():
                self.session.store.purge_tenant(tenant_id)
        journal = self.session.model_journal  # the scripted model's script, or the local profile's journal
        if journal is not None:
            journal.reset()
