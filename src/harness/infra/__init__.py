"""Infrastructure providers: embedded (default), containers, external.

Servers start lazily, once per run, when the first step needs them, and stop in close().
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path

from harness.infra.errors import ConfigurationError, InfrastructureUnavailable
from harness.infra.nats_auth import BusCredentials
from harness.infra.processes import RunRecord, install_exit_guards
from harness.infra.reaper import reap_stale_runs

MODES = ("embedded", "containers", "external")


def select_mode(userdata: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> str:
    mode = userdata.get("infra")
    if mode is None:
        mode = "external" if environ.get("NATS_URL") or environ.get("DATABASE_URL") else "embedded"
    if mode not in MODES:
        raise ConfigurationError(f"-D infra={mode} is not known; choose {', '.join(MODES[:-1])} or {MODES[-1]}")
    return mode


class Infrastructure:
    """The servers of one run. Ask for a URL and the server behind it starts if needed."""

    def __init__(self, mode: str, environ: Mapping[str, str] = os.environ,
                 userdata: Mapping[str, str] | None = None) -> None:
        self.mode = mode
        self.startup_seconds: dict[str, float] = {}
        self._started: set[str] = set()
        self._failed: dict[str, Exception] = {}  # a server that could not start: later askers get its error at once
        self._pending: dict[str, Future] = {}  # servers starting in the background (see database_url)
        self.reaped = reap_stale_runs()
        self.record = RunRecord()
        self.isolated_nats = None  # made on first use: see isolated_nats_url()
        self.images: dict[str, str] = {}  # containers mode: the image of each server
        self.adopted = False  # whether the servers are a warm platform's (harness.infra.warm)
        self.bus_credentials = BusCredentials.fresh()  # the suite's NATS servers' service user and issuer
        install_exit_guards(self.close)
        if mode == "embedded":
            from harness.infra.embedded import EmbeddedNats, EmbeddedPostgres

            root = self.record.new_temp_dir()
            self.nats = EmbeddedNats(self.record, root, self.bus_credentials)
            self.postgres = EmbeddedPostgres(self.record, root)
        elif mode == "containers":
            from harness.infra import containers

            try:  # each way this cannot work is one sentence, before any scenario
                client = containers.engine_client(environ)
                self.reaped += containers.reap_stale_containers(client)
                self.images = containers.select_images(client, userdata or {}, environ)
            except InfrastructureUnavailable:
                self.record.close()
                raise
            containers.configure_testcontainers()
            self.nats = containers.ContainerNats(self.record, self.images["nats_image"], self.bus_credentials)
            self.postgres = containers.ContainerPostgres(self.record, self.images["postgres_image"])
        else:
            from harness.infra.external import ExternalServer

            self.nats = ExternalServer(environ.get("NATS_URL", "nats://127.0.0.1:4222"))
            self.postgres = ExternalServer(_sqlalchemy_url(environ.get("DATABASE_URL", "")))

    @property
    def owns_nats(self) -> bool:
        """The run started the NATS server (embedded or containers): it trusts the run's bus credentials."""
        return self.mode != "external"

    @property
    def can_control_nats(self) -> bool:
        """Only embedded NATS can be stopped and restarted by a scenario."""
        return self.mode == "embedded"

    def nats_url(self) -> str:
        self._ensure("nats", self.nats)
        return self.nats.url

    def isolated_nats_url(self) -> str:
        """A NATS server where no platform service listens, for scenarios that host their own workers.

        Embedded in every mode (the nats-server wheel), so such a scenario can always stop and restart it.
        """
        if self.isolated_nats is None:
            from harness.infra.embedded import EmbeddedNats

            self.isolated_nats = EmbeddedNats(self.record, self.record.new_temp_dir(), self.bus_credentials)
        self._ensure("isolated_nats", self.isolated_nats)
        return self.isolated_nats.url

    def discard_isolated_nats(self) -> None:
        """Stop the isolated server and drop its store: the next scenario that asks gets a fresh one."""
        if self.isolated_nats is not None:
            self.isolated_nats.stop()
            self._started.discard("isolated_nats")
            self.isolated_nats = None

    def database_url(self, *, wait: bool = True) -> str:
        """PostgreSQL's URL, once it accepts connections; with wait=False, at once where the URL is known before
        the server starts (embedded): it starts in the background, and the services that read the URL start
        meanwhile (their /ready names the database until it answers)."""
        if self.mode == "external" and not self.postgres.url:
            raise InfrastructureUnavailable("external mode needs DATABASE_URL for scenarios that use PostgreSQL")
        if wait or self.mode != "embedded":
            self._ensure("postgres", self.postgres)
        else:
            self._begin("postgres", self.postgres)
        return self.postgres.url

    def start_failure(self) -> BaseException | None:
        """Why a server started in the background did not come up, if one did not (once it has ended)."""
        for future in self._pending.values():
            if future.done() and future.exception() is not None:
                return future.exception()
        return None

    # The warm platform (harness.infra.warm) -------------------------------------------------------------

    def warm_state(self) -> dict | None:
        """What a warm record needs to adopt this run's servers later; None unless both run, embedded, here."""
        if self.mode != "embedded" or self.start_failure() is not None:
            return None
        if not (self.nats.running and self.postgres.running and self.nats.root == self.postgres.root):
            return None
        return {"root": str(self.nats.root), "nats_port": self.nats.port,
                "bus": {"service_password": self.bus_credentials.service_password,
                        "issuer_seed": self.bus_credentials.issuer_seed},
                "processes": [self._identity(self.postgres.pid, "postgres"),
                              self._identity(self.nats.pid, "nats-server")]}

    def adopt(self, data: dict) -> None:
        """Take the warm record's servers as this run's: in its record (a killed run's are reaped), started."""
        from harness.infra.embedded import EmbeddedNats, EmbeddedPostgres
        from harness.infra.nats_auth import BusCredentials

        for proc in data["processes"]:
            self.record.add_process(proc["pid"], proc["name"])
        for path in data["temp_dirs"]:
            self.record.add_temp_dir(Path(path))
        state = data["infra"]
        root = Path(state["root"])
        self.bus_credentials = BusCredentials(**state["bus"])
        by_name = {proc["name"]: proc["pid"] for proc in data["infra"]["processes"]}
        self.nats = EmbeddedNats(self.record, root, self.bus_credentials)
        self.nats.adopt(state["nats_port"], by_name["nats-server"])
        self.postgres = EmbeddedPostgres(self.record, root)
        self.postgres.adopt(by_name["postgres"])
        self._started.update({"nats", "postgres"})
        self.adopted = True

    def hand_over(self) -> None:
        """The servers now belong to the warm record: close() leaves them running."""
        for server in (self.nats, self.postgres):
            self.record.forget_process(server.pid)
        self.record.forget_temp_dir(self.nats.root)
        self._started -= {"nats", "postgres"}

    def discard_adopted(self) -> None:
        """Stop adopted servers that turned out unusable and start afresh: new servers, new credentials."""
        from harness.infra.embedded import EmbeddedNats, EmbeddedPostgres

        for name in ("nats", "postgres"):
            if name in self._started:
                getattr(self, name).stop()
                self._started.discard(name)
        self.bus_credentials = BusCredentials.fresh()
        root = self.record.new_temp_dir()
        self.nats = EmbeddedNats(self.record, root, self.bus_credentials)
        self.postgres = EmbeddedPostgres(self.record, root)
        self.adopted = False

    @staticmethod
    def _identity(pid: int | None, name: str) -> dict:
        import psutil

        return {"pid": pid, "create_time": psutil.Process(pid).create_time(), "name": name}

    def close(self) -> None:
        for future in self._pending.values():  # a start under way ends (its process is in the record) first
            future.exception()
        self._pending.clear()
        for name in sorted(self._started):  # each name is the attribute that holds the server
            self.record.on_close(getattr(self, name).stop)
        self._started.clear()
        self.record.close()

    def _ensure(self, name: str, server) -> None:
        if name in self._pending:
            self._pending[name].result()  # raises what the background start raised, on every ask
            return
        if name in self._failed and self.mode == "containers":  # a container's wait runs out slowly: once per run
            raise InfrastructureUnavailable(f"{name} did not start earlier in this run: {self._failed[name]}")
        if name in self._started:
            return
        self._timed_start(name, server)

    def _begin(self, name: str, server) -> None:
        """Start the server in a thread of its own, once; _ensure waits for it."""
        if name in self._started or name in self._pending:
            return
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(1, thread_name_prefix=f"start-{name}")
        self._pending[name] = pool.submit(self._timed_start, name, server)
        pool.shutdown(wait=False)  # its thread ends with the start

    def _timed_start(self, name: str, server) -> None:
        began = time.perf_counter()
        self._started.add(name)  # before start(): close() stops what a failed or interrupted start left
        try:
            server.start()
        except Exception as exc:
            self._failed[name] = exc
            raise
        self.startup_seconds[name] = time.perf_counter() - began


def _sqlalchemy_url(url: str) -> str:
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


__all__ = ["ConfigurationError", "Infrastructure", "InfrastructureUnavailable", "select_mode", "MODES"]
