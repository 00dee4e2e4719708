"""Containers mode: NATS (JetStream, the bus authorization) and PostgreSQL with pgvector from testcontainers.

Each container starts once per run, on first use, published on 127.0.0.1 only, and is awaited with
testcontainers' own wait strategies. Ryuk (testcontainers' reaper) is off, since its image cannot be pulled
everywhere: every container carries the run's label (RUN_LABEL, the owner's pid and start time), the run record
lists it, and the next run removes whatever a killed run left (reap_stale_containers).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from harness.infra import images
from harness.infra.errors import InfrastructureUnavailable
from harness.infra.nats_auth import BusCredentials
from harness.infra.processes import RunRecord, owner_alive
from harness.waiting import scaled

RUN_LABEL = images.RUN_LABEL
READY_BUDGET_S = 60.0  # a container's wait strategy, scaled by -D timeout_scale
POLL_S = 0.05
NATS_PORT, NATS_MONITOR_PORT, POSTGRES_PORT = 4222, 8222, 5432
NATS_CONFIG = "/etc/nats/suite.conf"
LOOPBACK = "127.0.0.1"
DEFAULT_SOCKET = "/var/run/docker.sock"
ENGINE_INSTALL = "apt-get install -y docker.io, then start dockerd"


def configure_testcontainers() -> None:
    """Ryuk off (this run removes its own containers, the next run a killed one's), and the published ports
    reached on loopback, where they are bound (testcontainers would guess the bridge's gateway when this
    machine looks like a container itself)."""
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    testcontainers_config.ryuk_disabled = True
    testcontainers_config.tc_host_override = LOOPBACK
    testcontainers_config.connection_mode_override = ConnectionMode.docker_host


def engine_client(environ: Mapping[str, str] = os.environ):
    """A client of the Docker engine that answers, or InfrastructureUnavailable in one sentence."""
    import docker

    host = environ.get("DOCKER_HOST", "")
    where = host or f"unix://{DEFAULT_SOCKET}"
    if not host and not Path(DEFAULT_SOCKET).exists():
        installed = _engine_installed()
        if not installed:
            raise InfrastructureUnavailable(
                f"-D infra=containers needs a Docker engine, and this machine has none (no {DEFAULT_SOCKET}, "
                f"DOCKER_HOST unset, no dockerd): {ENGINE_INSTALL}, or run without -D infra=containers")
        raise InfrastructureUnavailable(
            f"the Docker engine is installed but not running (no {DEFAULT_SOCKET}): start it (dockerd as root, "
            f"or systemctl start docker), or run without -D infra=containers")
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:
        raise InfrastructureUnavailable(
            f"the Docker engine at {where} does not answer ({_engine_cause(exc)}): start it (dockerd as "
            f"root, or systemctl start docker), or run without -D infra=containers") from None
    return client


ENGINE_CAUSES = (("Connection refused", "connection refused"), ("No such file", "no socket there"),
                 ("Permission denied", "permission denied: run as root or in the docker group"),
                 ("timed out", "timed out"), ("Name or service not known", "unknown host"))


def _engine_cause(error: BaseException) -> str:
    """What went wrong reaching the engine, in a few words (the client wraps it in several layers)."""
    text = str(error)
    for sign, cause in ENGINE_CAUSES:
        if sign in text:
            return cause
    return images.short_reason(error)[:120]


def _engine_installed() -> bool:
    from shutil import which

    return which("dockerd") is not None


def select_images(client, userdata: Mapping[str, str], environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The NATS and PostgreSQL images of the run (see harness.infra.images.resolve), checked before any scenario."""

    def present(image: str) -> bool:
        import docker.errors

        try:
            client.images.get(image)
            return True
        except docker.errors.ImageNotFound:
            return False

    def pull(image: str) -> str | None:
        try:
            client.images.pull(image)
            return None
        except Exception as exc:
            return images.short_reason(exc)

    return {setting.userdata_key: images.resolve(setting, images.chosen(setting, userdata, environ), present, pull)
            for setting in images.SETTINGS}


def run_label(record: RunRecord) -> dict[str, str]:
    owner = record.owner
    return {RUN_LABEL: f"{owner['pid']}:{owner['create_time']!r}"}


def reap_stale_containers(client) -> list[str]:
    """Remove every container, network and volume of the suite's whose run is gone (a kill -9 leaves them)."""
    removed = []
    listed = [("container", item, item.attrs.get("Config", {}).get("Labels"))
              for item in client.containers.list(all=True, filters={"label": RUN_LABEL})]
    listed += [(kind, item, item.attrs.get("Labels"))
               for kind, collection in (("network", client.networks), ("volume", client.volumes))
               for item in collection.list(filters={"label": RUN_LABEL})]
    for kind, item, labels in listed:  # containers first: a network or volume in use cannot go
        if _run_alive((labels or {}).get(RUN_LABEL, "")):
            continue
        try:
            item.remove(force=True, v=True) if kind == "container" else item.remove()
            removed.append(f"{kind} {item.name}")
        except Exception:  # another run removed it first: nothing is left to do
            continue
    return removed


def remove_containers(ids: list[str]) -> None:
    """Remove the listed containers, with their anonymous volumes (the reaper of a stale run record)."""
    import docker.errors

    import docker

    try:
        client = docker.from_env(timeout=10)
    except docker.errors.DockerException:
        return  # no engine now: reap_stale_containers removes them once one answers
    for container_id in ids:
        try:
            client.containers.get(container_id).remove(force=True, v=True)
        except docker.errors.NotFound:
            continue


def _run_alive(label: str) -> bool:
    pid, _, started = label.partition(":")
    try:
        return owner_alive({"pid": int(pid), "create_time": float(started)})
    except ValueError:
        return False


class _Container:
    """One testcontainers container of the run: labelled, recorded, on loopback, removed in stop()."""

    def __init__(self, record: RunRecord, image: str) -> None:
        self._record = record
        self.image = image
        self._container = None

    def _launch(self, container, ports: tuple[int, ...]) -> None:
        # Published on loopback only; the engine picks the host port.
        container.ports.update({f"{port}/tcp": (LOOPBACK, None) for port in ports})
        container.with_kwargs(labels=run_label(self._record))
        self._container = container
        try:
            container.start()
        except BaseException:
            self.stop()
            raise
        finally:
            wrapped = container._container  # created (or not) by start(): recorded before anything else can fail
            if wrapped is not None:
                self._record.add_container(wrapped.id)

    def port(self, port: int) -> int:
        return int(self._container.get_exposed_port(port))

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is None or container._container is None:
            return
        container_id = container._container.id
        try:
            container.stop()  # removes it, with its anonymous volumes
        finally:
            self._record.forget_container(container_id)


class ContainerNats(_Container):
    """nats-server with JetStream and the bus authorization of CONTRACTS.md, as embedded mode starts it."""

    def __init__(self, record: RunRecord, image: str, credentials: BusCredentials) -> None:
        super().__init__(record, image)
        self.credentials = credentials
        self.url = ""

    def start(self) -> None:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.wait_strategies import CompositeWaitStrategy, HttpWaitStrategy, LogMessageWaitStrategy

        config = self.credentials.server_config("0.0.0.0", NATS_PORT, "/tmp/jetstream") + \
            f"http_port: {NATS_MONITOR_PORT}\n"
        ready = CompositeWaitStrategy(
            LogMessageWaitStrategy("Server is ready"),
            HttpWaitStrategy(NATS_MONITOR_PORT, "/healthz?js-enabled-only=true").for_status_code(200),
        ).with_startup_timeout(int(scaled(READY_BUDGET_S))).with_poll_interval(POLL_S)
        container = (DockerContainer(self.image).with_command(["-c", NATS_CONFIG])
                     .with_copy_into_container(config.encode(), NATS_CONFIG, 0o644).waiting_for(ready))
        self._launch(container, (NATS_PORT, NATS_MONITOR_PORT))
        self.url = self.credentials.service_url(LOOPBACK, self.port(NATS_PORT))


class ContainerPostgres(_Container):
    """PostgreSQL with pgvector (the platform creates the extension), with a password of the run's."""

    USER = DATABASE = "suite"

    def __init__(self, record: RunRecord, image: str) -> None:
        super().__init__(record, image)
        self._password = secrets.token_urlsafe(16)
        self.url = ""

    def start(self) -> None:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.wait_strategies import CompositeWaitStrategy, ExecWaitStrategy, PortWaitStrategy

        # Over TCP inside the container: the official image's first-start server listens on its socket only.
        ready = CompositeWaitStrategy(
            ExecWaitStrategy(["pg_isready", "-h", LOOPBACK, "-U", self.USER, "-d", self.DATABASE]),
            PortWaitStrategy(POSTGRES_PORT),
        ).with_startup_timeout(int(scaled(READY_BUDGET_S))).with_poll_interval(POLL_S)
        container = (DockerContainer(self.image)
                     .with_env("POSTGRES_USER", self.USER).with_env("POSTGRES_PASSWORD", self._password)
                     .with_env("POSTGRES_DB", self.DATABASE).waiting_for(ready))
        self._launch(container, (POSTGRES_PORT,))
        self.url = (f"postgresql+psycopg://{self.USER}:{self._password}@{LOOPBACK}:{self.port(POSTGRES_PORT)}"
                    f"/{self.DATABASE}")
