"""Infrastructure faults a scenario plays: NATS stopped or restarted, a link cut, slowed or broken.

Every fault is healed in the scenario's cleanup, registered when the fault is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from harness.faults import LinkProxy
from harness.faults.nats_server import restart_nats, start_nats, stop_nats

if TYPE_CHECKING:
    from harness.world import World


class Faults:
    def __init__(self, world: World) -> None:
        self._world = world
        self._proxy: LinkProxy | None = None
        self.links: dict[str, LinkProxy] = {}  # links to a dependency, by the name the platform gives it

    def restart_nats(self) -> None:
        restart_nats(self._world, self._world.add_cleanup)

    def stop_nats(self) -> None:
        stop_nats(self._world, self._world.add_cleanup)

    def start_nats(self) -> None:
        """The stopped server starts again, on its port, with its store (stop_nats made it heal anyway)."""
        start_nats(self._world)

    def link_to_nats(self) -> str:
        """A link to NATS that can be cut or slowed; its URL is what a component connects to."""
        target = urlsplit(self._world.nats_url())
        self._proxy = LinkProxy(target.hostname, target.port).start()
        self._world.add_cleanup(self._proxy.close)
        return self._proxy.url()

    @property
    def link(self) -> LinkProxy:
        assert self._proxy is not None, "this scenario has no link that can be cut; add one in a Given"
        return self._proxy

    def link_to(self, dependency: str, url: str) -> str:
        """A link that can be cut or broken between a component and the dependency at `url` (HTTP, NATS or a
        PostgreSQL URL, whose Unix socket it reaches): the URL to give the component instead, credentials kept."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        socket_dir = query.get("host", "")
        if socket_dir.startswith("/"):  # PostgreSQL on a Unix socket (embedded): the link reaches it there
            port = query.pop("port", None) or parts.port or 5432
            query.pop("host")
            proxy = LinkProxy(unix_path=f"{socket_dir}/.s.PGSQL.{port}")
        else:
            proxy = LinkProxy(parts.hostname or "127.0.0.1", parts.port or {"https": 443}.get(parts.scheme, 80))
        proxy.start()
        self._world.add_cleanup(proxy.close)
        self.links[dependency] = proxy
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@{proxy.host}:{proxy.port}" if user else f"{proxy.host}:{proxy.port}"
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))

    def link_of(self, dependency: str) -> LinkProxy:
        assert dependency in self.links, (
            f"this scenario has no link to {dependency} that can be cut; it has links to {sorted(self.links)}")
        return self.links[dependency]

    def break_link(self, dependency: str, how: str, *, seconds: float = 0.0) -> None:
        """The dependency, as its caller meets it: unreachable, answering a bare 500 of its own (as a crashed
        server behind a load balancer does), dropping the connection once a request has arrived (the request is
        served, its answer lost), or answering only after `seconds`. Healed when the link closes in cleanup."""
        link = self.link_of(dependency)
        if how == "unreachable":
            link.cut()
        elif how == "bare 500":
            link.answer_raw(BARE_500)
        elif how == "answer lost":
            link.drop_replies()
        elif how == "slow":
            link.add_latency(seconds / 2)  # each way: the request arrives late, its answer later still
        else:
            raise AssertionError(f"no way of breaking a link called {how!r}")


BARE_500 = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: 53\r\n"
            b"Connection: close\r\n\r\n<html><body><h1>500 Internal Error</h1></body></html>")
