"""Containers mode: NATS and pgvector PostgreSQL from testcontainers (needs a Docker engine)."""

from __future__ import annotations

from harness.infra.errors import InfrastructureUnavailable

NATS_IMAGE = "nats:2.10-alpine"
PGVECTOR_IMAGE = "pgvector/pgvector:pg17"


def require_docker() -> None:
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:
        raise InfrastructureUnavailable(
            f"No Docker engine answered ({type(exc).__name__}), so -D infra=containers cannot run "
            "here; use the default embedded mode, or -D infra=external with NATS_URL and DATABASE_URL."
        ) from None


class ContainerNats:
    def __init__(self) -> None:
        self._container = None
        self.url = ""

    def start(self) -> None:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        self._container = DockerContainer(NATS_IMAGE).with_command("-js").with_exposed_ports(4222)
        self._container.start()
        wait_for_logs(self._container, "Server is ready", timeout=30)
        host = self._container.get_container_host_ip()
        self.url = f"nats://{host}:{self._container.get_exposed_port(4222)}"

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None


class ContainerPostgres:
    def __init__(self) -> None:
        self._container = None
        self.url = ""

    def start(self) -> None:
        from testcontainers.postgres import PostgresContainer

        self._container = PostgresContainer(PGVECTOR_IMAGE, driver="psycopg")
        self._container.start()
        self.url = self._container.get_connection_url()

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None
