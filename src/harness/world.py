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
from typing import Any

from ai_contract.codec import CodecError
from ai_contract.errors import MessagingError
from harness.drivers.refusal import ServiceRefusal
from harness.platform.environment import (
    CHUNK_OVERLAP,
    CHUNK_SIZE,
    PLATFORM_MODEL_NAMES,
    PLATFORM_SIMILARITY_THRESHOLD,
    SIMILARITY_THRESHOLDS,
)
from harness.session import SuiteSession

# Errors the platform promises to users; Then steps assert on them. Anything else is "broken".
PRODUCT_ERRORS = (MessagingError, CodecError, ServiceRefusal)


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

    def names(self) -> list[str]:
        """The names the scenario gave its tenants ("default" is the scenario's own)."""
        return list(self._ids)


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
class Retrieval:
    """What a caller asks the knowledge base with, in every request."""

    top_k: int
    similarity_threshold: float | None  # None: not sent, the deployment's own applies


@dataclass
class PlatformConfig:
    """The scenario's settings: the caller's (sent in requests) and the operator's (the services' deployment,
    see Services._deployment); changing an operator setting deploys services configured with it."""

    retrieval: Retrieval
    chunk_size: int = CHUNK_SIZE
    chunk_overlap: int = CHUNK_OVERLAP
    gateway_timeout_s: float | None = None  # None: the deployment's own
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
    __slots__ = ("session", "tenants", "outcome", "config", "own_workers", "stops_services", "step_type",
                 "_add_cleanup", "_drivers")

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
    bus_permissions = Driver("harness.drivers.bus_permissions:BusPermissions")
    hostile = Driver("harness.drivers.hostile:HostileClient")
    fuzzing = Driver("harness.drivers.fuzzing:Fuzzing")
    holdings = Driver("harness.drivers.holdings:Holdings")

    def __init__(self, session: SuiteSession, add_cleanup: Callable, *, own_workers: bool = False,
                 stops_services: bool = False) -> None:
        self.session = session
        # The scenario hosts the platform's workers itself, on a NATS server of its own (@own-workers).
        self.own_workers = own_workers
        # The scenario stops services (@service-control): on instances of its own, never the shared ones.
        self.stops_services = stops_services
        self.tenants = Tenants()
        self.step_type = "given"  # of the step running now (before_step): a Given sets the stage, it is no action
        self.outcome = Outcome()
        threshold = SIMILARITY_THRESHOLDS.get(session.llm_profile, PLATFORM_SIMILARITY_THRESHOLD)
        self.config = PlatformConfig(Retrieval(top_k=5, similarity_threshold=threshold))
        self._add_cleanup = add_cleanup
        self._drivers: dict[str, Any] = {}

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

    def configure(self, **changes) -> None:
        """Change a setting: a caller's goes with the next request, an operator's deploys services with it."""
        for name, value in changes.items():
            if name in ("top_k", "similarity_threshold"):
                self.config.retrieval = replace(self.config.retrieval, **{name: value})
            elif name in ("chunk_size", "chunk_overlap", "gateway_timeout_s", "fallbacks"):
                setattr(self.config, name, value)
            else:
                raise AttributeError(f"no platform setting called {name!r}")

    def use_fallback(self, primary_role: str = "primary", backup_role: str = "backup") -> None:
        self.configure(fallbacks={PLATFORM_MODEL_NAMES[primary_role]: [PLATFORM_MODEL_NAMES[backup_role]]})

    def nats_url(self) -> str:
        """The NATS server this scenario's components connect to: the run's, or (@own-workers) one of the
        scenario's own, fresh, so no consumer, stream or message of an earlier scenario is there."""
        infra = self.session.infra
        if not self.own_workers:
            return infra.nats_url()
        if infra.isolated_nats is None:
            self.add_cleanup(infra.discard_isolated_nats)  # registered first: runs after its users stopped
        return infra.isolated_nats_url()

    def cleanup(self) -> None:
        """Forget the model's script; the scenario's tenants are removed by the drivers that made them,
        through the platform's operator API."""
        journal = self.session.model_journal  # the scripted model's script, or the local profile's journal
        if journal is not None:
            journal.reset()
